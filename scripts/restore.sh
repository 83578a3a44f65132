#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into an EMPTY database:
#   scripts/restore.sh FILE DATABASE_URL
# Create the database first (createdb, or CREATE DATABASE); restoring over a live one
# is refused because its tables already exist. Runs in one transaction: all or nothing.
set -euo pipefail
file=${1:?usage: scripts/restore.sh FILE DATABASE_URL}
url=${2:?usage: scripts/restore.sh FILE DATABASE_URL}
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$file"
# Fresh statistics, or the planner guesses until autovacuum gets there.
psql -q -v ON_ERROR_STOP=1 "$url" -c "ANALYZE"
