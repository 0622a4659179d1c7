// Parity: the shared vectors give identical results natively (the CLI's
// batch mode) and in WebAssembly, successes and errors alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { calc, vectors, nativeBin, loadWebPackage } from './load.mjs';

function wasmOutcome(v, pkg = calc) {
  try {
    const fn = pkg[v.function];
    return { ok: fn(v.request) };
  } catch (err) {
    return { error: { code: err.code, field: err.field, message: err.message.slice(err.field.length + 2) } };
  }
}

test('native and WASM agree on every shared vector', () => {
  const calls = vectors.map((v) => ({ function: v.function, request: v.request }));
  const native = JSON.parse(execFileSync(nativeBin, ['batch'], { input: JSON.stringify(calls) }));
  assert.equal(native.length, vectors.length);
  vectors.forEach((v, i) => {
    assert.deepEqual(wasmOutcome(v), native[i], `vector "${v.name}"`);
  });
});

test('every shared vector meets its expectation in WASM', () => {
  for (const v of vectors) {
    const out = wasmOutcome(v);
    if (v.error) {
      assert.deepEqual([out.error?.code, out.error?.field], [v.error.code, v.error.field], v.name);
    } else if ('expect_value' in v) {
      assert.deepEqual(out.ok, v.expect_value, v.name);
    } else {
      for (const [key, want] of Object.entries(v.expect)) {
        assert.deepEqual(out.ok?.[key], want, `${v.name}: ${key}`);
      }
    }
  }
});

test('parity on generated commutes (seeded; replay with PARITY_SEED)', () => {
  const seed = Number(process.env.PARITY_SEED ?? Date.now() % 1e9);
  console.log(`parity seed ${seed} (PARITY_SEED=${seed} replays it)`);
  let state = seed >>> 0 || 1;
  const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const presets = { 'wuhan-2024': ['metro', 'bike', 'bus'], 'shanghai-2024': ['metro', 'bike', 'bus'], 'shenzhen-2022': ['metro', 'electric_bus'] };
  const calls = [];
  for (let i = 0; i < 300; i++) {
    const preset = Object.keys(presets)[Math.floor(rand() * 3)];
    const legs = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => {
      const modes = presets[preset];
      const leg = { mode: rand() < 0.05 ? 'car' : modes[Math.floor(rand() * modes.length)] };
      if (rand() < 0.9) leg.distance_km = (rand() * 130 - 5).toFixed(Math.floor(rand() * 4));
      return leg;
    });
    calls.push({ function: 'estimateCommute', request: { preset, legs } });
    calls.push({
      function: 'measureTrace',
      request: { trace: Array.from({ length: 2 + Math.floor(rand() * 20) }, (_, k) => ({
        lat: 36 + rand() * 0.5, lon: 103.5 + rand() * 0.5, t: new Date(Date.UTC(2024, 4, 1, 8) + k * (rand() * 120000)).toISOString(),
      })) },
    });
  }
  const native = JSON.parse(execFileSync(nativeBin, ['batch'], { input: JSON.stringify(calls), maxBuffer: 1 << 26 }));
  calls.forEach((c, i) => assert.deepEqual(wasmOutcome(c), native[i], `seed ${seed}, call ${i}: ${JSON.stringify(c.request)}`));
});

test('the browser package (size-optimised build) agrees with the Node one', async () => {
  const web = await loadWebPackage();
  for (const v of vectors) assert.deepEqual(wasmOutcome(v, web), wasmOutcome(v), v.name);
});
