#!/usr/bin/env bash
# Builds the carbon-calc WebAssembly packages:
#   wasm-calc/pkg-node/  CommonJS package for Node (tests, server-side JS)
#   wasm-calc/pkg/       ES module for browsers and WeChat mini-programs
# Needs the wasm32-unknown-unknown target and a wasm-bindgen CLI of the same
# version as the pinned wasm-bindgen crate (scripts/test.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

pinned=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$pinned" ]]; then
  echo "build-wasm: wasm-bindgen CLI is '${have:-missing}', the crate is pinned to $pinned;" >&2
  echo "build-wasm: run scripts/test.sh (or cargo install wasm-bindgen-cli --version $pinned)" >&2
  exit 1
fi

wasm_opt=node_modules/binaryen/bin/wasm-opt
if [[ ! -f $wasm_opt ]]; then
  echo "build-wasm: $wasm_opt missing; run 'npm ci' (scripts/test.sh does)" >&2
  exit 1
fi

# Two optimisation profiles (Cargo.toml): size for phones, speed for Node.
cargo build --quiet --target wasm32-unknown-unknown --profile wasm -p carbon-calc --lib
cargo build --quiet --target wasm32-unknown-unknown --profile wasm-node -p carbon-calc --lib
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' wasm-calc/Cargo.toml | head -1)

build() { # target out-dir module-type cargo-profile
  local target=$1 out=$2 type=$3
  local wasm=target/wasm32-unknown-unknown/$4/carbon_calc.wasm
  rm -rf "$out"
  wasm-bindgen --target "$target" --out-dir "$out" "$wasm"
  # The release profile keeps the target_features section wasm-bindgen
  # needs; function names and producer notes go only now (a third of the
  # file). No -O pass: it shrinks the raw file but grows the gzipped one.
  node "$wasm_opt" --strip-debug --strip-producers \
    "$out/carbon_calc_bg.wasm" -o "$out/carbon_calc_bg.wasm"
  cat > "$out/package.json" <<JSON
{
  "name": "@tanpuhui/carbon-calc",
  "version": "$version",
  "description": "Tanpuhui carbon calculators and audit-proof checks (WebAssembly)",
  "license": "Apache-2.0",
  "type": "$type",
  "main": "carbon_calc.js",
  "types": "carbon_calc.d.ts",
  "files": ["carbon_calc.js", "carbon_calc.d.ts", "carbon_calc_bg.wasm", "carbon_calc_bg.wasm.d.ts"],
  "sideEffects": false
}
JSON
}

build nodejs wasm-calc/pkg-node commonjs wasm-node
build web wasm-calc/pkg module wasm
size=$(wc -c < wasm-calc/pkg/carbon_calc_bg.wasm)
gz=$(gzip -9c wasm-calc/pkg/carbon_calc_bg.wasm | wc -c)
echo "build-wasm: wasm-calc/pkg/carbon_calc_bg.wasm $size bytes, $gz bytes gzipped (-9)"
