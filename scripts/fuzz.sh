#!/usr/bin/env bash
# `make fuzz`: schemathesis against the project's own OpenAPI schema, on a live gunicorn
# on PostgreSQL (production settings), as two users. Settings: schemathesis.toml.
# FUZZ_DB (blog_e_fuzz), FUZZ_PORT (8170), FUZZ_MAX_EXAMPLES override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/live_server.sh

DB=${FUZZ_DB:-blog_e_fuzz}
PORT=${FUZZ_PORT:-8170}
OUT=${FUZZ_REPORT_DIR:-$(mktemp -d)}
mkdir -p "$OUT"
trap stop_live_server EXIT

recreate_database "$DB"
live_server_env "$DB" "$PORT"
.venv/bin/python manage.py migrate --noinput -v 0
# Production serves static files from the manifest (error pages use them too).
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py shell -v 0 <scripts/fuzz_setup.py
start_live_server "$DB" "$PORT" "$OUT/gunicorn.log"

args=()
if [ -n "${FUZZ_MAX_EXAMPLES:-}" ]; then args+=(--max-examples "$FUZZ_MAX_EXAMPLES"); fi
status=0
.venv/bin/st --no-color run "http://127.0.0.1:$PORT/api/v1/schema/" \
  --report junit,ndjson --report-dir "$OUT" "${args[@]}" || status=$?

# A 5xx that schemathesis did not attribute still leaves a traceback in the server log.
if grep -q "Traceback" "$OUT/gunicorn.log"; then
  echo "fuzz: the server logged tracebacks:" >&2
  grep -B2 -A25 "Traceback" "$OUT/gunicorn.log" >"$OUT/tracebacks.txt" || true
  head -n 120 "$OUT/tracebacks.txt" >&2
  status=1
fi
echo "fuzz: reports and server log in $OUT"
exit "$status"
