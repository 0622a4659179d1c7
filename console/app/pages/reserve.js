// @ts-check
// The reserve platform (收储平台). A holder's staff offer it units
// (buy-back), swap units for its stock, or ask for a lease, all at the
// holder's applicable guidance price, and withdraw an offer or return a
// lease; the reserve's staff accept or decline offers and execute the
// price corridor's stabilisation actions. The explorer shows the reserve's
// cash, stock, leases and every operation without the holders' names.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { orgsWith, useMe } from '../session.js';
import { useApprovedOrgs, useOrgNames } from '../orgs.js';
import { OrgChoice } from './auctions.js';
import { ApplicablePrice } from './pricing.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */
/** @typedef {Schemas['OperationView']} Operation */

/** What an operation is, in a line: a swap's other side, a lease's term and due day. */
function terms(/** @type {Operation} */ o) {
  if (o.kind === 'swap') return t('reserve.swap_terms', { units: count(o.wanted_quantity ?? '0'), code: o.wanted_instrument ?? '', price: o.wanted_price ?? '', cash: o.cash ?? '0.00' });
  if (o.kind === 'lease') {
    const base = t('reserve.lease_terms', { days: o.term_days ?? 0, fee: o.fee ?? '', deposit: o.deposit ?? '' });
    const due = o.due_on ? ` ${t('reserve.due_on', { day: o.due_on })}` : '';
    const paid = o.settled_price ? ` ${t('reserve.paid_at', { price: o.settled_price, shortfall: o.shortfall ?? '0.00' })}` : '';
    return base + due + paid;
  }
  return '';
}

/** The columns every list of operations shows. */
const columns = /** @type {Array<[string, (o: Operation) => unknown]>} */ ([
  [t('reserve.kind'), (o) => label('reserve_kind', o.kind)],
  [t('market.code'), (o) => o.instrument],
  [t('market.quantity'), (o) => count(o.quantity)],
  [t('reserve.price'), (o) => `${o.price} · ${o.value}`],
  [t('reserve.terms'), (o) => (o.pledge_id ? t('reserve.takeover', { pledge: o.pledge_id }) : terms(o))],
  [t('reserve.status'), (o) => html`<span data-operation=${o.id} data-status=${o.status}>${label('reserve_status', o.status)}</span>${o.reason ? html`<br /><small>${o.reason}</small>` : null}`],
  [t('reserve.when'), (o) => when(o.created_at)],
]);

export function Reserve() {
  const me = useMe();
  const keeping = orgsWith(me, 'reserve');
  const orgs = [...new Set([...orgsWith(me, 'enterprise_operator'), ...keeping])];
  const [org, setOrg] = useState(orgs[0] ?? '');
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((x) => x + 1);
  const isReserve = keeping.includes(org);
  return html`<${Page} title=${t('reserve.title')}>
    <p>${t(isReserve ? 'reserve.lead_keeper' : 'reserve.lead_holder')}</p>
    <${OrgChoice} orgs=${orgs} value=${org} onInput=${setOrg} />
    ${org ? html`<${Operations} key=${org} org=${org} isReserve=${isReserve} version=${version} changed=${changed} />` : null}
    ${org && isReserve ? html`<${Actions} org=${org} />` : null}
    ${org && !isReserve ? html`<${Offer} org=${org} offered=${changed} />` : null}
  </${Page}>`;
}

function Operations(/** @type {{ org: string, isReserve: boolean, version: number, changed: () => void }} */ { org, isReserve, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/reserve/operations', { params: { query: { organization_id: org, limit: 50, starting_after: after } } })), [org, version]);
  const names = useOrgNames([...new Set(pages.rows.flatMap((o) => [o.organization_id ?? '', o.reserve_organization_id]).filter(Boolean))]);
  const [reason, setReason] = useState('');
  const action = useAction();
  const answer = (/** @type {Operation} */ o, /** @type {'accept' | 'decline' | 'withdraw' | 'return'} */ how) => action.run(async () => {
    const params = { path: { id: o.id } };
    const body = { organization_id: org, reason: how === 'decline' ? reason.trim() || null : null };
    await ok(how === 'accept' ? client.POST('/api/v1/reserve/operations/{id}/accept', { params, body })
      : how === 'decline' ? client.POST('/api/v1/reserve/operations/{id}/decline', { params, body })
        : how === 'withdraw' ? client.POST('/api/v1/reserve/operations/{id}/withdraw', { params, body })
          : client.POST('/api/v1/reserve/operations/{id}/return', { params, body }));
    if (how === 'decline') setReason('');
    changed();
  });
  const buttons = (/** @type {Operation} */ o) => {
    if (o.status === 'offered' && isReserve) {
      return html`<button type="button" disabled=${action.busy} onClick=${() => answer(o, 'accept')}>${t('reserve.accept')}</button>
        <button type="button" class="danger" disabled=${action.busy} onClick=${() => answer(o, 'decline')}>${t('reserve.decline')}</button>`;
    }
    // A take-over of pledged units is the bank's enforcement: the holder does not withdraw it.
    if (o.status === 'offered' && !o.pledge_id) return html`<button type="button" class="secondary" disabled=${action.busy} onClick=${() => answer(o, 'withdraw')}>${t('reserve.withdraw')}</button>`;
    if (o.status === 'active' && !isReserve) return html`<button type="button" disabled=${action.busy} onClick=${() => answer(o, 'return')}>${t('reserve.return')}</button>`;
    return null;
  };
  const party = /** @type {[string, (o: Operation) => unknown]} */ (isReserve
    ? [t('reserve.holder'), (o) => names[o.organization_id ?? ''] ?? o.organization_id]
    : [t('reserve.reserve'), (o) => names[o.reserve_organization_id] ?? o.reserve_organization_id]);
  return html`
    ${isReserve ? html`<${Field} label=${t('reserve.decline_reason')} name="reason" value=${reason} onInput=${setReason} hint=${t('reserve.decline_hint')} problem=${action.problem} />` : null}
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('reserve.operations')} rows=${pages.rows} rowKey=${(/** @type {Operation} */ o) => o.id} empty=${t('reserve.none')}
      columns=${[party, ...columns, ['', buttons]]} />
    <${More} pages=${pages} />`;
}

function Offer(/** @type {{ org: string, offered: () => void }} */ { org, offered }) {
  const reserves = useApprovedOrgs('reserve_platform');
  const instruments = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  const codes = (instruments.data?.data ?? []).map((i) => i.code);
  const [v, setV] = useState({ kind: /** @type {Schemas['OperationKind']} */ ('buy_back'), reserve: '', instrument: '', quantity: '', wanted: '', term_days: '90' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const reserve = v.reserve || reserves.data?.[0]?.id || '';
  const code = v.instrument || codes[0] || '';
  const wanted = v.wanted || codes.find((c) => c !== code) || '';
  const done = /** @type {Operation | null} */ (action.done);
  return html`<form class="form" aria-labelledby="offer-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const common = { organization_id: org, reserve_organization_id: reserve, client_id: crypto.randomUUID(), instrument: code, quantity: v.quantity.trim() };
        const made = await ok(v.kind === 'buy_back' ? client.POST('/api/v1/reserve/buy-backs', { body: common })
          : v.kind === 'swap' ? client.POST('/api/v1/reserve/swaps', { body: { ...common, wanted_instrument: wanted } })
            : client.POST('/api/v1/reserve/leases', { body: { ...common, term_days: Number(v.term_days) } }));
        setV({ ...v, quantity: '' });
        offered();
        return made;
      });
    }}>
    <h2 id="offer-title">${t('reserve.offer')}</h2>
    <p class="note">${t('reserve.offer_hint')}</p>
    ${reserves.loading || instruments.loading ? html`<${Busy} />` : null}
    <${Field} label=${t('reserve.kind')} name="kind" value=${v.kind} onInput=${set('kind')}
      options=${[['buy_back', label('reserve_kind', 'buy_back')], ['swap', label('reserve_kind', 'swap')], ['lease', label('reserve_kind', 'lease')]]} />
    <${Field} label=${t('reserve.reserve')} name="reserve_organization_id" value=${reserve} onInput=${set('reserve')}
      options=${(reserves.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t(v.kind === 'lease' ? 'reserve.borrow' : 'reserve.give')} name="instrument" value=${code} onInput=${set('instrument')}
      options=${codes.map((c) => /** @type {[string, string]} */ ([c, c]))} problem=${action.problem} />
    ${code ? html`<${ApplicablePrice} org=${org} code=${code} />` : null}
    ${v.kind === 'swap' ? html`<${Field} label=${t('reserve.wanted')} name="wanted_instrument" value=${wanted} onInput=${set('wanted')}
      options=${codes.filter((c) => c !== code).map((c) => /** @type {[string, string]} */ ([c, c]))} problem=${action.problem} />` : null}
    <${Field} label=${t('reserve.quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} required problem=${action.problem} />
    ${v.kind === 'lease' ? html`<${Field} label=${t('reserve.term_days')} name="term_days" inputmode="numeric" value=${v.term_days} onInput=${set('term_days')} hint=${t('reserve.term_hint')} problem=${action.problem} />` : null}
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('reserve.offer_now')}</button>
    ${done ? html`<p class="note" role="status" data-testid="offered">${t('reserve.offered', { kind: label('reserve_kind', done.kind), value: done.value })}</p>` : null}
  </form>`;
}

/** The open stabilisation actions the reserve executes. */
function Actions(/** @type {{ org: string }} */ { org }) {
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/public/stabilisation-actions', { params: { query: { status: 'open', limit: 20, starting_after: after } } })), [version]);
  const action = useAction();
  const execute = (/** @type {Schemas['ActionView']} */ a) => action.run(async () => {
    await ok(client.POST('/api/v1/stabilisation-actions/{id}/execute', { params: { path: { id: a.id } }, body: { organization_id: org } }));
    setVersion((x) => x + 1);
  });
  return html`<h2>${t('reserve.actions')}</h2>
    <p class="note">${t('reserve.actions_lead')}</p>
    <${ProblemNote} problem=${action.problem} />
    <${ActionTable} rows=${pages.rows} extra=${['', (/** @type {Schemas['ActionView']} */ a) => html`<button type="button" disabled=${action.busy} onClick=${() => execute(a)}>${t('reserve.execute')}</button>`]} />
    <${More} pages=${pages} />`;
}

function ActionTable(/** @type {{ rows: Schemas['ActionView'][], extra?: [string, (a: Schemas['ActionView']) => unknown] }} */ { rows, extra }) {
  const cols = /** @type {Array<[string, (a: Schemas['ActionView']) => unknown]>} */ ([
    [t('market.code'), (a) => a.instrument],
    [t('reserve.trigger'), (a) => label('trigger', a.trigger)],
    [t('reserve.day'), (a) => a.day],
    [t('reserve.close_vs'), (a) => t('reserve.close_line', { close: a.close, trigger: a.trigger_price, guidance: a.guidance_price, days: a.run_days })],
    [t('reserve.status'), (a) => html`<span data-action=${a.id} data-status=${a.status}>${label('action_status', a.status)}</span>${a.quantity ? ` · ${count(a.quantity)}` : ''}`],
  ]);
  return html`<${Table} caption=${t('reserve.actions')} rows=${rows} rowKey=${(/** @type {Schemas['ActionView']} */ a) => a.id} empty=${t('reserve.no_actions')}
    columns=${extra ? [...cols, extra] : cols} />`;
}

/** The public view: every reserve platform's cash, stock and leases, its operations and the stabilisation actions. */
export function PublicReserve() {
  const reserves = useLoad(() => ok(client.GET('/api/v1/public/reserve')), []);
  const ops = usePages((after) => ok(client.GET('/api/v1/public/reserve/operations', { params: { query: { limit: 50, starting_after: after } } })), []);
  const actions = usePages((after) => ok(client.GET('/api/v1/public/stabilisation-actions', { params: { query: { limit: 20, starting_after: after } } })), []);
  return html`<${Page} title=${t('reserve.public_title')}>
    <p>${t('reserve.public_lead')}</p>
    ${reserves.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${reserves.problem} />
    ${(reserves.data?.reserves ?? []).map((r) => html`<section key=${r.organization_id} aria-label=${r.name}>
      <h2>${r.name}</h2>
      <p data-testid="reserve-cash">${t('reserve.cash', { available: r.cash_available, held: r.cash_held })}</p>
      <${Table} caption=${t('reserve.stock_of', { name: r.name })} rows=${r.stock} rowKey=${(/** @type {Schemas['StockLine']} */ s) => s.instrument} empty=${t('reserve.no_stock')}
        columns=${[
          [t('market.code'), (/** @type {Schemas['StockLine']} */ s) => s.instrument],
          [t('reserve.units'), (/** @type {Schemas['StockLine']} */ s) => count(s.units)],
          [t('reserve.held_units'), (/** @type {Schemas['StockLine']} */ s) => count(s.held_units)],
          [t('reserve.lent'), (/** @type {Schemas['StockLine']} */ s) => count(r.lent.find((l) => l.instrument === s.instrument)?.units ?? '0')],
        ]} />
    </section>`)}
    <${Table} caption=${t('reserve.public_operations')} rows=${ops.rows} rowKey=${(/** @type {Operation} */ o) => o.id} empty=${t('reserve.none')} columns=${columns} />
    <${More} pages=${ops} />
    <h2>${t('reserve.actions')}</h2>
    <${ActionTable} rows=${actions.rows} />
    <${More} pages=${actions} />
  </${Page}>`;
}
