// @ts-check
// The certificate check: a retirement certificate or a trade attestation,
// pasted as JSON or named by its QR code's URL, checked in the browser by
// carbon-calc's WebAssembly verifier, saying plainly what was checked.
import { useEffect, useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { carbonCalc } from '../wasm.js';
import { checkDocument } from '../verify.js';
import { Busy, Field, Page, ProblemNote, tonnes, useAction, when } from '../ui.js';

/** @typedef {import('../verify.js').Document} Document */
/** @typedef {import('../verify.js').Step} Step */

const RETIREMENT_URL = /\/api\/v1\/(?:public\/retirements|retirements)\/([0-9a-f-]{36})/i;
const TRADE_URL = /\/api\/v1\/public\/trades\/([0-9a-f-]{36})/i;

/** A public trade with its audit entry, proof and the current signed head. */
async function publicTrade(/** @type {string} */ id) {
  const trade = await ok(client.GET('/api/v1/public/trades/{id}', { params: { path: { id } } }));
  const index = trade.audit_leaf_index;
  if (index === null || index === undefined) return /** @type {Document} */ ({ public_trade: trade, audit: /** @type {any} */ (null) });
  const head = await ok(client.GET('/api/v1/audit/tree-head'));
  const [inclusion, entries] = await Promise.all([
    ok(client.GET('/api/v1/audit/proofs/inclusion', { params: { query: { leaf_index: index, tree_size: head.tree_size } } })),
    ok(client.GET('/api/v1/audit/entries', { params: { query: { start: index, end: index + 1 } } })),
  ]);
  const entry = entries.entries.find((e) => e.leaf_index === index);
  if (!entry) throw new Error(t('check.no_entry', { index }));
  return /** @type {Document} */ ({ public_trade: trade, audit: { leaf: entry.leaf, leaf_index: index, inclusion, tree_head: head } });
}

/** The document `input` names: pasted JSON, or a certificate URL read from this registry. */
async function documentOf(/** @type {string} */ input) {
  const text = input.trim();
  if (text.startsWith('{')) {
    try {
      return { doc: /** @type {Document} */ (JSON.parse(text)), fetched: false };
    } catch (e) {
      throw new Error(t('check.not_json', { why: e instanceof Error ? e.message : String(e) }));
    }
  }
  const trade = TRADE_URL.exec(text)?.[1];
  if (trade) return { doc: await publicTrade(trade), fetched: true };
  const id = RETIREMENT_URL.exec(text)?.[1] ?? (/^[0-9a-f-]{36}$/i.test(text) ? text : null);
  if (!id) throw new Error(t('check.not_understood'));
  const doc = await ok(client.GET('/api/v1/retirements/{id}/certificate', { params: { path: { id }, query: { format: 'json' } } }));
  return { doc: /** @type {Document} */ (doc), fetched: true };
}

async function publishedKey() {
  try {
    return (await ok(client.GET('/api/v1/audit/public-key'))).public_key;
  } catch {
    return null;
  }
}

export function Check(/** @type {{ query: URLSearchParams }} */ { query }) {
  const [input, setInput] = useState(query.get('retirement') ?? '');
  const [outcome, setOutcome] = useState(/** @type {{ doc: Document, steps: Step[], fetched: boolean } | null} */ (null));
  const action = useAction();
  const run = (/** @type {string} */ what) => action.run(async () => {
    setOutcome(null);
    const [calc, key, { doc, fetched }] = await Promise.all([carbonCalc(), publishedKey(), documentOf(what)]);
    setOutcome({ doc, fetched, steps: checkDocument(doc, calc, key) });
  });
  useEffect(() => {
    const id = query.get('retirement');
    if (id) run(id);
  }, [query.get('retirement')]);
  // A party's own trade (from the trading screen): its attestation, read with the sign-in.
  useEffect(() => {
    const trade = query.get('trade');
    if (!trade) return;
    action.run(async () => {
      const doc = await ok(client.GET('/api/v1/market/trades/{id}/attestation', { params: { path: { id: trade }, query: { format: 'json' } } }));
      const text = JSON.stringify(doc, null, 2);
      setInput(text);
      setOutcome(null);
      const [calc, key] = await Promise.all([carbonCalc(), publishedKey()]);
      setOutcome({ doc: /** @type {Document} */ (doc), fetched: true, steps: checkDocument(/** @type {Document} */ (doc), calc, key) });
    });
  }, [query.get('trade')]);
  const valid = outcome && outcome.steps.every((s) => s.ok !== false) && outcome.steps.some((s) => s.step === 'inclusion');
  return html`<${Page} title=${t('check.title')}>
    <p>${t('check.lead')}</p>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => { e.preventDefault(); run(input); }}>
      <${Field} label=${t('check.input')} name="document" multiline rows="8" value=${input} onInput=${setInput} hint=${t('check.input_hint')} required />
      <button type="submit" disabled=${action.busy}>${t('check.submit')}</button>
    </form>
    ${action.busy ? html`<${Busy} label=${t('check.working')} />` : null}
    <${ProblemNote} problem=${action.problem} />
    ${outcome
      ? html`<section class=${valid ? 'verdict valid' : 'verdict invalid'} aria-live="polite" data-verdict=${valid ? 'valid' : 'invalid'}>
          <h2>${valid ? t('check.valid') : t('check.invalid')}</h2>
          <${Stated} doc=${outcome.doc} />
          <ol class="steps">
            ${outcome.steps.map((s) => html`<li data-step=${s.step} data-ok=${String(s.ok)}>
              <span class="mark" aria-hidden="true">${s.ok === true ? '✓' : s.ok === false ? '✗' : '–'}</span>
              ${stepText(s)}
            </li>`)}
          </ol>
          <p class="note">${outcome.fetched ? t('check.fetched') : t('check.offline')}</p>
        </section>`
      : null}
  </${Page}>`;
}

function Stated(/** @type {{ doc: Document }} */ { doc }) {
  if ('public_trade' in doc) {
    const p = doc.public_trade;
    return html`<dl class="facts">
      <dt>${t('check.trade')}</dt><dd class="mono">${p.id}</dd>
      <dt>${t('market.code')}</dt><dd>${p.instrument}</dd>
      <dt>${t('market.price')}</dt><dd>${p.price}</dd>
      <dt>${t('market.quantity')}</dt><dd>${p.quantity}</dd>
      <dt>${t('market.method')}</dt><dd>${label('method', p.method)}</dd>
      <dt>${t('market.time')}</dt><dd>${when(p.time)}</dd>
    </dl>`;
  }
  if ('attestation_id' in doc) {
    return html`<dl class="facts">
      <dt>${t('check.trade')}</dt><dd class="mono">${doc.attestation_id}</dd>
      <dt>${t('market.code')}</dt><dd>${doc.instrument}</dd>
      <dt>${t('market.price')}</dt><dd>${doc.price}</dd>
      <dt>${t('market.quantity')}</dt><dd>${doc.quantity} ${doc.unit}</dd>
      <dt>${t('check.parties')}</dt><dd>${doc.seller.name} → ${doc.buyer.name}</dd>
      <dt>${t('market.time')}</dt><dd>${when(doc.traded_at)}</dd>
    </dl>`;
  }
  return html`<dl class="facts">
    <dt>${t('check.certificate')}</dt><dd class="mono">${doc.certificate_id}</dd>
    <dt>${t('retirement.beneficiary')}</dt><dd>${doc.beneficiary}</dd>
    <dt>${t('retirement.purpose')}</dt><dd>${doc.purpose}</dd>
    <dt>${t('batch.quantity')}</dt><dd>${tonnes(doc.quantity_g)} t</dd>
    <dt>${t('batch.serials')}</dt><dd class="mono">${doc.serial_first} … ${doc.serial_last}</dd>
    <dt>${t('retirement.at')}</dt><dd>${when(doc.retired_at)}</dd>
  </dl>`;
}

/** A step in words: what was checked and how it came out. */
function stepText(/** @type {Step} */ s) {
  switch (s.step) {
    case 'sealed': return t('check.not_sealed');
    case 'signature': return s.ok ? t('check.signature_ok', { size: s.detail }) : t('check.signature_bad');
    case 'key': return s.ok === null ? t('check.key_unknown') : s.ok ? t('check.key_ok') : t('check.key_bad', { key: s.detail });
    case 'statement': return s.ok ? t('check.statement_ok') : t('check.statement_bad', { fields: s.detail.split(', ').map((f) => `${label('field', f)} (${f})`).join('、') });
    case 'inclusion': return s.ok ? t('check.inclusion_ok', { index: s.detail }) : t('check.inclusion_bad');
    default: return '';
  }
}

