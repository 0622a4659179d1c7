// WebAssembly side of scripts/bench-wasm.sh (not a test): per-call cost of
// estimateCommute and verifyInclusion (tree of 10^6 leaves) in Node.
// node tests/wasm/bench.mjs FIXTURE.json  → one JSON object on stdout
import fs from 'node:fs';
import { calc } from './load.mjs';

const fixture = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

/** Median over rounds of the mean ns per call of iters calls. */
function perCallNs(rounds, iters, f) {
  for (let i = 0; i < iters; i++) f();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) f();
    samples.push(Number(process.hrtime.bigint() - start) / iters);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)];
}

let sink = 0;
const commuteNs = perCallNs(15, 20000, () => { sink += calc.estimateCommute(fixture.commute).credited_g; });
for (const p of fixture.inclusion) {
  if (calc.verifyInclusion(p) !== true) throw new Error(`fixture proof for leaf ${p.leaf_index} does not verify`);
}
const proof = fixture.inclusion[1];
const inclusionNs = perCallNs(15, 20000, () => { sink += calc.verifyInclusion(proof) ? 1 : 0; });
console.log(JSON.stringify({ wasm_commute_ns: commuteNs, wasm_inclusion_ns: inclusionNs, sink }));
