#!/usr/bin/env bash
# The web console (console/): its vendored libraries and WebAssembly copy
# are the ones package.json and carbon-calc's sources say; its modules
# type-check against types generated from mobile-api-spec/openapi.json (a
# call to a path, parameter or field the spec lacks fails here); then its
# browser tests drive Debian's Chromium against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."

node scripts/vendor-console.mjs --check
# When the packages were just built (scripts/test.sh), the copy's glue is theirs.
if [[ -f wasm-calc/pkg/carbon_calc.js ]]; then
  for f in carbon_calc.js carbon_calc.d.ts; do
    cmp -s "wasm-calc/pkg/$f" "console/wasm/$f" || {
      echo "console/wasm/$f differs from wasm-calc/pkg/$f: run node scripts/vendor-console.mjs --wasm" >&2
      exit 1
    }
  done
fi
mkdir -p target/console-check
npx --no-install openapi-typescript mobile-api-spec/openapi.json -o target/console-check/schema.d.ts >/dev/null
npx --no-install tsc -p console/tsconfig.json

bin=${TANPUHUI_BIN:-target/debug/tanpuhui}
[[ -x "$bin" ]] || cargo build --bin tanpuhui
TANPUHUI_BIN="$PWD/$bin" node --test --test-concurrency=1 tests/console/
echo "console-check: screenshots in target/console-screenshots/"
