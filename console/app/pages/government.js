// @ts-check
// Government staff: organisation applications to approve or reject, and
// the market's instruments to list, suspend and resume.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href } from '../router.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

export function Approvals() {
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/organizations', { params: { query: { status: 'pending', limit: 50, starting_after: after } } })), [version]);
  const [reasons, setReasons] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const decide = (/** @type {string} */ id, /** @type {boolean} */ approve) => action.run(async () => {
    const body = { reason: (reasons[id] ?? '').trim() || null };
    await ok(approve
      ? client.POST('/api/v1/organizations/{id}/approve', { params: { path: { id } }, body })
      : client.POST('/api/v1/organizations/{id}/reject', { params: { path: { id } }, body }));
    setVersion((v) => v + 1);
  });
  return html`<${Page} title=${t('gov.approvals')}>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('gov.pending')} rows=${pages.rows} rowKey=${(/** @type {Schemas['OrganizationView']} */ o) => o.id} empty=${t('gov.none_pending')}
      columns=${[
        [t('org.name'), (/** @type {Schemas['OrganizationView']} */ o) => o.name],
        [t('org.kind'), (/** @type {Schemas['OrganizationView']} */ o) => label('org_kind', o.kind)],
        [t('gov.uscc'), (/** @type {Schemas['OrganizationView']} */ o) => html`<span class="mono">${o.uscc}</span>`],
        [t('gov.applied'), (/** @type {Schemas['OrganizationView']} */ o) => when(o.created_at)],
        [t('gov.decision'), (/** @type {Schemas['OrganizationView']} */ o) => html`<label class="inline"><span class="sr-only">${t('gov.reason_for', { name: o.name })}</span>
          <input value=${reasons[o.id] ?? ''} placeholder=${t('gov.reason')} onInput=${(/** @type {Event} */ e) => setReasons({ ...reasons, [o.id]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
          <button type="button" disabled=${action.busy} data-approve=${o.id} onClick=${() => decide(o.id, true)}>${t('gov.approve')}</button>
          <button type="button" class="danger" disabled=${action.busy} onClick=${() => decide(o.id, false)}>${t('gov.reject')}</button>`],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}

export function Instruments() {
  const [version, setVersion] = useState(0);
  const list = useLoad(() => ok(client.GET('/api/v1/market/instruments')), [version]);
  const [reasons, setReasons] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const change = (/** @type {Schemas['InstrumentView']} */ i) => action.run(async () => {
    const params = { path: { code: i.code } };
    const body = { reason: (reasons[i.code] ?? '').trim() };
    await ok(i.status === 'listed'
      ? client.POST('/api/v1/market/instruments/{code}/suspend', { params, body })
      : client.POST('/api/v1/market/instruments/{code}/resume', { params, body }));
    setVersion((v) => v + 1);
  });
  return html`<${Page} title=${t('gov.instruments')}>
    ${list.loading && !list.data ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${list.problem ?? action.problem} />
    <${Table} caption=${t('market.instruments')} rows=${list.data?.data ?? []} rowKey=${(/** @type {Schemas['InstrumentView']} */ i) => i.code}
      columns=${[
        [t('market.code'), (/** @type {Schemas['InstrumentView']} */ i) => html`<a href=${href(`/explorer/market/${i.code}`)}>${i.code}</a>`],
        [t('market.status'), (/** @type {Schemas['InstrumentView']} */ i) => html`<span data-instrument=${i.code} data-status=${i.status}>${label('trading_status', i.status)}</span>`],
        [t('market.reference'), (/** @type {Schemas['InstrumentView']} */ i) => i.reference_price],
        [t('market.fee_rate'), (/** @type {Schemas['InstrumentView']} */ i) => i.fee_rate],
        [t('market.guidance'), (/** @type {Schemas['InstrumentView']} */ i) => html`<a href=${href('/pricing', { code: i.code })}>${i.guidance_price ?? t('gov.publish_guidance')}</a>${i.floor_price ? ` (${t('market.floor')})` : ''}`],
        [t('gov.change'), (/** @type {Schemas['InstrumentView']} */ i) => html`<label class="inline"><span class="sr-only">${t('gov.reason_for', { name: i.code })}</span>
          <input value=${reasons[i.code] ?? ''} placeholder=${t('gov.reason')} onInput=${(/** @type {Event} */ e) => setReasons({ ...reasons, [i.code]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
          <button type="button" class=${i.status === 'listed' ? 'danger' : ''} disabled=${action.busy} onClick=${() => change(i)}>${i.status === 'listed' ? t('gov.suspend') : t('gov.resume')}</button>`],
      ]} />
    ${list.data?.data.length ? html`<${InstrumentRules} instruments=${list.data.data} changed=${() => setVersion((v) => v + 1)} />` : null}
    <${ListInstrument} listed=${() => setVersion((v) => v + 1)} />
  </${Page}>`;
}

/** One instrument's own block-trade minimum and fee rate (blank: the market-wide setting), with a reason for the record. */
function InstrumentRules(/** @type {{ instruments: Schemas['InstrumentView'][], changed: () => void }} */ { instruments, changed }) {
  const [v, setV] = useState({ code: instruments[0].code, block_min_units: '', fee_rate: '', reason: '' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const current = instruments.find((i) => i.code === v.code) ?? instruments[0];
  return html`<form class="form" aria-labelledby="rules-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/market/instruments/{code}/rules', {
          params: { path: { code: current.code } },
          body: { block_min_units: v.block_min_units.trim() || null, fee_rate: v.fee_rate.trim() || null, reason: v.reason.trim() },
        }));
        setV({ ...v, block_min_units: '', fee_rate: '', reason: '' });
        changed();
      });
    }}>
    <h2 id="rules-title">${t('gov.rules')}</h2>
    <${Field} label=${t('market.code')} name="code" value=${current.code} onInput=${set('code')} options=${instruments.map((i) => /** @type {[string, string]} */ ([i.code, i.code]))} />
    <p class="note" data-testid="rules-now">${t('gov.rules_now', { block: count(current.block_min_units), fee: current.fee_rate })}</p>
    <${Field} label=${t('gov.block_min')} name="block_min_units" inputmode="numeric" value=${v.block_min_units} onInput=${set('block_min_units')} hint=${t('gov.default_hint')} problem=${action.problem} />
    <${Field} label=${t('market.fee_rate')} name="fee_rate" inputmode="decimal" value=${v.fee_rate} onInput=${set('fee_rate')} hint=${t('gov.default_hint')} problem=${action.problem} />
    <${Field} label=${t('gov.rules_reason')} name="reason" value=${v.reason} onInput=${set('reason')} required problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('gov.rules_save')}</button>
  </form>`;
}

function ListInstrument(/** @type {{ listed: () => void }} */ { listed }) {
  const [v, setV] = useState({ code: '', reference_price: '', block_min_units: '', fee_rate: '' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<form class="form" aria-labelledby="list-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/market/instruments', {
          body: { code: v.code.trim(), reference_price: v.reference_price.trim() || null, block_min_units: v.block_min_units.trim() || null, fee_rate: v.fee_rate.trim() || null },
        }));
        listed();
      });
    }}>
    <h2 id="list-title">${t('gov.list')}</h2>
    <${Field} label=${t('market.code')} name="code" value=${v.code} onInput=${set('code')} placeholder="TPH-PRJ-2026" required problem=${action.problem} />
    <${Field} label=${t('market.reference')} name="reference_price" inputmode="decimal" value=${v.reference_price} onInput=${set('reference_price')} hint=${t('gov.reference_hint')} problem=${action.problem} />
    <${Field} label=${t('gov.block_min')} name="block_min_units" inputmode="numeric" value=${v.block_min_units} onInput=${set('block_min_units')} hint=${t('gov.default_hint')} problem=${action.problem} />
    <${Field} label=${t('market.fee_rate')} name="fee_rate" inputmode="decimal" value=${v.fee_rate} onInput=${set('fee_rate')} hint=${t('gov.default_hint')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('gov.list_now')}</button>
  </form>`;
}
