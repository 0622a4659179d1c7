// @ts-check
// carbon-calc's WebAssembly package (console/wasm/, a copy of wasm-calc/pkg
// kept current by scripts/vendor-console.mjs --check), loaded once.
import init, * as calc from '../wasm/carbon_calc.js';

/** @type {Promise<typeof calc> | null} */
let ready = null;

/** The calculators and proof checks, once the module is compiled. */
export function carbonCalc() {
  ready ??= init({ module_or_path: new URL('../wasm/carbon_calc_bg.wasm', import.meta.url) }).then(() => calc);
  return ready;
}
