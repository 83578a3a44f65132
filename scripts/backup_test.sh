#!/usr/bin/env bash
# `make backup-test`: the backup round trip. Seed a database, back it up with
# scripts/backup.sh, restore it with scripts/restore.sh into another one, and compare the
# row counts of every table (and that the restored database is fully migrated).
# Variables: BACKUP_SOURCE_DB (blog_d), BACKUP_RESTORE_DB (blog_d_restore),
# PG_URL (postgres://postgres@127.0.0.1:5432), BACKUP_POSTS (200).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
source_db=${BACKUP_SOURCE_DB:-blog_d}
restore_db=${BACKUP_RESTORE_DB:-blog_d_restore}
work=$(mktemp -d /tmp/blog-backup.XXXXXX)

log() { printf '[backup-test] %s\n' "$*"; }
recreate() { psql -q -v ON_ERROR_STOP=1 "$PG_URL/postgres" \
  -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }
cleanup() {
  local status=$?
  for db in "$source_db" "$restore_db"; do
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

export DATABASE_URL="$PG_URL/$source_db"
export DJANGO_SETTINGS_MODULE=config.settings.local
export DJANGO_LOG_LEVEL=WARNING
export PGOPTIONS="-c client_min_messages=warning"

log "seed $source_db"
recreate "$source_db"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_blog --posts "${BACKUP_POSTS:-200}" --seed 1 2>/dev/null | sed -n 1p

log "back up"
dump=$(scripts/backup.sh "$DATABASE_URL" "$work/blog.dump")
log "$(du -h "$dump" | cut -f1) in $dump"

log "restore into $restore_db"
recreate "$restore_db"
scripts/restore.sh "$dump" "$PG_URL/$restore_db"

scripts/row_counts.sh "$PG_URL/$source_db" >"$work/source.txt"
scripts/row_counts.sh "$PG_URL/$restore_db" >"$work/restored.txt"
if ! diff -u "$work/source.txt" "$work/restored.txt"; then
  log "FAILED: row counts differ (above)"
  exit 1
fi
posts=$(awk '$1 == "posts_post" {print $2}' "$work/source.txt")
if [[ -z "$posts" || "$posts" -lt 1 ]]; then
  log "FAILED: the seeded database has no posts"
  exit 1
fi
# The restored database is what the code expects: no migration left to apply.
DATABASE_URL="$PG_URL/$restore_db" "$PY" manage.py migrate --check >/dev/null \
  || { log "FAILED: the restored database lacks migrations"; exit 1; }
log "$(wc -l <"$work/source.txt") tables, $(awk '{s += $2} END {print s}' "$work/source.txt") rows, $posts posts: identical counts"
column -t "$work/source.txt" | sed 's/^/    /'
log "passed"
