#!/usr/bin/env bash
# Load benchmark of the API server on PostgreSQL (docs/benchmarks.md):
#   - GET /healthz (the HTTP stack alone)
#   - GET /api/v1/me (JWT check, rate-limit count, four indexed reads)
#   - POST /api/v1/auth/login (argon2id verification, a refresh-token insert)
# with a baseline measured in the same run on the same PostgreSQL: pgbench
# running the four point reads of /me directly (tests/load/select_one.sql).
# Prints a Markdown table. Needs wrk (installed from Debian's packages if
# missing, as root) and pgbench.
# Settings: see scripts/bench-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-lib.sh
start_server
export BENCH_LOGIN=bench@example.cn
token=$(bench_user "$BENCH_LOGIN")

# Baseline: the same reads straight on PostgreSQL.
psql -q "$base/$db" -c "CREATE TABLE bench_users (id int PRIMARY KEY); INSERT INTO bench_users SELECT generate_series(1, 1000)"
pg=$(pgbench -n -c "$conns" -j 2 -T "$seconds" -f tests/load/select_one.sql "$base/$db" 2>/dev/null |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p')

health=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency "$url/healthz" | summarise)
me=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency -H "authorization: Bearer $token" "$url/api/v1/me" | summarise)
login_conns=$(( conns < 16 ? conns : 16 ))
login=$(wrk -t2 -c"$login_conns" -d"${seconds}s" --latency -s tests/load/login.lua "$url/api/v1/auth/login" | summarise)

read -r health_rps health_p50 health_p99 health_bad <<<"$health"
read -r me_rps me_p50 me_p99 me_bad <<<"$me"
read -r login_rps login_p50 login_p99 login_bad <<<"$login"
echo "| measure | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|"
printf '| pgbench: the four reads of /me, %s clients (transactions/s) | %.0f | | | |\n' "$conns" "$pg"
echo "| GET /healthz (HTTP only, no database), $conns connections | $health_rps | $health_p50 | $health_p99 | $health_bad |"
echo "| GET /api/v1/me, $conns connections | $me_rps | $me_p50 | $me_p99 | $me_bad |"
echo "| POST /api/v1/auth/login, $login_conns connections | $login_rps | $login_p50 | $login_p99 | $login_bad |"
echo
echo "cache: $(cache_name); pool: ${BENCH_POOL:-default}; $(nproc) cores; ${seconds} s each"
