# Shared by the load benchmarks (sourced): a release server on a fresh
# PostgreSQL database, torn down on exit.
#   BENCH_DATABASE_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_REDIS_URL     Redis for the server's cache (default: in process)
#   BENCH_POOL          the server's database pool (default: the server's)
#   BENCH_SECONDS       per measurement (default 20)
#   BENCH_CONNECTIONS   concurrent connections (default 64)
#   BENCH_BIN           run this server binary instead of building the tree
#   BENCH_LOG           the server's log filter (default warn)
#   BENCH_KEEP_LOG      copy the server's log to this file at the end

admin_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
seconds=${BENCH_SECONDS:-20}
conns=${BENCH_CONNECTIONS:-64}
base=${admin_url%/*}
db="tph_bench_$(date +%s)_$$"
log=$(mktemp)
server=""

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null
fi

bench_cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
  if [[ -n ${BENCH_KEEP_LOG:-} ]]; then cp "$log" "$BENCH_KEEP_LOG"; fi
  rm -f "$log"
}
trap bench_cleanup EXIT

# Starts the server on a fresh database; extra settings come from the
# environment of the caller (e.g. TANPUHUI_CONFIG). Sets $url. BENCH_BIN
# runs another build (e.g. a copy of the previous commit's binary, to
# compare two versions in one session) instead of building this tree.
start_server() {
  local bin=${BENCH_BIN:-target/release/tanpuhui}
  [[ -n ${BENCH_BIN:-} ]] || cargo build --quiet --release --bin tanpuhui
  psql -q "$admin_url" -c "CREATE DATABASE \"$db\""
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [[ -n ${BENCH_POOL:-} ]]; then export TANPUHUI_DATABASE_MAX_CONNECTIONS=$BENCH_POOL; fi
  TANPUHUI_DATABASE_URL="$base/$db" \
  TANPUHUI_LISTEN="127.0.0.1:$port" \
  TANPUHUI_LOG=${BENCH_LOG:-warn} \
  TANPUHUI_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789 \
  TANPUHUI_AUDIT_SIGNING_KEY=00000000000000000000000000000000000000000000000000000000000000b1 \
  TANPUHUI_AUTH_RATE_PER_MINUTE=100000000 \
  TANPUHUI_USER_RATE_PER_MINUTE=100000000 \
  TANPUHUI_REDIS_URL=${BENCH_REDIS_URL:-} \
  TANPUHUI_REDIS_PREFIX="$db:" \
    "$bin" serve 2>"$log" &
  server=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -fs "$url/readyz" >/dev/null && return 0
    sleep 0.1
  done
  cat "$log"
  return 1
}

export BENCH_PASSWORD=${BENCH_PASSWORD:-bench password 0123}

# Registers and signs in a user; prints the access token.
bench_user() {
  local login=$1 password=$BENCH_PASSWORD
  curl -fs -X POST "$url/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$login\",\"password\":\"$password\"}" >/dev/null
  curl -fs -X POST "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"$login\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Makes the platform administrator as `tanpuhui admin create` does (on
# the server's database) and signs it in; prints the access token.
bench_admin() {
  local bin=${BENCH_BIN:-target/release/tanpuhui}
  echo "admin password 0123" | TANPUHUI_DATABASE_URL="$base/$db" TANPUHUI_LOG=error \
    "$bin" admin create --email admin@bench.cn --password-stdin >/dev/null
  curl -fs -X POST "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"login":"admin@bench.cn","password":"admin password 0123"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# wrk --latency output on stdin → "requests/s p50_ms p99_ms non2xx".
summarise() { python3 tests/load/wrk_summary.py; }

cache_name() {
  local cache=${BENCH_REDIS_URL:+redis}
  echo "${cache:-in process}"
}
