#!/usr/bin/env bash
# Trip logging under load on PostgreSQL (issue 4's goal, docs/benchmarks.md):
# authenticated POST /api/v1/trips with a short GPS trace (carbon-calc's
# estimate, plausibility and trace checks, the per-person lock, the trip,
# its personal reduction and the ledger postings), 64 users over
# BENCH_CONNECTIONS connections; and in the same run the PostgreSQL ceiling
# for one transaction per request: pgbench's built-in tpcb-like script,
# -c 64 -j 2, on the same server. Goal: trips/s ≥ 0.5 × pgbench tps,
# p99 ≤ 100 ms. Daily caps are raised so every trip is credited.
# Settings: see scripts/bench-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-lib.sh
config=$(mktemp --suffix=.toml)
tokens=$(mktemp)
# BENCH_SEAL_INTERVAL_MS: how often the audit sealer runs (default the
# server's, 1 s); 60000 keeps it out of a 20 s run, to tell its cost from
# the events' inserts.
if [[ -n ${BENCH_SEAL_INTERVAL_MS:-} ]]; then
  echo "audit_seal_interval_ms = $BENCH_SEAL_INTERVAL_MS" >"$config"
fi
cat >>"$config" <<'TOML'
[trip_rules]
max_credited_per_day = 1000000
daily_cap_g = 1000000000000
TOML
export TANPUHUI_CONFIG=$config
start_server
trap 'bench_cleanup; rm -f "$config" "$tokens"' EXIT

for i in $(seq 64); do
  bench_user "rider$i@example.cn" >>"$tokens"
done

# The PostgreSQL ceiling, on its own pgbench tables in the same database.
pgbench -i -q -s 10 "$base/$db" >/dev/null 2>&1
pg=$(pgbench -n -c 64 -j 2 -T "$seconds" "$base/$db" 2>/dev/null |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p')

# Trips start a week ago less an hour, 31 s apart per user: all in the past
# and inside the claim window for any run shorter than a few days of slots.
export BENCH_TOKENS=$tokens BENCH_THREADS=2
BENCH_BASE=$(( $(date +%s) - 7 * 24 * 3600 + 3600 ))
export BENCH_BASE
trips=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency -s tests/load/trips.lua "$url/api/v1/trips" 2>/dev/null | summarise)
read -r rps p50 p99 bad <<<"$trips"
credited=$(psql -tA "$base/$db" -c "SELECT count(*) FROM trips WHERE status = 'credited'")
total=$(psql -tA "$base/$db" -c "SELECT count(*) FROM trips")
entries=$(psql -tA "$base/$db" -c "SELECT count(*) FROM ledger_entries")
others=$(psql -tA "$base/$db" -c "SELECT status || ' ' || reasons || ': ' || count(*) FROM trips WHERE status <> 'credited' GROUP BY status, reasons" | tr '\n' ';')

echo "| measure | per second | p50 ms | p99 ms | non-201 |"
echo "|---|---|---|---|---|"
printf '| pgbench tpcb-like, 64 clients (tps) | %.0f | | | |\n' "$pg"
echo "| POST /api/v1/trips, $conns connections, 64 users | $rps | $p50 | $p99 | $bad |"
echo
python3 -c "print(f'ratio trips/s ÷ pgbench tps = {$rps / $pg:.2f} (goal ≥ 0.5); p99 {$p99} ms (goal ≤ 100)')"
echo "trips stored: $total, credited: $credited, ledger entries: $entries${others:+; not credited: $others}"
echo "cache: $(cache_name); pool: ${BENCH_POOL:-default}; $(nproc) cores; ${seconds} s each"
