#!/usr/bin/env bash
# Credit transfers under load on PostgreSQL (issue 5's goal,
# docs/benchmarks.md): POST /api/v1/transfers of 1 g between 32 enterprise
# accounts holding one batch — random pairs ("spread"), then every
# transfer into one account ("hot": one balance row every request
# updates) — with pgbench's tpcb-like ceiling on the same server in the same
# run. Goal: hot ≥ 0.5 × spread. Then the audit sealer's throughput: events
# inserted straight into the log, timed until sealed (leaves/s), and
# `tanpuhui audit verify` over the whole tree.
# Settings: see scripts/bench-lib.sh; BENCH_ACCOUNTS_N (default 32),
# BENCH_SEAL_EVENTS (default 200000).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-lib.sh
config=$(mktemp --suffix=.toml)
accounts=$(mktemp)
cat >"$config" <<'TOML'
[registry]
notice_working_days = 0
TOML
export TANPUHUI_CONFIG=$config
start_server
trap 'bench_cleanup; rm -f "$config" "$accounts"' EXIT
n=${BENCH_ACCOUNTS_N:-32}
seal_events=${BENCH_SEAL_EVENTS:-200000}
bin=${BENCH_BIN:-target/release/tanpuhui}

admin=$(bench_admin)
python3 tests/load/registry_setup.py "$url" "$admin" "$n" >"$accounts"
batch=$(sed -n 's/^batch //p' "$accounts")

pgbench -i -q -s 10 "$base/$db" >/dev/null 2>&1
pg=$(pgbench -n -c 64 -j 2 -T "$seconds" "$base/$db" 2>/dev/null |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p')

export BENCH_ACCOUNTS=$accounts BENCH_BATCH=$batch
spread=$(BENCH_HOT=0 wrk -t2 -c"$conns" -d"${seconds}s" --latency -s tests/load/transfers.lua "$url/api/v1/transfers" 2>/dev/null | summarise)
hot=$(BENCH_HOT=1 wrk -t2 -c"$conns" -d"${seconds}s" --latency -s tests/load/transfers.lua "$url/api/v1/transfers" 2>/dev/null | summarise)
read -r spread_rps spread_p50 spread_p99 spread_bad <<<"$spread"
read -r hot_rps hot_p50 hot_p99 hot_bad <<<"$hot"

# Let the sealer catch up with the transfers, then time a backlog.
until [[ $(psql -tA "$base/$db" -c "SELECT count(*) FROM audit_events WHERE leaf_index IS NULL") == 0 ]]; do sleep 0.2; done
before=$(psql -tA "$base/$db" -c "SELECT count(*) FROM audit_events")
psql -q "$base/$db" -c "INSERT INTO audit_events (kind, leaf, salt, leaf_index, created_at)
  SELECT 'bench', '{\"at\":\"2026-11-28T00:00:00.000Z\",\"body\":{\"n\":' || g || '},\"kind\":\"bench\",\"v\":1}', NULL, NULL, now()
  FROM generate_series(1, $seal_events) g"
t0=$(date +%s.%N)
until [[ $(psql -tA "$base/$db" -c "SELECT count(*) FROM audit_events WHERE leaf_index IS NULL") == 0 ]]; do sleep 0.1; done
t1=$(date +%s.%N)
total=$(psql -tA "$base/$db" -c "SELECT count(*) FROM audit_events")
v0=$(date +%s.%N)
verify=$(TANPUHUI_DATABASE_URL="$base/$db" TANPUHUI_LOG=error "$bin" audit verify | tail -1)
v1=$(date +%s.%N)

echo "| measure | per second | p50 ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|"
printf '| pgbench tpcb-like, 64 clients (tps) | %.0f | | | |\n' "$pg"
echo "| POST /api/v1/transfers, $n accounts, random pairs, $conns connections | $spread_rps | $spread_p50 | $spread_p99 | $spread_bad |"
echo "| POST /api/v1/transfers, every one into one account, $conns connections | $hot_rps | $hot_p50 | $hot_p99 | $hot_bad |"
python3 -c "print(f'| audit sealing, {$seal_events} queued events (leaves/s) | {$seal_events / ($t1 - $t0):.0f} | | | |')"
python3 -c "print(f'| tanpuhui audit verify, {$total} leaves (leaves/s) | {$total / ($v1 - $v0):.0f} | | | |')"
echo
python3 -c "print(f'hot ÷ spread = {$hot_rps / $spread_rps:.2f} (goal ≥ 0.5); spread ÷ pgbench = {$spread_rps / $pg:.2f}')"
echo "events before the backlog: $before; verify: $verify"
echo "cache: $(cache_name); pool: ${BENCH_POOL:-default}; $(nproc) cores; ${seconds} s each"
