#!/usr/bin/env bash
# `make scale-test`: two gunicorn app servers on one PostgreSQL database and one Redis
# database, Debian's nginx in front with the configuration rendered from
# docker/nginx/templates/, then scripts/scale_check.py proves the servers share their
# state and that nginx hides the loss of one. Bounded in time; cleans up after itself.
#
# Variables: SCALE_DB (blog_d_scale), PG_URL (postgres://postgres@127.0.0.1:5432),
# SCALE_REDIS_URL (redis://127.0.0.1:6379/4, flushed), SCALE_SECURITY_REDIS_URL
# (redis://127.0.0.1:6379/5, flushed; compose runs a Redis of its own), SCALE_NGINX_PORT (8140),
# SCALE_APP_PORTS ("8141 8142"), SCALE_LOAD_SECONDS (8).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
GUNICORN=${GUNICORN:-.venv/bin/gunicorn}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
SCALE_DB=${SCALE_DB:-blog_d_scale}
REDIS_URL=${SCALE_REDIS_URL:-redis://127.0.0.1:6379/4}
SECURITY_REDIS_URL=${SCALE_SECURITY_REDIS_URL:-redis://127.0.0.1:6379/5}
NGINX_PORT=${SCALE_NGINX_PORT:-8140}
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICEs from DROP IF EXISTS
read -r -a APP_PORTS <<<"${SCALE_APP_PORTS:-8141 8142}"

work=$(mktemp -d /tmp/blog-scale.XXXXXX)
# nginx's workers run as nobody: they need to traverse this directory.
chmod 755 "$work"
pids=()

log() { printf '[scale-test] %s\n' "$*"; }

cleanup() {
  local status=$?
  set +e
  if [[ -f "$work/nginx/nginx.pid" ]]; then
    kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null
  fi
  for pid in "${pids[@]}"; do
    # Each server runs in its own session: end the whole group (master and workers),
    # gracefully, then for good after a few seconds.
    kill -TERM -- "-$pid" 2>/dev/null
  done
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null
  done
  if [[ $status -ne 0 ]]; then
    for file in "$work"/app*.log "$work"/nginx/error.log; do
      [[ -f "$file" ]] && { echo "---- last lines of $file"; tail -n 25 "$file"; }
    done
  fi
  psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $SCALE_DB WITH (FORCE)" >/dev/null
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
  redis-cli -u "$SECURITY_REDIS_URL" flushdb >/dev/null
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "fresh database $SCALE_DB and Redis $REDIS_URL (security state: $SECURITY_REDIS_URL)"
psql -q -v ON_ERROR_STOP=1 "$PG_URL/postgres" \
  -c "DROP DATABASE IF EXISTS $SCALE_DB WITH (FORCE)" -c "CREATE DATABASE $SCALE_DB" >/dev/null
redis-cli -u "$REDIS_URL" flushdb >/dev/null
redis-cli -u "$SECURITY_REDIS_URL" flushdb >/dev/null

export DJANGO_SETTINGS_MODULE=config.settings.production
# Throwaway, shared by both servers (a token one issues, the other must accept); production
# refuses any key written in the repository.
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
export DJANGO_SECURE_SSL_REDIRECT=false  # plain HTTP here; TLS is nginx's job in compose
export DATABASE_URL="$PG_URL/$SCALE_DB"
export REDIS_URL SECURITY_REDIS_URL
export DJANGO_AUTH_THROTTLE_RATE=5/minute
export DJANGO_LOGIN_FAILURE_LIMIT=3
export DJANGO_NUM_PROXIES=1
export DJANGO_LOG_FORMAT=json
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-2}
export GUNICORN_THREADS=${GUNICORN_THREADS:-4}
export GUNICORN_PRELOAD=true

log "migrate and collectstatic (production settings)"
"$PY" manage.py migrate --noinput >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
"$PY" manage.py collectstatic --noinput >"$work/collectstatic.log" 2>&1 || { cat "$work/collectstatic.log"; exit 1; }

wait_for() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null --max-time 2 "$1"; do
    ((SECONDS < deadline)) || { log "timed out waiting for $1"; return 1; }
    sleep 0.3
  done
}

for i in "${!APP_PORTS[@]}"; do
  port=${APP_PORTS[$i]}
  GUNICORN_BIND="127.0.0.1:$port" GUNICORN_PROC_NAME="blog-scale-$port" \
    setsid "$GUNICORN" --config config/gunicorn.conf.py config.wsgi:application \
    >"$work/app$((i + 1)).log" 2>&1 &
  pids+=("$!")
  disown  # the kill in the check is expected: no "Killed" notice from bash
  log "app$((i + 1)): gunicorn on 127.0.0.1:$port (pid $!)"
done
for port in "${APP_PORTS[@]}"; do wait_for "http://127.0.0.1:$port/healthz" 30; done

upstreams=()
for i in "${!APP_PORTS[@]}"; do upstreams+=(--upstream "app$((i + 1))=127.0.0.1:${APP_PORTS[$i]}"); done
"$PY" scripts/render_nginx_conf.py --out "$work/nginx" --mode plain --port "$NGINX_PORT" "${upstreams[@]}" \
  --var NGINX_SERVER_NAME=127.0.0.1 --var "NGINX_STATIC_ROOT=$PWD/staticfiles" \
  --var "NGINX_MEDIA_ROOT=${DJANGO_MEDIA_ROOT:-$PWD/media}" >/dev/null
"$NGINX" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf"
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$work/nginx/access.log" 2>&1 &
disown
log "nginx on 127.0.0.1:$NGINX_PORT (config $work/nginx/blog.conf)"
wait_for "http://127.0.0.1:$NGINX_PORT/nginx-healthz" 15

timeout 180 "$PY" scripts/scale_check.py \
  --proxy "http://127.0.0.1:$NGINX_PORT" \
  --app "http://127.0.0.1:${APP_PORTS[0]}" --app "http://127.0.0.1:${APP_PORTS[1]}" \
  --victim-pgid "${pids[1]}" \
  --app-log "$work/app1.log" --app-log "$work/app2.log" \
  --proxy-log "$work/nginx/access.log" \
  --database-url "$DATABASE_URL" \
  --load-seconds "${SCALE_LOAD_SECONDS:-8}"
log "passed"
