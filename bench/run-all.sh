#!/usr/bin/env bash
# Every benchmark, one after the other, each ending with its SUMMARY line; the summaries are
# repeated at the end. Small sizes by default (a few minutes); BENCH_FULL=1 for the sizes of the
# issues (10,000 and 100,000 members: about an hour on a 2-core machine).
# BENCH_DATABASE_URL names the PostgreSQL server the throwaway databases are made on
# (default postgres://postgres@127.0.0.1:5432/postgres; the till benchmark needs PostgreSQL).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ "${BENCH_FULL:-0}" = "1" ]; then
  runs=(
    "statuses.py --members 100000 --small 10000"
    "members_table.py --members 100000"
    "shifts_pages.py --members 100000"
    "till.py --members 10000"
    "inventory.py"
    "import.py --sizes 5000 100000"
    "assemblies.py --members 4000"
  )
else
  runs=(
    "statuses.py --members 2000 --small 500"
    "members_table.py --members 2000"
    "shifts_pages.py --members 2000"
    "till.py --members 2000 --seconds 5"
    "inventory.py --products 2000 --moves 50000 --small 200"
    "import.py --sizes 1000"
    "assemblies.py --members 600 --present 200"
  )
fi
log=$(mktemp)
for run in "${runs[@]}"; do
  echo "=== bench/$run"
  # shellcheck disable=SC2086
  $PY bench/$run 2>&1 | tee -a "$log" | grep -v '^\[' || echo "SUMMARY bench/$run FAILED"
done
echo
echo "=== summaries"
grep '^SUMMARY' "$log" || true
rm -f "$log"
