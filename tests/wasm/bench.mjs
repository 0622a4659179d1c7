// WebAssembly side of scripts/bench-wasm.sh (not a test): per-call cost of
// estimateCommute and verifyInclusion (tree of 10^6 leaves) in Node.
// node tests/wasm/bench.mjs FIXTURE.json  → one JSON object on stdout
import fs from 'node:fs';
import { calc, loadWebPackage } from './load.mjs';

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
function measure(pkg) {
  for (const p of fixture.inclusion) {
    if (pkg.verifyInclusion(p) !== true) throw new Error(`fixture proof for leaf ${p.leaf_index} does not verify`);
  }
  const proof = fixture.inclusion[1];
  return {
    commute: perCallNs(15, 20000, () => { sink += Number(pkg.estimateCommute(fixture.commute).credited_g); }),
    inclusion: perCallNs(15, 20000, () => { sink += pkg.verifyInclusion(proof) ? 1 : 0; }),
  };
}
// The JS-side share of a call: what the exports do around the Rust code
// (JSON.stringify, UTF-8 into WASM memory, JSON.parse of the answer).
const answer = JSON.stringify(calc.estimateCommute(fixture.commute));
const utf8 = new TextEncoder();
const buffer = new Uint8Array(4096);
const jsSideNs = perCallNs(15, 20000, () => {
  sink += utf8.encodeInto(JSON.stringify(fixture.commute), buffer).written;
  sink += Number(JSON.parse(answer).credited_g);
});
const node = measure(calc);
const web = measure(await loadWebPackage());
console.log(JSON.stringify({
  wasm_commute_ns: node.commute, wasm_inclusion_ns: node.inclusion, js_side_commute_ns: jsSideNs,
  web_commute_ns: web.commute, web_inclusion_ns: web.inclusion, sink,
}));
