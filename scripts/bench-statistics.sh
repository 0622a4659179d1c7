#!/usr/bin/env bash
# The region's monthly statistics on PostgreSQL (issue 14,
# docs/benchmarks.md): GET /api/v1/statistics/personal over a month of
# BENCH_TRIPS trips (default 200,000) by BENCH_PEOPLE people (default
# 10,000), three legs each, a quarter with a trace. The trips are written
# by SQL, not through the API: this measures reading them. In the same
# run, the database's own floor for the same work: one SQL statement that
# reads the month's rows and their legs (the server also decodes the legs
# and pages through the index). BENCH_RUNS requests are timed (default 5).
# Settings: see scripts/bench-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-lib.sh
trips=${BENCH_TRIPS:-200000}
people=${BENCH_PEOPLE:-10000}
runs=${BENCH_RUNS:-5}
start_server
token=$(bench_admin)
month=$(TZ=Asia/Shanghai date +%Y-%m)

psql -q "$base/$db" <<SQL
INSERT INTO users (id, email, password_hash, created_at)
  SELECT 'u' || g, 'p' || g || '@bench.cn', 'x', now() FROM generate_series(1, $people) g;
INSERT INTO trips (id, user_id, client_trip_id, request_hash, started_at, ended_at, local_day, legs,
                   distance_km, trace, source, preset, preset_version, reduction_g, credited_g, points,
                   status, reasons, created_at)
  SELECT 't' || g, 'u' || (1 + g % $people), 'c' || g, 'h', now(), now(),
         '$month-' || lpad((1 + g % 28)::text, 2, '0'),
         '[{"mode":"metro","distance_km":"7.35"},{"mode":"bus"},{"mode":"bike","distance_km":"1.2"}]',
         '8.55', CASE WHEN g % 4 = 0 THEN repeat('[36.06,103.83]', 200) END, 'gps', 'wuhan-2024', 1,
         '900.7', 901, 901, CASE WHEN g % 20 = 0 THEN 'pending_review' ELSE 'credited' END, '[]', now()
  FROM generate_series(1, $trips) g;
ANALYZE trips;
SQL

# Milliseconds of each of $runs runs of a command, as "min median max".
timed() {
  python3 - "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
ms = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ms.append((time.perf_counter() - t) * 1000)
print(f"{min(ms):.0f} {statistics.median(ms):.0f} {max(ms):.0f}")
PY
}

floor_sql="SELECT status, credited_g, points, user_id, legs FROM trips WHERE local_day BETWEEN '$month-01' AND '$month-31'"
read -r fmin fmed fmax <<<"$(timed psql -qAt "$base/$db" -c "$floor_sql")"
read -r amin amed amax <<<"$(timed curl -fs "$url/api/v1/statistics/personal?period=$month" -H "authorization: Bearer $token")"
answer=$(curl -fs "$url/api/v1/statistics/personal?period=$month" -H "authorization: Bearer $token")

echo "| measure ($trips trips, $people people, one month) | min ms | median ms | max ms |"
echo "|---|---|---|---|"
echo "| psql: the month's rows and legs, one statement (floor) | $fmin | $fmed | $fmax |"
echo "| GET /api/v1/statistics/personal | $amin | $amed | $amax |"
echo
python3 -c "print(f'ratio endpoint ÷ floor (median) = {$amed / max($fmed, 1):.1f}')"
echo "answer: $(echo "$answer" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["participants"], "participants,", a["trips"], a["credited_g"], "g")')"
echo "$(nproc) cores; $runs runs each"
