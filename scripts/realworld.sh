#!/usr/bin/env bash
# The RealWorld (Conduit) conformance suite against a live, production-like server:
# a throwaway PostgreSQL database, migrations, gunicorn with the production settings on
# 127.0.0.1, then every folder of the Bruno collection run on its own with @usebruno/cli
# (as the suite's README says). Prints a summary; exits non-zero if any request or
# assertion failed. gunicorn is always stopped and the database dropped.
#
# Environment (all optional):
#   REALWORLD_SUITE  the suite (default: ../shared/realworld beside the repository)
#   REALWORLD_PORT   gunicorn's port (default 8150)
#   REALWORLD_DB     the throwaway database, dropped and recreated (default blog_g_rw)
#   REALWORLD_PG     PostgreSQL server URL without a database (default postgres://postgres@127.0.0.1:5432)
#   REALWORLD_CACHE  where the Bruno CLI is installed, outside the repository
#                    (default ${XDG_CACHE_HOME:-~/.cache}/blog-realworld)
#   REALWORLD_KEEP_DB=1  keep the database afterwards (to look at what the suite wrote)
#   REALWORLD_FOLDERS    space-separated folders to run (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

suite=${REALWORLD_SUITE:-$root/../shared/realworld}
port=${REALWORLD_PORT:-8150}
db=${REALWORLD_DB:-blog_g_rw}
pg=${REALWORLD_PG:-postgres://postgres@127.0.0.1:5432}
cache=${REALWORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blog-realworld}
bru_version=4.1.0
host="http://127.0.0.1:$port"

[ -d "$suite/bruno" ] || { echo "realworld: no Bruno collection at $suite/bruno" >&2; exit 2; }
case $cache in "$root"/*) echo "realworld: REALWORLD_CACHE must be outside the repository" >&2; exit 2 ;; esac

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${REALWORLD_KEEP_DB:-0}" != 1 ]; then
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> [${SECONDS}s] Bruno CLI $bru_version in $cache"
bru="$cache/node_modules/.bin/bru"
installed=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$cache/node_modules/@usebruno/cli/package.json" 2>/dev/null || true)
if [ "$installed" != "$bru_version" ] || [ ! -x "$bru" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "@usebruno/cli@$bru_version" >/dev/null
fi

echo "==> [${SECONDS}s] Database $db (throwaway)"
psql -q -v ON_ERROR_STOP=1 "$pg/postgres" \
  -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" >/dev/null

# Production settings: a throwaway secret, plain HTTP on loopback, and an auth throttle the
# suite's sign-ups and logins (a few dozen a minute from one address) stay well under.
export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL="$pg/$db"
DJANGO_SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=false
export DJANGO_AUTH_THROTTLE_RATE=10000/minute
export DJANGO_LOG_LEVEL=WARNING

echo "==> [${SECONDS}s] Migrate"
.venv/bin/python manage.py migrate --noinput >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }

echo "==> [${SECONDS}s] gunicorn on $host"
.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
  --timeout 30 --graceful-timeout 5 >"$work/gunicorn.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null --max-time 2 "$host/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/gunicorn.log" >&2; echo "realworld: gunicorn died" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null --max-time 2 "$host/healthz" || { cat "$work/gunicorn.log" >&2; exit 1; }

echo "==> [${SECONDS}s] Suite: $suite/bruno"
status=0
cd "$suite/bruno"
for dir in */; do
  folder=${dir%/}
  [ "$folder" = environments ] && continue
  if [ -n "${REALWORLD_FOLDERS:-}" ] && [[ " $REALWORLD_FOLDERS " != *" $folder "* ]]; then continue; fi
  echo "--- $folder"
  if ! timeout 300 "$bru" run "$folder" --env local --env-var "host=$host" --sandbox safe \
    --reporter-json "$work/$folder.json" >"$work/$folder.log" 2>&1; then
    status=1
    cat "$work/$folder.log"
  fi
done
cd "$root"

echo "==> [${SECONDS}s] Summary"
if ! .venv/bin/python - "$work" <<'PY'; then status=1; fi
import json
import pathlib
import sys

totals = {"requests": 0, "failed_requests": 0, "assertions": 0, "failed_assertions": 0, "tests": 0, "failed_tests": 0}
failures = []
for report in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    for run in json.loads(report.read_text()):
        for result in run.get("results", []):
            name = f"{report.stem}/{result.get('test', {}).get('filename', '?')}"
            asserts = result.get("assertionResults") or []
            # expect() in the .bru scripts: a failure shows up as a failed script result.
            tests = [
                *(result.get("testResults") or []),
                *(result.get("preRequestTestResults") or []),
                *(result.get("postResponseTestResults") or []),
            ]
            bad_asserts = [a for a in asserts if a.get("status") != "pass"]
            bad_tests = [t for t in tests if t.get("status") != "pass"]
            totals["requests"] += 1
            totals["assertions"] += len(asserts)
            totals["failed_assertions"] += len(bad_asserts)
            totals["tests"] += len(tests)
            totals["failed_tests"] += len(bad_tests)
            if bad_asserts or bad_tests or result.get("error") or result.get("status") == "error":
                totals["failed_requests"] += 1
                details = [f"{a.get('lhsExpr')} {a.get('rhsExpr')}: {a.get('error')}" for a in bad_asserts]
                details += [f"{t.get('description')}: {t.get('error')}" for t in bad_tests]
                if result.get("error"):
                    details.append(str(result["error"]))
                failures.append((name, details))
for name, details in failures:
    print(f"FAIL {name}")
    for line in details:
        print(f"     {line}")
print(
    f"requests: {totals['requests'] - totals['failed_requests']}/{totals['requests']} passed; "
    f"assertions: {totals['assertions'] - totals['failed_assertions']}/{totals['assertions']} passed; "
    f"script tests/checks failed: {totals['failed_tests']}"
)
sys.exit(1 if failures or totals["requests"] == 0 else 0)
PY

if grep -q "Traceback\|ERROR" "$work/gunicorn.log"; then
  echo "==> gunicorn log (errors)"
  grep -B2 -A20 "Traceback\|ERROR" "$work/gunicorn.log" | head -80
  status=1
fi
[ "$status" = 0 ] && echo "realworld: all passed" || echo "realworld: FAILED" >&2
exit "$status"
