// Shared helpers for the Node tests of the WebAssembly package.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** The Node build of carbon-calc (scripts/build-wasm.sh makes it). */
export const calc = require(path.join(root, 'wasm-calc/pkg-node/carbon_calc.js'));

export const vectors = JSON.parse(
  fs.readFileSync(path.join(root, 'wasm-calc/tests/vectors.json'), 'utf8'),
);

/** The native CLI, built by `cargo build -p carbon-calc --bin carbon-calc`. */
export const nativeBin =
  process.env.CARBON_CALC_BIN ?? path.join(root, 'target/debug/carbon-calc');

/** The browser/mini-program build (wasm-calc/pkg/, size-optimised), loaded in Node. */
export async function loadWebPackage() {
  const web = await import(path.join(root, 'wasm-calc/pkg/carbon_calc.js'));
  web.initSync({ module: fs.readFileSync(path.join(root, 'wasm-calc/pkg/carbon_calc_bg.wasm')) });
  return web;
}
