#!/usr/bin/env bash
# Order entry under load on PostgreSQL (issue 13's goal,
# docs/benchmarks.md): POST /api/v1/market/orders from 64 connections,
# limit orders on a tick grid around the reference so about half cross the
# book and settle (delivery versus payment, fees, the audit event) while
# the rest rest — first all on one instrument (one instrument row every
# order locks), then spread over 16 — with pgbench's tpcb-like run on the
# same server in the same run as the baseline. Goal: ≥ 0.5 × pgbench,
# p99 ≤ 100 ms.
# Settings: see scripts/bench-lib.sh; BENCH_TRADERS (default 32),
# BENCH_INSTRUMENTS_N (default 16), BENCH_FEE_RATE (default 0).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-lib.sh
config=$(mktemp --suffix=.toml)
market=$(mktemp)
cat >"$config" <<TOML
[registry]
notice_working_days = 0

[market]
round_the_clock = true
position_limit_units = 1000000000
fee_rate = "${BENCH_FEE_RATE:-0}"
TOML
export TANPUHUI_CONFIG=$config
start_server
trap 'bench_cleanup; rm -f "$config" "$market"' EXIT
traders=${BENCH_TRADERS:-32}
spread_n=${BENCH_INSTRUMENTS_N:-16}

admin=$(bench_admin)
python3 tests/load/market_setup.py "$url" "$admin" "$traders" "$spread_n" >"$market"

# What the database does for each: WAL bytes and commits (the server's
# batches) per order, against pgbench's per transaction. The statistics
# are flushed about once a second, hence the pause.
sq() { psql -tA "$base/$db" -c "$1"; }
mark() { sleep 1.5; sq "SELECT pg_current_wal_lsn() || ' ' || (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())"; }
cost() { # before-mark after-mark count → "WAL bytes per item, commits per item"
  read -r l0 c0 <<<"$1"; read -r l1 c1 <<<"$2"
  sq "SELECT round(pg_wal_lsn_diff('$l1', '$l0') / $3) || ' ' || round(($c1 - $c0)::numeric / $3, 2)"
}
orders() { sq "SELECT count(*) FROM orders"; }

pgbench -i -q -s 10 "$base/$db" >/dev/null 2>&1
m0=$(mark)
pgout=$(pgbench -n -c 64 -j 2 -T "$seconds" "$base/$db" 2>/dev/null)
m1=$(mark)
pg=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pgout")
pg_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$pgout")
read -r pg_wal pg_commits <<<"$(cost "$m0" "$m1" "$pg_n")"

export BENCH_MARKET=$market
run() {
  BENCH_INSTRUMENTS=$1 wrk -t2 -c"$conns" -d"${seconds}s" --latency -s tests/load/orders.lua \
    "$url/api/v1/market/orders" 2>/dev/null | summarise
}
n0=$(orders); m0=$(mark)
one=$(run 1)
n1=$(orders); m1=$(mark)
spread=$(run "$spread_n")
n2=$(orders); m2=$(mark)
read -r one_wal one_commits <<<"$(cost "$m0" "$m1" "$((n1 - n0))")"
read -r spread_wal spread_commits <<<"$(cost "$m1" "$m2" "$((n2 - n1))")"
read -r one_rps one_p50 one_p99 one_bad <<<"$one"
read -r spread_rps spread_p50 spread_p99 spread_bad <<<"$spread"
counts=$(psql -tA "$base/$db" -c "SELECT (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM trades) || ' trades, ' || (SELECT count(*) FROM orders WHERE status = 'open') || ' resting'")

echo "| measure | per second | p50 ms | p99 ms | non-2xx | WAL bytes each | commits each |"
echo "|---|---|---|---|---|---|---|"
printf '| pgbench tpcb-like, 64 clients (tps) | %.0f | | | | %s | %s |\n' "$pg" "$pg_wal" "$pg_commits"
echo "| POST /api/v1/market/orders, 1 instrument, $conns connections | $one_rps | $one_p50 | $one_p99 | $one_bad | $one_wal | $one_commits |"
echo "| POST /api/v1/market/orders, $spread_n instruments, $conns connections | $spread_rps | $spread_p50 | $spread_p99 | $spread_bad | $spread_wal | $spread_commits |"
echo
python3 -c "print(f'1 instrument ÷ pgbench = {$one_rps / $pg:.2f}; $spread_n instruments ÷ pgbench = {$spread_rps / $pg:.2f} (goal ≥ 0.5, p99 ≤ 100 ms)')"
echo "after both runs: $counts"
echo "cache: $(cache_name); pool: ${BENCH_POOL:-default}; $traders traders; fee rate ${BENCH_FEE_RATE:-0}; $(nproc) cores; ${seconds} s each"
