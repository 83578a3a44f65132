# Shared by scripts/fuzz.sh and scripts/chaos.py's callers: a production-like gunicorn on
# PostgreSQL for a throwaway database. Source it, then call start_live_server DB PORT.
# Production settings with a throwaway secret, plain HTTP (no SSL redirect), throttles and
# the login lockout raised so that a tool sending thousands of requests is not refused.

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}

live_server_env() {  # DB PORT
  export DJANGO_SETTINGS_MODULE=config.settings.production
  export DATABASE_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/$1"
  # Made once per shell, so that the setup commands and the server share it; production
  # refuses any key written in the repository.
  LIVE_SERVER_SECRET_KEY=${LIVE_SERVER_SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')}
  export DJANGO_SECRET_KEY="$LIVE_SERVER_SECRET_KEY"
  export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
  export DJANGO_SECURE_SSL_REDIRECT=false
  export DJANGO_AUTH_THROTTLE_RATE="${DJANGO_AUTH_THROTTLE_RATE:-100000/minute}"
  export DJANGO_LOGIN_FAILURE_LIMIT="${DJANGO_LOGIN_FAILURE_LIMIT:-1000000}"
  export DJANGO_LOG_FORMAT=plain
  export GUNICORN_BIND="127.0.0.1:$2"
  export GUNICORN_WORKERS="${GUNICORN_WORKERS:-2}"
  export GUNICORN_THREADS="${GUNICORN_THREADS:-4}"
}

recreate_database() {  # DB
  psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\""
}

start_live_server() {  # DB PORT LOGFILE
  live_server_env "$1" "$2"
  .venv/bin/gunicorn -c config/gunicorn.conf.py config.wsgi:application >"$3" 2>&1 &
  LIVE_SERVER_PID=$!
  for _ in $(seq 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$2/healthz"; then return 0; fi
    if ! kill -0 "$LIVE_SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "gunicorn did not start; its log:" >&2
  tail -n 40 "$3" >&2
  return 1
}

stop_live_server() {
  if [ -n "${LIVE_SERVER_PID:-}" ] && kill -0 "$LIVE_SERVER_PID" 2>/dev/null; then
    kill -TERM "$LIVE_SERVER_PID"
    wait "$LIVE_SERVER_PID" 2>/dev/null || true
  fi
  LIVE_SERVER_PID=
}
