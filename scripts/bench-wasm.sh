#!/usr/bin/env bash
# Measures the WebAssembly package against the native crate in one run and
# prints a Markdown table for docs/benchmarks.md:
#   - gzipped size of wasm-calc/pkg/carbon_calc_bg.wasm (goal ≤ 100 KB)
# Both packages are timed in Node: pkg-node (opt-level 3) and pkg (opt-level
# s, what phones and mini-programs run).
#   - estimateCommute per call, WASM in Node vs native (goal WASM ≤ 3× native)
#   - verifyInclusion for a tree of 10^6 leaves in WASM (goal ≤ 50 µs)
# Run scripts/test.sh once first (it installs the tools); needs ~1 GB of RAM.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-wasm.sh >/dev/null
fixture=$(mktemp --suffix=.json)
trap 'rm -f "$fixture"' EXIT
cargo build --quiet --release -p carbon-calc --example bench
# This machine is shared: alternate native and WASM runs and keep the median
# of each measure, so a burst of load elsewhere skews both sides alike.
natives=() wasms=()
for _ in 1 2 3; do
  natives+=("$(target/release/examples/bench "$fixture")")
  wasms+=("$(node tests/wasm/bench.mjs "$fixture")")
done
median() { node -e '
  const runs = process.argv.slice(1).map((s) => JSON.parse(s));
  const out = {};
  for (const k of Object.keys(runs[0])) {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b);
    out[k] = v[Math.floor(v.length / 2)];
  }
  console.log(JSON.stringify(out));' "$@"; }
native=$(median "${natives[@]}")
wasm=$(median "${wasms[@]}")

raw=$(wc -c < wasm-calc/pkg/carbon_calc_bg.wasm)
gz=$(gzip -9c wasm-calc/pkg/carbon_calc_bg.wasm | wc -c)
node_raw=$(wc -c < wasm-calc/pkg-node/carbon_calc_bg.wasm)
node_gz=$(gzip -9c wasm-calc/pkg-node/carbon_calc_bg.wasm | wc -c)
node - "$native" "$wasm" "$raw" "$gz" "$node_raw" "$node_gz" <<'JS'
const [native, wasm, raw, gz, nodeRaw, nodeGz] = process.argv.slice(2);
const n = JSON.parse(native), w = JSON.parse(wasm);
const us = (ns) => (ns / 1000).toFixed(2);
const kb = (b) => (b / 1024).toFixed(1);
console.log(`| measure (median of 3 alternating runs) | value | goal |`);
console.log(`|---|---|---|`);
console.log(`| pkg/carbon_calc_bg.wasm (opt-level s) | ${kb(raw)} KiB raw, **${kb(gz)} KiB gzip -9** | ≤ 100 KB gzipped |`);
console.log(`| pkg-node/carbon_calc_bg.wasm (opt-level 3) | ${kb(nodeRaw)} KiB raw, ${kb(nodeGz)} KiB gzip -9 | |`);
console.log(`| estimateCommute, pkg-node in Node (JS object in and out) | ${us(w.wasm_commute_ns)} µs/call | |`);
console.log(`| estimateCommute, pkg (phone build) in Node | ${us(w.web_commute_ns)} µs/call | |`);
console.log(`| JS side of either call (JSON.stringify, UTF-8 in, JSON.parse) | ${us(w.js_side_commute_ns)} µs/call | |`);
console.log(`| estimateCommute, native, JSON text in and out (json::call) | ${us(n.native_commute_json_ns)} µs/call | |`);
console.log(`| estimateCommute, native, typed (commute::estimate) | ${us(n.native_commute_typed_ns)} µs/call | |`);
console.log(`| ratio WASM / native JSON | **${(w.wasm_commute_ns / n.native_commute_json_ns).toFixed(2)}×** (phone build ${(w.web_commute_ns / n.native_commute_json_ns).toFixed(2)}×) | ≤ 3× |`);
console.log(`| ratio WASM / native typed | ${(w.wasm_commute_ns / n.native_commute_typed_ns).toFixed(2)}× | |`);
console.log(`| verifyInclusion, 10^6 leaves (${n.proof_hashes} hashes), pkg-node in Node | **${us(w.wasm_inclusion_ns)} µs/call** | ≤ 50 µs |`);
console.log(`| verifyInclusion, same proof, pkg (phone build) in Node | **${us(w.web_inclusion_ns)} µs/call** | ≤ 50 µs |`);
console.log(`| verify_inclusion, same proof, native (typed / JSON) | ${us(n.native_inclusion_ns)} / ${us(n.native_inclusion_json_ns)} µs/call | |`);
JS
