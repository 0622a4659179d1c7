// The demo page (wasm-calc/demo/) in headless Chromium: the ES-module package
// loads from a localhost server and an estimate appears on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './load.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const served = path.join(root, 'wasm-calc');
let server;
let base;

before(async () => {
  const fixture = fs.readFileSync(path.join(root, 'tests/wasm/fixtures/certificate.json'), 'utf8');
  const attestation = fs.readFileSync(path.join(root, 'tests/wasm/fixtures/attestation.json'), 'utf8');
  // The server-made certificate and attestation, and copies whose logged
  // quantity was raised by one gram (the certificate) or whose stated
  // price was raised by one fen (the attestation).
  const docs = {
    '/certificate.json': fixture,
    '/tampered.json': (() => {
      const cert = JSON.parse(fixture);
      cert.audit.leaf = cert.audit.leaf.replace(`"quantity_g":${cert.quantity_g}`, `"quantity_g":${Number(cert.quantity_g) + 1}`);
      return JSON.stringify(cert);
    })(),
    '/attestation.json': attestation,
    '/tampered-attestation.json': (() => {
      const a = JSON.parse(attestation);
      const [yuan, fen] = a.price.split('.').map(Number);
      const more = yuan * 100 + fen + 1;
      a.price = `${Math.floor(more / 100)}.${String(more % 100).padStart(2, '0')}`;
      return JSON.stringify(a);
    })(),
  };
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (docs[url.pathname] !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(docs[url.pathname]);
      return;
    }
    const file = path.normalize(path.join(served, decodeURIComponent(url.pathname)));
    if (!file.startsWith(served + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

// Asynchronous on purpose: a synchronous spawn would block this process's
// HTTP server while Chromium waits on it.
const run = promisify(execFile);

async function renderedDom(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tph-chromium-'));
  try {
    const { stdout } = await run(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, '--virtual-time-budget=15000', '--dump-dom', url,
    ], { encoding: 'utf8', timeout: 60000, maxBuffer: 1 << 24 });
    return stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

test('the demo page shows the default estimate', async () => {
  const dom = await renderedDom(`${base}/demo/index.html`);
  assert.match(dom, /data-ready="true"/, 'page script did not finish');
  assert.match(dom, /<output id="credited" data-credited-g="901">901<\/output>/);
  assert.match(dom, /576\.24 g/);
});

test('the demo page estimates what the query asks for', async () => {
  const dom = await renderedDom(`${base}/demo/index.html?preset=shanghai-2024&legs=metro:2.5,bus`);
  // 97 × 2.5 + 422 = 664.5 → 665
  assert.match(dom, /data-credited-g="665">665</);
  assert.match(dom, /shanghai-2024 v1/);
});

test('the demo page shows the error naming the bad field', async () => {
  const dom = await renderedDom(`${base}/demo/index.html?legs=metro:-3`);
  assert.match(dom, /legs\[0\]\.distance_km: must be at least 0/);
});

test('the certificate page checks a server-made certificate in the browser', async () => {
  const key = JSON.parse(fs.readFileSync(path.join(root, 'tests/wasm/fixtures/certificate.json'), 'utf8'))
    .audit.tree_head.public_key;
  const good = await renderedDom(`${base}/demo/certificate.html?src=/certificate.json&key=${key}`);
  assert.match(good, /data-ready="true"/, 'page script did not finish');
  assert.match(good, /data-verdict="valid"/);
  const bad = await renderedDom(`${base}/demo/certificate.html?src=/tampered.json&key=${key}`);
  assert.match(bad, /data-verdict="the logged retirement differs from the certificate"|data-verdict="inclusion proof invalid"/);
  const other = await renderedDom(`${base}/demo/certificate.html?src=/certificate.json&key=${'00'.repeat(32)}`);
  assert.match(other, /data-verdict="signed by another key"/);
});

test('the same page checks a server-made trade attestation', async () => {
  const key = JSON.parse(fs.readFileSync(path.join(root, 'tests/wasm/fixtures/attestation.json'), 'utf8'))
    .audit.tree_head.public_key;
  const good = await renderedDom(`${base}/demo/certificate.html?src=/attestation.json&key=${key}`);
  assert.match(good, /data-verdict="valid"/);
  assert.match(good, /TPH-FOR-\d{4} \d+ tCO2e @ /);
  const bad = await renderedDom(`${base}/demo/certificate.html?src=/tampered-attestation.json&key=${key}`);
  assert.match(bad, /data-verdict="the logged trade differs from the attestation"/);
});
