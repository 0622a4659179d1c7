// A retirement certificate and a trade attestation made by the real server
// (tests/wasm/fixtures/, see its README) checked as a phone checks them,
// with the Node build: the tree head's signature, then the leaf's
// inclusion proof. Any change to the leaf, the proof or the head fails the
// check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { calc, root } from './load.mjs';

const fixture = (name) => JSON.parse(fs.readFileSync(path.join(root, 'tests/wasm/fixtures', name), 'utf8'));
const cert = fixture('certificate.json');
const attestation = fixture('attestation.json');
const hex = (text) => Buffer.from(text, 'utf8').toString('hex');

function verifies(c) {
  const head = c.audit.tree_head;
  const signed = calc.verifyTreeHead({
    tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp,
    signature: head.signature, public_key: head.public_key,
  });
  return signed && calc.verifyInclusion({
    leaf_hash: calc.merkleLeafHash(hex(c.audit.leaf)), leaf_index: c.audit.leaf_index,
    tree_size: head.tree_size, proof: c.audit.inclusion.proof, root_hash: head.root_hash,
  });
}

test('a real certificate verifies, and its leaf is the retirement it states', () => {
  assert.equal(verifies(cert), true);
  assert.equal(calc.merkleLeafHash(hex(cert.audit.leaf)), cert.audit.inclusion.leaf_hash);
  const leaf = JSON.parse(cert.audit.leaf);
  assert.equal(leaf.kind, 'registry.retirement');
  assert.equal(leaf.body.retirement, cert.certificate_id);
  assert.equal(String(leaf.body.quantity_g), cert.quantity_g);
  assert.equal(leaf.body.serial_first, cert.serial_first);
});

test('any change to the certificate fails the check', () => {
  const copy = () => structuredClone(cert);
  const more = copy();
  more.audit.leaf = cert.audit.leaf.replace(`"quantity_g":${cert.quantity_g}`, `"quantity_g":${Number(cert.quantity_g) + 1}`);
  assert.notEqual(more.audit.leaf, cert.audit.leaf);
  assert.equal(verifies(more), false);
  const moved = copy();
  moved.audit.leaf_index = (cert.audit.leaf_index + 1) % cert.audit.tree_head.tree_size;
  assert.equal(verifies(moved), false);
  const resigned = copy();
  resigned.audit.tree_head.tree_size += 1;
  assert.equal(verifies(resigned), false);
  if (cert.audit.inclusion.proof.length > 0) {
    const bent = copy();
    const p = bent.audit.inclusion.proof[0];
    bent.audit.inclusion.proof[0] = (p[0] === '0' ? '1' : '0') + p.slice(1);
    assert.equal(verifies(bent), false);
  }
});

test('a real trade attestation verifies, and its leaf is the trade it states', () => {
  assert.equal(verifies(attestation), true);
  const leaf = JSON.parse(attestation.audit.leaf);
  assert.equal(leaf.kind, 'market.trade');
  assert.equal(leaf.body.trade, attestation.attestation_id);
  assert.equal(leaf.body.price, attestation.price);
  assert.equal(String(leaf.body.quantity), attestation.quantity);
  assert.deepEqual(
    leaf.body.deliveries.map((d) => [d.batch, String(d.grams)]),
    attestation.deliveries.map((d) => [d.batch_id, d.amount]),
  );
  const changed = structuredClone(attestation);
  changed.audit.leaf = attestation.audit.leaf.replace(`"price":"${attestation.price}"`, '"price":"0.01"');
  assert.notEqual(changed.audit.leaf, attestation.audit.leaf);
  assert.equal(verifies(changed), false);
});
