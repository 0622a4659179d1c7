#!/usr/bin/env bash
# Load benchmark of the API server on PostgreSQL (docs/benchmarks.md):
#   - GET /healthz (the HTTP stack alone)
#   - GET /api/v1/me (JWT check, rate-limit count, four indexed reads)
#   - POST /api/v1/auth/login (argon2id verification, a refresh-token insert)
# with a baseline measured in the same run on the same PostgreSQL: pgbench
# running the four point reads of /me directly (tests/load/select_one.sql).
# Prints a Markdown table. Needs wrk (installed from Debian's packages if
# missing, as root) and pgbench.
#
#   BENCH_DATABASE_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_REDIS_URL     Redis for the server's cache (default: in process)
#   BENCH_SECONDS       per measurement (default 20)
#   BENCH_CONNECTIONS   concurrent connections (default 64)
#   BENCH_POOL          the server's database pool (default: the server's default)
set -euo pipefail
cd "$(dirname "$0")/.."

admin_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
seconds=${BENCH_SECONDS:-20}
conns=${BENCH_CONNECTIONS:-64}

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null
fi
cargo build --quiet --release --bin tanpuhui

db="tph_bench_$(date +%s)"
base=${admin_url%/*}
psql -q "$admin_url" -c "CREATE DATABASE \"$db\""
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
cleanup() {
  [[ -n ${server:-} ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
  rm -f "$log"
}
trap cleanup EXIT

if [[ -n ${BENCH_POOL:-} ]]; then export TANPUHUI_DATABASE_MAX_CONNECTIONS=$BENCH_POOL; fi
TANPUHUI_DATABASE_URL="$base/$db" \
TANPUHUI_LISTEN="127.0.0.1:$port" \
TANPUHUI_LOG=warn \
TANPUHUI_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789 \
TANPUHUI_AUTH_RATE_PER_MINUTE=100000000 \
TANPUHUI_USER_RATE_PER_MINUTE=100000000 \
TANPUHUI_REDIS_URL=${BENCH_REDIS_URL:-} \
TANPUHUI_REDIS_PREFIX="$db:" \
  target/release/tanpuhui serve 2>"$log" &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fs "$url/readyz" >/dev/null && break
  sleep 0.1
done
curl -fs "$url/readyz" >/dev/null || { cat "$log"; exit 1; }

export BENCH_LOGIN=bench@example.cn BENCH_PASSWORD="bench password 0123"
curl -fs -X POST "$url/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$BENCH_LOGIN\",\"password\":\"$BENCH_PASSWORD\"}" >/dev/null
token=$(curl -fs -X POST "$url/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"login\":\"$BENCH_LOGIN\",\"password\":\"$BENCH_PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

summarise() { python3 tests/load/wrk_summary.py; }

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
cache=${BENCH_REDIS_URL:+redis}
echo "cache: ${cache:-in process}; pool: ${BENCH_POOL:-default}; $(nproc) cores; ${seconds} s each"
