#!/usr/bin/env bash
# Installs the Debian packages named (apt-get, as make bench does for wrk) unless they are
# installed already; when that is impossible (not root, no package lists reachable), stops
# with a message naming them. Used by make targets and .ci/run:
#     scripts/debian_packages.sh nginx pgbouncer
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0
echo "Installing Debian's ${missing[*]}"
if [[ $(id -u) -ne 0 ]] || ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; }; then
  echo "This needs Debian's ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again." >&2
  exit 1
fi
