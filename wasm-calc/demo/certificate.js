// Checks a retirement certificate's audit proof in the browser, as a phone
// does offline: verifyTreeHead, then merkleLeafHash + verifyInclusion.
import init, { verifyTreeHead, verifyInclusion, merkleLeafHash } from '../pkg/carbon_calc.js';

const $ = (id) => document.getElementById(id);

const hexOf = (text) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** 'valid', or why not. `key` pins the log's public key when given. */
export function check(cert, key) {
  const audit = cert.audit;
  if (!audit) return 'not sealed yet';
  const head = audit.tree_head;
  if (key && key !== head.public_key) return 'signed by another key';
  const signed = verifyTreeHead({
    tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp,
    signature: head.signature, public_key: head.public_key,
  });
  if (!signed) return 'tree head signature invalid';
  const leaf = JSON.parse(audit.leaf);
  if (leaf.kind !== 'registry.retirement' || leaf.body.retirement !== cert.certificate_id
      || leaf.body.quantity_g !== Number(cert.quantity_g) || leaf.body.serial_first !== cert.serial_first
      || leaf.body.serial_last !== cert.serial_last || leaf.body.beneficiary !== cert.beneficiary) {
    return 'the logged retirement differs from the certificate';
  }
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
  $('detail').textContent = cert.audit
    ? `${cert.quantity_t} t, ${cert.serial_first} … ${cert.serial_last}, leaf ${cert.audit.leaf_index} of ${cert.audit.tree_head.tree_size}`
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
