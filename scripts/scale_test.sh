#!/usr/bin/env bash
# `make scale-test`: two gunicorn app servers on one PostgreSQL primary with a streaming
# replica, and one Redis database, Debian's nginx in front (with its micro-cache) with the
# configuration rendered from docker/nginx/templates/, then scripts/scale_check.py proves
# the servers share their state, that reads reach the replica while writers read their
# own writes, and that nginx hides the loss of one server. app1 talks to PostgreSQL
# directly, app2 through Debian's pgbouncer in transaction pooling mode.
#
# The primary is a throwaway cluster (initdb, fsync off) on its own port, and the replica
# is made from it with pg_basebackup, replaying WAL SCALE_REPLICA_DELAY late
# (recovery_min_apply_delay) so that replication lag is there to be seen. Both run as the
# postgres user, from PostgreSQL's own binaries. Bounded in time; cleans up after itself.
#
# Variables: SCALE_DB (blog_scale), SCALE_PRIMARY_PORT (5441), SCALE_REPLICA_PORT (5442),
# SCALE_REPLICA_DELAY (2s), SCALE_PGBOUNCER_PORT (6441), PGBIN (the newest
# /usr/lib/postgresql/*/bin), SCALE_REDIS_URL (redis://127.0.0.1:6379/4, flushed),
# SCALE_SECURITY_REDIS_URL (redis://127.0.0.1:6379/5, flushed; compose runs a Redis of its
# own), SCALE_NGINX_PORT (8140), SCALE_APP_PORTS ("8141 8142"), SCALE_LOAD_SECONDS (8).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
GUNICORN=${GUNICORN:-.venv/bin/gunicorn}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
PGBOUNCER=${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
SCALE_DB=${SCALE_DB:-blog_scale}
PRIMARY_PORT=${SCALE_PRIMARY_PORT:-5441}
REPLICA_PORT=${SCALE_REPLICA_PORT:-5442}
REPLICA_DELAY=${SCALE_REPLICA_DELAY:-2s}
PGBOUNCER_PORT=${SCALE_PGBOUNCER_PORT:-6441}
REDIS_URL=${SCALE_REDIS_URL:-redis://127.0.0.1:6379/4}
SECURITY_REDIS_URL=${SCALE_SECURITY_REDIS_URL:-redis://127.0.0.1:6379/5}
NGINX_PORT=${SCALE_NGINX_PORT:-8140}
read -r -a APP_PORTS <<<"${SCALE_APP_PORTS:-8141 8142}"

work=$(mktemp -d /tmp/blog-scale.XXXXXX)
# nginx's workers run as nobody: they need to traverse this directory.
chmod 755 "$work"
pids=()

log() { printf '[scale-test] %s\n' "$*"; }
# PostgreSQL's server binaries and pgbouncer refuse to run as root.
as_postgres() { runuser -u postgres -- "$@"; }

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
  if [[ -f "$work/pgbouncer/pgbouncer.pid" ]]; then
    kill -TERM "$(cat "$work/pgbouncer/pgbouncer.pid")" 2>/dev/null
  fi
  if [[ $status -ne 0 ]]; then
    for file in "$work"/app*.log "$work"/nginx/error.log "$work"/pg/*.log "$work"/pgbouncer/pgbouncer.log; do
      [[ -f "$file" ]] && { echo "---- last lines of $file"; tail -n 25 "$file"; }
    done
  fi
  for cluster in replica primary; do
    if [[ -f "$work/pg/$cluster/postmaster.pid" ]]; then
      as_postgres "$PGBIN/pg_ctl" -D "$work/pg/$cluster" -m immediate -w stop >/dev/null 2>&1
    fi
  done
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
  redis-cli -u "$SECURITY_REDIS_URL" flushdb >/dev/null
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x "$PGBIN/initdb" ]] || { log "no PostgreSQL server binaries (initdb) under PGBIN=$PGBIN"; exit 1; }
[[ -x "$PGBOUNCER" ]] || { log "no pgbouncer: apt-get install pgbouncer"; exit 1; }

log "primary: a throwaway cluster on 127.0.0.1:$PRIMARY_PORT, database $SCALE_DB"
mkdir -p "$work/pg" "$work/pgbouncer"
chown postgres: "$work/pg" "$work/pgbouncer"
as_postgres "$PGBIN/initdb" -D "$work/pg/primary" -U postgres -A trust --no-sync >"$work/pg/initdb.log" 2>&1 ||
  { cat "$work/pg/initdb.log"; exit 1; }
# Throwaway: nothing is synced to disk. Replication needs wal_level=replica and WAL
# senders (the defaults, said out loud); initdb -A trust lets 127.0.0.1 replicate.
cat >>"$work/pg/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$work/pg'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
CONF
as_postgres "$PGBIN/pg_ctl" -D "$work/pg/primary" -l "$work/pg/primary.log" -w start >/dev/null
PRIMARY_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT"
psql -q -v ON_ERROR_STOP=1 "$PRIMARY_URL/postgres" -c "CREATE DATABASE $SCALE_DB" >/dev/null

log "replica: pg_basebackup of the primary, on 127.0.0.1:$REPLICA_PORT, replaying $REPLICA_DELAY late"
as_postgres "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$work/pg/replica" \
  -R -X stream --checkpoint=fast --no-sync >"$work/pg/basebackup.log" 2>&1 || { cat "$work/pg/basebackup.log"; exit 1; }
cat >>"$work/pg/replica/postgresql.conf" <<CONF
port = $REPLICA_PORT
hot_standby = on
hot_standby_feedback = on
recovery_min_apply_delay = '$REPLICA_DELAY'
CONF
as_postgres "$PGBIN/pg_ctl" -D "$work/pg/replica" -l "$work/pg/replica.log" -w start >/dev/null
REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT"
in_recovery=$(psql -Atq "$REPLICA_URL/$SCALE_DB" -c "SELECT pg_is_in_recovery()")
[[ $in_recovery == t ]] || { log "the replica is not in recovery"; exit 1; }

log "pgbouncer on 127.0.0.1:$PGBOUNCER_PORT, transaction pooling, in front of both"
# docker/pgbouncer/pgbouncer.ini, the configuration the test suite passed through, with
# this run's port, folder and two databases: the file proven here is the one shipped.
"$PY" - "$work/pgbouncer/pgbouncer.ini" <<RENDER
import sys
text = open("docker/pgbouncer/pgbouncer.ini").read()
for old, new in (
    ("* = host=127.0.0.1 port=5432", "$SCALE_DB = host=127.0.0.1 port=$PRIMARY_PORT dbname=$SCALE_DB\n"
     "${SCALE_DB}_replica = host=127.0.0.1 port=$REPLICA_PORT dbname=$SCALE_DB"),
    ("listen_port = 6452", "listen_port = $PGBOUNCER_PORT"),
    ("/tmp/pgbouncer-blog", "$work/pgbouncer"),
):
    if old not in text:
        sys.exit(f"docker/pgbouncer/pgbouncer.ini has no {old!r}")
    text = text.replace(old, new)
open(sys.argv[1], "w").write(text)
RENDER
echo '"postgres" ""' >"$work/pgbouncer/userlist.txt"
chown postgres: "$work/pgbouncer"/*
as_postgres "$PGBOUNCER" -d -q "$work/pgbouncer/pgbouncer.ini"
PGBOUNCER_URL="postgres://postgres@127.0.0.1:$PGBOUNCER_PORT"
for _ in $(seq 50); do
  psql -Atq "$PGBOUNCER_URL/$SCALE_DB" -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.1
done

log "Redis $REDIS_URL (security state: $SECURITY_REDIS_URL)"
redis-cli -u "$REDIS_URL" flushdb >/dev/null
redis-cli -u "$SECURITY_REDIS_URL" flushdb >/dev/null

export DJANGO_SETTINGS_MODULE=config.settings.production
# Throwaway, shared by both servers (a token one issues, the other must accept); production
# refuses any key written in the repository.
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
DJANGO_METRICS_TOKEN=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')
export DJANGO_METRICS_TOKEN
export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
export DJANGO_SECURE_SSL_REDIRECT=false  # plain HTTP here; TLS is nginx's job in compose
# app1's databases; app2 reaches the same two through pgbouncer (below).
export DATABASE_URL="$PRIMARY_URL/$SCALE_DB"
export DATABASE_REPLICA_URLS="$REPLICA_URL/$SCALE_DB"
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
  via=() how=""
  if ((i == 1)); then
    via=(DATABASE_URL="$PGBOUNCER_URL/$SCALE_DB" DATABASE_REPLICA_URLS="$PGBOUNCER_URL/${SCALE_DB}_replica"
      DJANGO_DB_PGBOUNCER=true)
    how=", its databases through pgbouncer"
  fi
  # Each server's workers add up their metrics in a folder of the server's own.
  env "${via[@]}" PROMETHEUS_MULTIPROC_DIR="$work/metrics-app$((i + 1))" \
    GUNICORN_BIND="127.0.0.1:$port" GUNICORN_PROC_NAME="blog-scale-$port" \
    setsid "$GUNICORN" --config config/gunicorn.conf.py config.wsgi:application \
    >"$work/app$((i + 1)).log" 2>&1 &
  pids+=("$!")
  disown  # the kill in the check is expected: no "Killed" notice from bash
  log "app$((i + 1)): gunicorn on 127.0.0.1:$port (pid $!)$how"
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
  --replica-url "$REPLICA_URL/$SCALE_DB" \
  --pgbouncer-admin-url "$PGBOUNCER_URL/pgbouncer" \
  --replica-database "${SCALE_DB}_replica" \
  --load-seconds "${SCALE_LOAD_SECONDS:-8}"
log "passed"
