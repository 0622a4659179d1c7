// Checks a retirement certificate's or a trade attestation's audit proof in
// the browser, as a phone does offline: verifyTreeHead, then that the
// logged leaf states what the document does, then merkleLeafHash +
// verifyInclusion.
import init, { verifyTreeHead, verifyInclusion, merkleLeafHash } from '../pkg/carbon_calc.js';

const $ = (id) => document.getElementById(id);

const hexOf = (text) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Why the logged leaf differs from the document, or null when it states it. */
function stated(leaf, doc) {
  const b = leaf.body;
  if (doc.attestation_id !== undefined) {
    const delivered = (doc.deliveries ?? []).map((d) => `${d.batch_id}:${d.amount}`).join(',');
    const logged = (b.deliveries ?? []).map((d) => `${d.batch}:${d.grams}`).join(',');
    const same = leaf.kind === 'market.trade' && b.trade === doc.attestation_id
      && b.instrument === doc.instrument && b.price === doc.price && String(b.quantity) === doc.quantity
      && b.buyer === doc.buyer?.organization_id && b.seller === doc.seller?.organization_id
      && logged === delivered;
    return same ? null : 'the logged trade differs from the attestation';
  }
  const same = leaf.kind === 'registry.retirement' && b.retirement === doc.certificate_id
    && b.quantity_g === Number(doc.quantity_g) && b.serial_first === doc.serial_first
    && b.serial_last === doc.serial_last && b.beneficiary === doc.beneficiary;
  return same ? null : 'the logged retirement differs from the certificate';
}

/** 'valid', or why not. `key` pins the log's public key when given. */
export function check(doc, key) {
  const audit = doc.audit;
  if (!audit) return 'not sealed yet';
  const head = audit.tree_head;
  if (key && key !== head.public_key) return 'signed by another key';
  const signed = verifyTreeHead({
    tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp,
    signature: head.signature, public_key: head.public_key,
  });
  if (!signed) return 'tree head signature invalid';
  const differs = stated(JSON.parse(audit.leaf), doc);
  if (differs) return differs;
  const included = verifyInclusion({
    leaf_hash: merkleLeafHash(hexOf(audit.leaf)), leaf_index: audit.leaf_index,
    tree_size: head.tree_size, proof: audit.inclusion.proof, root_hash: head.root_hash,
  });
  return included ? 'valid' : 'inclusion proof invalid';
}

function show(cert, key) {
  let verdict;
  try {
    verdict = check(cert, key);
  } catch (e) {
    verdict = `error: ${e.message}`;
  }
  $('verdict').textContent = verdict;
  $('verdict').dataset.verdict = verdict;
  const what = cert.attestation_id !== undefined
    ? `${cert.instrument} ${cert.quantity} ${cert.unit} @ ${cert.price}, ${cert.traded_at}`
    : `${cert.quantity_t} t, ${cert.serial_first} … ${cert.serial_last}`;
  $('detail').textContent = cert.audit
    ? `${what}, leaf ${cert.audit.leaf_index} of ${cert.audit.tree_head.tree_size}`
    : '';
}

async function main() {
  await init();
  const params = new URLSearchParams(location.search);
  const key = params.get('key');
  $('check').addEventListener('click', () => {
    try {
      show(JSON.parse($('input').value), key);
    } catch (e) {
      $('verdict').textContent = `error: ${e.message}`;
    }
  });
  const src = params.get('src');
  if (src) {
    const text = await (await fetch(src)).text();
    $('input').value = text;
    show(JSON.parse(text), key);
  }
  document.body.dataset.ready = 'true';
}

main();
