#!/usr/bin/env node
// The console's third-party files (console/vendor/) and its copy of the
// carbon-calc WebAssembly package (console/wasm/), made from what npm ci
// installed (versions pinned in package.json) and from wasm-calc/pkg.
//
//   node scripts/vendor-console.mjs          rewrite console/vendor/
//   node scripts/vendor-console.mjs --wasm   also copy wasm-calc/pkg (run
//                                            scripts/build-wasm.sh first)
//   node scripts/vendor-console.mjs --check  fail if either is stale
//
// The console has no build step, so these copies are committed; --check
// (in scripts/test.sh) keeps them the ones package.json and the carbon-calc
// sources say. Bare imports are rewritten to relative ones because an
// import map would be inline script, which the console's CSP forbids.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nm = (p) => path.join(root, 'node_modules', p);
const vendorDir = path.join(root, 'console/vendor');
const wasmDir = path.join(root, 'console/wasm');

const stripMap = (text) => text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');

/** [served name, source, transform, package whose licence and version it carries] */
const FILES = [
  ['preact.js', 'preact/dist/preact.mjs', stripMap, 'preact'],
  ['preact-hooks.js', 'preact/hooks/dist/hooks.mjs',
    (t) => stripMap(t).replaceAll('from"preact"', 'from"./preact.js"'), 'preact'],
  ['htm.js', 'htm/dist/htm.mjs', stripMap, 'htm'],
  ['uplot.js', 'uplot/dist/uPlot.esm.js', stripMap, 'uplot'],
  ['uplot.css', 'uplot/dist/uPlot.min.css', (t) => t, 'uplot'],
  ['openapi-fetch.js', 'openapi-fetch/dist/index.mjs', stripMap, 'openapi-fetch'],
];

/** Type declarations beside the copies, so tsc --checkJs reads the packages' own types. */
const SHIMS = {
  'preact.d.ts': 'export * from "preact";\n',
  'preact-hooks.d.ts': 'export * from "preact/hooks";\n',
  'htm.d.ts': 'export { default } from "htm";\n',
  'uplot.d.ts': 'export { default } from "uplot";\nexport type * from "uplot";\n',
  'openapi-fetch.d.ts': 'export * from "openapi-fetch";\nexport { default } from "openapi-fetch";\n',
};

function licenceOf(pkg) {
  const dir = nm(pkg);
  const name = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!name) throw new Error(`${pkg}: no licence file`);
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

function vendorFiles() {
  const out = {};
  const packages = new Map();
  for (const [name, src, transform, pkg] of FILES) {
    out[name] = transform(fs.readFileSync(nm(src), 'utf8'));
    const meta = JSON.parse(fs.readFileSync(nm(`${pkg}/package.json`), 'utf8'));
    packages.set(pkg, meta);
  }
  Object.assign(out, SHIMS);
  const rows = [];
  for (const [pkg, meta] of packages) {
    out[`licenses/${pkg}.txt`] = licenceOf(pkg);
    const files = FILES.filter((f) => f[3] === pkg).map((f) => `\`${f[0]}\``).join(', ');
    rows.push(`| ${pkg} | ${meta.version} | ${meta.license} | ${files} |`);
  }
  out['README.md'] = [
    '# Vendored libraries of the console',
    '',
    'Made by `node scripts/vendor-console.mjs` from the npm packages pinned in',
    '`package.json`; do not edit by hand. `--check` (run by `scripts/test.sh`)',
    'fails when they differ from what the script makes.',
    '',
    '| package | version | licence | files |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  return out;
}

/** What the console's WebAssembly copy was built from: a digest of carbon-calc's
 * sources, the workspace manifest (profiles, the wasm-bindgen pin) and the
 * versions of the crates it is built with for wasm32. */
function wasmSource() {
  const hash = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        hash.update(path.relative(root, p));
        hash.update('\0');
        hash.update(fs.readFileSync(p));
      }
    }
  };
  walk(path.join(root, 'wasm-calc/src'));
  hash.update(fs.readFileSync(path.join(root, 'wasm-calc/Cargo.toml')));
  hash.update(fs.readFileSync(path.join(root, 'Cargo.toml')));
  const tree = execFileSync('cargo', ['tree', '--quiet', '--offline', '-p', 'carbon-calc',
    '--target', 'wasm32-unknown-unknown', '-e', 'normal,build', '--prefix', 'none'], { cwd: root, encoding: 'utf8' });
  hash.update([...new Set(tree.split('\n').map((l) => l.replace(/( \([^)]*\))+$/, '').trim()).filter(Boolean))].sort().join('\n'));
  return `sha256:${hash.digest('hex')}\n`;
}

const WASM_FILES = ['carbon_calc.js', 'carbon_calc.d.ts', 'carbon_calc_bg.wasm'];

function write(dir, files) {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
}

function stale(dir, files) {
  const differs = [];
  for (const [name, body] of Object.entries(files)) {
    const p = path.join(dir, name);
    if (!fs.existsSync(p) || !fs.readFileSync(p).equals(Buffer.from(body))) differs.push(path.relative(root, p));
  }
  return differs;
}

const args = new Set(process.argv.slice(2));
if (args.has('--check')) {
  const problems = stale(vendorDir, vendorFiles());
  const recorded = fs.existsSync(path.join(wasmDir, 'SOURCE')) ? fs.readFileSync(path.join(wasmDir, 'SOURCE'), 'utf8') : '';
  if (recorded !== wasmSource()) problems.push('console/wasm (carbon-calc changed since it was copied)');
  for (const f of WASM_FILES) if (!fs.existsSync(path.join(wasmDir, f))) problems.push(`console/wasm/${f} missing`);
  if (problems.length) {
    console.error(`vendor-console: stale: ${problems.join(', ')}\n` +
      'run: scripts/build-wasm.sh && node scripts/vendor-console.mjs --wasm');
    process.exit(1);
  }
  console.log('vendor-console: console/vendor and console/wasm are current');
} else {
  write(vendorDir, vendorFiles());
  if (args.has('--wasm')) {
    const pkg = path.join(root, 'wasm-calc/pkg');
    const files = Object.fromEntries(WASM_FILES.map((f) => [f, fs.readFileSync(path.join(pkg, f))]));
    files.SOURCE = wasmSource();
    write(wasmDir, files);
  }
  console.log(`vendor-console: wrote console/vendor${args.has('--wasm') ? ' and console/wasm' : ''}`);
}
