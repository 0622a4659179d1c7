#!/usr/bin/env bash
# The spec as a mobile team uses it: TypeScript types generated from the
# committed mobile-api-spec/openapi.json (openapi-typescript, pinned, with
# TypeScript 5), a small typed client of the main mobile flow
# (tests/client/flow.mts, openapi-fetch) compiled under --strict with no
# casts, then run against the real server on a fresh SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."

npx --no-install openapi-typescript mobile-api-spec/openapi.json -o tests/client/schema.d.ts >/dev/null
npx --no-install tsc -p tests/client/tsconfig.json
if grep -nE '\bas (unknown|any|[A-Z][A-Za-z]*)\b|<[A-Z][A-Za-z]*>\s*[a-z(]' tests/client/flow.mts; then
  echo "the typed client must not cast" >&2
  exit 1
fi

bin=${TANPUHUI_BIN:-target/debug/tanpuhui}
[[ -x "$bin" ]] || cargo build --bin tanpuhui
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TANPUHUI_DATABASE_URL="sqlite://$work/client.db?mode=rwc" TANPUHUI_AUDIT_KEY_FILE="$work/audit.key" \
  TANPUHUI_LISTEN="127.0.0.1:$port" TANPUHUI_LOG_FORMAT=text TANPUHUI_LOG=warn \
  "$bin" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
TANPUHUI_URL="http://127.0.0.1:$port" node target/client-check/flow.mjs
