#!/usr/bin/env bash
# Print "table rows" for every table of the public schema, sorted by name:
#   scripts/row_counts.sh DATABASE_URL
set -euo pipefail
url=${1:?usage: scripts/row_counts.sh DATABASE_URL}
tables=$(psql -At -v ON_ERROR_STOP=1 "$url" \
  -c "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
query=""
for table in $tables; do
  query+="${query:+ UNION ALL }SELECT '$table', count(*) FROM public.$table"
done
[[ -n "$query" ]] || { echo "no tables in $url" >&2; exit 1; }
psql -At -F ' ' -v ON_ERROR_STOP=1 "$url" -c "SELECT * FROM ($query) AS counts ORDER BY 1"
