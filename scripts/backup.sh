#!/usr/bin/env bash
# Back up the blog's PostgreSQL database to one file (pg_dump's custom format:
# compressed, restorable table by table, in parallel, with pg_restore).
#   scripts/backup.sh DATABASE_URL [FILE]     (default FILE: blog-<UTC time>.dump)
# The dump is consistent (one snapshot) and taken while the site runs; it holds no
# ownership or privileges, so it restores into a database owned by any role.
set -euo pipefail
url=${1:?usage: scripts/backup.sh DATABASE_URL [FILE]}
file=${2:-blog-$(date -u +%Y%m%dT%H%M%SZ).dump}
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$file.partial" "$url"
# Renamed only when complete: a file with the final name is always a whole dump.
mv "$file.partial" "$file"
echo "$file"
