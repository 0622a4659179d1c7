// @ts-check
// What the certificate check checks, step by step, with carbon-calc's
// verifier: the tree head's signature, whose key signed it, that the
// logged leaf states what the document does, and the leaf's inclusion
// proof. Nothing here trusts the server beyond the key it publishes.

/** @typedef {import('./api.js').Schemas} Schemas */
/**
 * A trade as anyone may check it from its QR code's URL: the public trade
 * (never who) with its audit entry, inclusion proof and the current signed
 * head, read from this registry.
 * @typedef {{ public_trade: Schemas['PublicTrade'], audit: Schemas['AuditReceipt'] }} PublicTradeCheck
 */
/** @typedef {Schemas['Certificate'] | Schemas['Attestation'] | PublicTradeCheck} Document */
/** @typedef {{ step: 'sealed' | 'signature' | 'key' | 'statement' | 'inclusion', ok: boolean | null, detail: string }} Step */

const hexOf = (/** @type {string} */ text) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Whether `doc` is a trade attestation (else a retirement certificate). */
export const isAttestation = (/** @type {Document} */ doc) => 'attestation_id' in doc;

/** The fields where the logged leaf and the document differ (empty when it states it). */
export function differences(/** @type {any} */ leaf, /** @type {Document} */ doc) {
  const b = leaf?.body ?? {};
  /** @type {Array<[string, unknown, unknown]>} */
  const pairs = 'public_trade' in doc
    ? [
        ['kind', leaf?.kind, 'market.trade'],
        ['id', b.trade, doc.public_trade.id],
        ['instrument', b.instrument, doc.public_trade.instrument],
        ['method', b.method, doc.public_trade.method],
        ['price', b.price, doc.public_trade.price],
        ['quantity', String(b.quantity), doc.public_trade.quantity],
        ['deliveries', (b.deliveries ?? []).map((/** @type {any} */ d) => `${d.batch}:${d.grams}`).join(','),
          doc.public_trade.deliveries.map((d) => `${d.batch_id}:${d.amount}`).join(',')],
      ]
    : 'attestation_id' in doc
    ? [
        ['kind', leaf?.kind, 'market.trade'],
        ['attestation_id', b.trade, doc.attestation_id],
        ['instrument', b.instrument, doc.instrument],
        ['price', b.price, doc.price],
        ['quantity', String(b.quantity), doc.quantity],
        ['buyer', b.buyer, doc.buyer.organization_id],
        ['seller', b.seller, doc.seller.organization_id],
        ['deliveries', (b.deliveries ?? []).map((/** @type {any} */ d) => `${d.batch}:${d.grams}`).join(','),
          doc.deliveries.map((d) => `${d.batch_id}:${d.amount}`).join(',')],
      ]
    : [
        ['kind', leaf?.kind, 'registry.retirement'],
        ['certificate_id', b.retirement, doc.certificate_id],
        ['quantity_g', String(b.quantity_g), doc.quantity_g],
        ['serial_first', b.serial_first, doc.serial_first],
        ['serial_last', b.serial_last, doc.serial_last],
        ['beneficiary', b.beneficiary, doc.beneficiary],
      ];
  return pairs.filter(([, logged, stated]) => logged !== stated).map(([field]) => field);
}

/**
 * Every step of the check, in order; the document is valid when all are ok.
 * @param {Document} doc
 * @param {{ verifyTreeHead: Function, verifyInclusion: Function, merkleLeafHash: Function }} calc
 * @param {string | null} publishedKey this registry's key, when it could be read
 * @returns {Step[]}
 */
export function checkDocument(doc, calc, publishedKey) {
  const audit = doc.audit;
  if (!audit) return [{ step: 'sealed', ok: false, detail: '' }];
  const head = audit.tree_head;
  /** @type {Step[]} */
  const steps = [];
  const signed = calc.verifyTreeHead({
    tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp,
    signature: head.signature, public_key: head.public_key,
  });
  steps.push({ step: 'signature', ok: !!signed, detail: `${head.tree_size}` });
  steps.push({ step: 'key', ok: publishedKey === null ? null : publishedKey === head.public_key, detail: head.public_key });
  let leaf = null;
  try {
    leaf = JSON.parse(audit.leaf);
  } catch {
    leaf = null;
  }
  const differs = leaf ? differences(leaf, doc) : ['leaf'];
  steps.push({ step: 'statement', ok: differs.length === 0, detail: differs.join(', ') });
  const included = calc.verifyInclusion({
    leaf_hash: calc.merkleLeafHash(hexOf(audit.leaf)), leaf_index: audit.leaf_index,
    tree_size: head.tree_size, proof: audit.inclusion.proof, root_hash: head.root_hash,
  });
  steps.push({ step: 'inclusion', ok: !!included, detail: `${audit.leaf_index}` });
  return steps;
}
