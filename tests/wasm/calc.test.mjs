// Every export of the WebAssembly package, success and failure, in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calc } from './load.mjs';

/** Asserts that fn throws an Error naming `field` with `code`. */
function throwsAt(fn, code, field) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    return true;
  });
}

test('estimateCommute: the issue example', () => {
  const r = calc.estimateCommute({
    preset: 'wuhan-2024',
    legs: [{ mode: 'metro', distance_km: '7.35' }, { mode: 'bus' }, { mode: 'bike', distance_km: '1.2' }],
  });
  assert.deepEqual(r, {
    preset: 'wuhan-2024',
    preset_version: 1,
    reduction_g: '900.7',
    credited_g: '901',
    legs: [
      { mode: 'metro', distance_km: '7.35', factor_g: '78.4', unit: 'g_per_km', reduction_g: '576.24' },
      { mode: 'bus', factor_g: '212.5', unit: 'g_per_trip', reduction_g: '212.5' },
      { mode: 'bike', distance_km: '1.2', factor_g: '93.3', unit: 'g_per_km', reduction_g: '111.96' },
    ],
  });
});

test('estimateCommute: errors name the field', () => {
  throwsAt(() => calc.estimateCommute({ legs: [{ mode: 'car', distance_km: '1' }] }), 'unknown_mode', 'legs[0].mode');
  throwsAt(() => calc.estimateCommute({ legs: [{ mode: 'bus' }, { mode: 'metro' }] }), 'missing_field', 'legs[1].distance_km');
  throwsAt(() => calc.estimateCommute({ legs: [{ mode: 'metro', distance_km: '-1' }] }), 'out_of_range', 'legs[0].distance_km');
  throwsAt(() => calc.estimateCommute({ legs: [{ mode: 'metro', distance_km: 7.35 }] }), 'invalid_value', 'legs[0].distance_km');
  throwsAt(() => calc.estimateCommute({ legs: Array(11).fill({ mode: 'bus' }) }), 'too_many_items', 'legs');
  throwsAt(() => calc.estimateCommute({ preset: 'x', legs: [{ mode: 'bus' }] }), 'unknown_methodology', 'preset');
  throwsAt(() => calc.estimateCommute(undefined), 'invalid_value', 'request');
  throwsAt(() => calc.estimateCommute(42), 'invalid_value', 'request');
});

test('estimateGridElectricity, estimateMethane, estimateForestSink', () => {
  const grid = calc.estimateGridElectricity({ grid: 'northwest-2022', electricity_mwh: '1234.5' });
  assert.equal(grid.reduction_t, '723.04665');
  assert.equal(grid.credited_g, '723046650');
  assert.equal(grid.purpose, 'average_emission_factor');
  throwsAt(() => calc.estimateGridElectricity({ grid: 'northwest-2022', electricity_mwh: '-1' }), 'out_of_range', 'electricity_mwh');

  const ch4 = calc.estimateMethane({ ch4_t: '12.3', gwp: 'ar5' });
  assert.deepEqual([ch4.reduction_t, ch4.credited_g, ch4.gwp_version], ['344.4', '344400000', 1]);
  throwsAt(() => calc.estimateMethane({ ch4_t: '1', gwp: 'ar9' }), 'unknown_methodology', 'gwp');

  const forest = calc.estimateForestSink({
    area_ha: '100', volume_m3_per_ha_start: '20', volume_m3_per_ha_end: '50', wood_density: '0.5',
    bef: '1.5', root_shoot_ratio: '0.25', carbon_fraction: '0.5', buffer_fraction: '0.2',
  });
  assert.deepEqual(
    [forest.gross_t, forest.buffer_t, forest.reduction_t, forest.credited_g],
    ['5156.25', '1031.25', '4125', '4125000000'],
  );
  throwsAt(() => calc.estimateForestSink({ area_ha: '1' }), 'missing_field', 'volume_m3_per_ha_start');
});

test('checkTrip and measureTrace', () => {
  const trip = calc.checkTrip({
    mode: 'bike', distance_km: '20', started_at: '2024-05-01T08:00:00Z', ended_at: '2024-05-01T08:30:00Z',
  });
  assert.equal(trip.avg_speed_kmh, '40');
  assert.equal(trip.within_bounds, false);
  assert.deepEqual(trip.problems, ['too_fast']);
  throwsAt(
    () => calc.checkTrip({ mode: 'bike', distance_km: '1', started_at: 'now', ended_at: '2024-05-01T08:30:00Z' }),
    'invalid_value', 'started_at',
  );

  const trace = calc.measureTrace({
    trace: [
      { lat: 36.0, lon: 103.8, t: '2024-05-01T08:00:00Z' },
      { lat: 36.01, lon: 103.8, t: '2024-05-01T08:04:00Z' },
      { lat: 37.01, lon: 103.8, t: '2024-05-01T08:05:00Z' },
    ],
  });
  assert.equal(trace.distance_km, '1.112');
  assert.equal(trace.teleports.length, 1);
  assert.equal(trace.teleports[0].from, 1);
  throwsAt(() => calc.measureTrace({ trace: [] }), 'too_few_items', 'trace');
});

test('listPresets and loadMethodologies', () => {
  const all = calc.listPresets();
  assert.equal(all.default_preset, 'lanzhou-interim');
  const ids = all.commute_presets.map((p) => p.id).sort();
  assert.deepEqual(ids, ['lanzhou-interim', 'shanghai-2024', 'shenzhen-2022', 'wuhan-2024']);
  assert.ok(all.grid_factors.some((g) => g.id === 'northwest-2022' && g.factor_t_per_mwh === '0.5857'));
  assert.deepEqual(all.gwp_sets.map((g) => g.id).sort(), ['ar4', 'ar5', 'sar']);
  for (const p of all.commute_presets) for (const f of p.factors) assert.ok(f.source.length > 0);

  // A newer wuhan-2024 from the server changes the next estimates.
  const wuhan = structuredClone(all.commute_presets.find((p) => p.id === 'wuhan-2024'));
  wuhan.version = 2;
  wuhan.factors.find((f) => f.mode === 'bus').factor_g = '200';
  const report = calc.loadMethodologies({ commute_presets: [wuhan] });
  assert.deepEqual(report.replaced, [{ kind: 'commute_preset', id: 'wuhan-2024', version: 2 }]);
  const r = calc.estimateCommute({ preset: 'wuhan-2024', legs: [{ mode: 'bus' }] });
  assert.deepEqual([r.preset_version, r.reduction_g], [2, '200']);
  // Same version, other content: refused, nothing changes.
  wuhan.factors.find((f) => f.mode === 'bus').factor_g = '1';
  throwsAt(() => calc.loadMethodologies({ commute_presets: [wuhan] }), 'invalid_methodology', 'commute_presets[0]');
  assert.equal(calc.estimateCommute({ preset: 'wuhan-2024', legs: [{ mode: 'bus' }] }).reduction_g, '200');
});

const EMPTY_LEAF = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';

test('merkleLeafHash', () => {
  assert.equal(calc.merkleLeafHash(''), EMPTY_LEAF);
  assert.equal(calc.merkleLeafHash('00'), '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7');
  assert.equal(calc.merkleLeafHash('0A0B'), calc.merkleLeafHash('0a0b'));
  throwsAt(() => calc.merkleLeafHash('abc'), 'invalid_value', 'data');
});

/** Flips one bit of a hex string. */
function flipBit(hex, bit) {
  const bytes = Buffer.from(hex, 'hex');
  bytes[bit >> 3] ^= 1 << (bit & 7);
  return bytes.toString('hex');
}

test('verifyInclusion and verifyConsistency: true, false on any flipped bit, throw on bad hex', () => {
  const incl = {
    leaf_hash: '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    leaf_index: 2, tree_size: 3,
    proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
    root_hash: 'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  };
  assert.equal(calc.verifyInclusion(incl), true);
  for (let bit = 0; bit < 256; bit++) {
    assert.equal(calc.verifyInclusion({ ...incl, leaf_hash: flipBit(incl.leaf_hash, bit) }), false);
    assert.equal(calc.verifyInclusion({ ...incl, root_hash: flipBit(incl.root_hash, bit) }), false);
    assert.equal(calc.verifyInclusion({ ...incl, proof: [flipBit(incl.proof[0], bit)] }), false);
  }
  for (const [i, s] of [[0, 3], [1, 3], [2, 4], [2, 2]]) {
    assert.equal(calc.verifyInclusion({ ...incl, leaf_index: i, tree_size: s }), false);
  }
  throwsAt(() => calc.verifyInclusion({ ...incl, root_hash: 'xyz' }), 'invalid_value', 'root_hash');
  throwsAt(() => calc.verifyInclusion({ ...incl, leaf_index: -1 }), 'invalid_value', 'leaf_index');

  const cons = {
    first_size: 6, second_size: 8,
    first_root: '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    second_root: '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  };
  assert.equal(calc.verifyConsistency(cons), true);
  for (let bit = 0; bit < 256; bit++) {
    assert.equal(calc.verifyConsistency({ ...cons, first_root: flipBit(cons.first_root, bit) }), false);
    assert.equal(calc.verifyConsistency({ ...cons, second_root: flipBit(cons.second_root, bit) }), false);
    for (let k = 0; k < 3; k++) {
      const proof = [...cons.proof];
      proof[k] = flipBit(proof[k], bit);
      assert.equal(calc.verifyConsistency({ ...cons, proof }), false);
    }
  }
  assert.equal(calc.verifyConsistency({ ...cons, first_size: 5 }), false);
  throwsAt(() => calc.verifyConsistency({ ...cons, proof: ['00'] }), 'invalid_value', 'proof[0]');
});

test('verifyTreeHead: true, false on any flipped bit', () => {
  const sth = {
    tree_size: 8,
    root_hash: '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    timestamp: 1714521600000,
    signature: '0fe07842c733e074c242d00a5e86b69afc8c93ce8a2dba11e66786debb8897d4847a79f3e6ff3cc6900ae52ead44228fa0ec47d9ec28cf7bac729ab170b75d04',
    public_key: '197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61',
  };
  assert.equal(calc.verifyTreeHead(sth), true);
  for (let bit = 0; bit < 512; bit++) {
    assert.equal(calc.verifyTreeHead({ ...sth, signature: flipBit(sth.signature, bit) }), false);
  }
  for (let bit = 0; bit < 256; bit++) {
    assert.equal(calc.verifyTreeHead({ ...sth, root_hash: flipBit(sth.root_hash, bit) }), false);
    assert.equal(calc.verifyTreeHead({ ...sth, public_key: flipBit(sth.public_key, bit) }), false);
  }
  assert.equal(calc.verifyTreeHead({ ...sth, tree_size: 9 }), false);
  assert.equal(calc.verifyTreeHead({ ...sth, timestamp: sth.timestamp + 1 }), false);
  throwsAt(() => calc.verifyTreeHead({ ...sth, public_key: 'ab' }), 'invalid_value', 'public_key');
});

test('the TypeScript declarations type every export (no any)', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { root } = await import('./load.mjs');
  for (const pkg of ['pkg', 'pkg-node']) {
    const dts = fs.readFileSync(path.join(root, 'wasm-calc', pkg, 'carbon_calc.d.ts'), 'utf8');
    // initSync is wasm-bindgen's loader in the web package, not ours.
    const exported = dts.split('\n').filter((l) => l.startsWith('export function') && !l.includes('initSync'));
    const names = exported.map((l) => l.match(/export function (\w+)/)[1]).sort();
    assert.deepEqual(names, [
      'checkCommute', 'checkTrip', 'estimateCommute', 'estimateForestSink', 'estimateGridElectricity', 'estimateMethane',
      'estimatePriceInsurance', 'estimateSinkInsurance',
      'listPresets', 'loadMethodologies', 'measureTrace', 'merkleLeafHash', 'verifyConsistency',
      'verifyInclusion', 'verifyTreeHead',
    ]);
    for (const line of exported) assert.doesNotMatch(line, /\bany\b/, `${pkg}: ${line}`);
    assert.match(dts, /export interface CommuteEstimate/);
  }
});
