// @ts-check
// Green finance. Pledges: a holder applies to pledge units to a bank (or a
// project's coming issuance, or behind an earlier pledge), adds units
// against a margin call and takes units back after repayments; the bank
// confirms with the loan, records repayments and declares enforcement; the
// first bank consents to a later rank; a guarantor answers its guarantee.
// Insurance: an insurer offers sink or price policies, the holder accepts
// (paying the premium) or declines, the insurer approves claims. The
// explorer shows the encumbrance register (never the loans).
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { orgsWith, useMe } from '../session.js';
import { useApprovedOrgs, useOrgNames } from '../orgs.js';
import { OrgChoice } from './auctions.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, fenOf, localProblem, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */
/** @typedef {Schemas['PledgeView']} Pledge */
/** @typedef {Schemas['InsurancePolicyView']} Policy */

/** Yuan typed by a person as the API's fen string, or a local problem on `param`. */
function fen(/** @type {string} */ text, /** @type {string} */ param) {
  const v = fenOf(text);
  if (v === null) throw localProblem(param, t('finance.yuan_hint'));
  return String(v);
}

const listed = () => ok(client.GET('/api/v1/market/instruments'));

export function Pledges() {
  const me = useMe();
  const pledgors = orgsWith(me, 'enterprise_operator');
  const orgs = [...new Set([...pledgors, ...orgsWith(me, 'bank'), ...orgsWith(me, 'guarantor')])];
  const [org, setOrg] = useState(orgs[0] ?? '');
  const [version, setVersion] = useState(0);
  const [open, setOpen] = useState('');
  const changed = () => setVersion((x) => x + 1);
  return html`<${Page} title=${t('pledges.title')}>
    <p>${t('pledges.lead')}</p>
    <${OrgChoice} orgs=${orgs} value=${org} onInput=${(/** @type {string} */ v) => { setOrg(v); setOpen(''); }} />
    ${org ? html`<${PledgeList} key=${org} org=${org} version=${version} onOpen=${setOpen} />` : null}
    ${org && open ? html`<${PledgeDetail} key=${`${open}-${version}`} org=${org} id=${open} changed=${changed} />` : null}
    ${org && pledgors.includes(org) ? html`<${Apply} org=${org} applied=${changed} />` : null}
  </${Page}>`;
}

function PledgeList(/** @type {{ org: string, version: number, onOpen: (id: string) => void }} */ { org, version, onOpen }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/pledges', { params: { query: { organization_id: org, limit: 50, starting_after: after } } })), [org, version]);
  const names = useOrgNames([...new Set(pages.rows.flatMap((p) => [p.pledgor_organization_id, p.pledgee_organization_id]))]);
  return html`<${Table} caption=${t('pledges.list')} rows=${pages.rows} rowKey=${(/** @type {Pledge} */ p) => p.id} empty=${t('pledges.none')}
      columns=${[
        [t('pledges.pledgor'), (/** @type {Pledge} */ p) => names[p.pledgor_organization_id] ?? p.pledgor_organization_id],
        [t('pledges.bank'), (/** @type {Pledge} */ p) => names[p.pledgee_organization_id] ?? p.pledgee_organization_id],
        [t('market.code'), (/** @type {Pledge} */ p) => p.instrument],
        [t('market.quantity'), (/** @type {Pledge} */ p) => count(p.quantity)],
        [t('pledges.rank'), (/** @type {Pledge} */ p) => p.rank],
        [t('pledges.outstanding'), (/** @type {Pledge} */ p) => p.loan_amount ? `${p.outstanding} / ${p.loan_amount}` : ''],
        [t('pledges.status'), (/** @type {Pledge} */ p) => html`<span data-pledge=${p.id} data-status=${p.status}>${label('pledge_status', p.status)}</span>${p.call_deadline ? html`<br /><small>${t('pledges.cure_by', { day: p.call_deadline })}</small>` : null}`],
        ['', (/** @type {Pledge} */ p) => html`<button type="button" class="secondary" onClick=${() => onOpen(p.id)}>${t('pledges.open')}</button>`],
      ]} />
    <${More} pages=${pages} />`;
}

function PledgeDetail(/** @type {{ org: string, id: string, changed: () => void }} */ { org, id, changed }) {
  const detail = useLoad(() => ok(client.GET('/api/v1/pledges/{id}', { params: { path: { id } } })), [id]);
  const d = detail.data;
  if (!d) return html`${detail.loading ? html`<${Busy} />` : null}<${ProblemNote} problem=${detail.problem} />`;
  const p = d.pledge;
  const side = p.pledgor_organization_id === org ? 'pledgor' : p.pledgee_organization_id === org ? 'bank' : p.guarantor_organization_id === org ? 'guarantor' : 'first';
  return html`<section aria-labelledby="pledge-title" data-testid="pledge" data-status=${p.status}>
    <h2 id="pledge-title">${t('pledges.pledge', { code: p.instrument, quantity: count(p.quantity) })}</h2>
    <dl class="facts">
      <dt>${t('pledges.status')}</dt><dd>${label('pledge_status', p.status)}</dd>
      <dt>${t('pledges.collateral')}</dt><dd>${d.collateral}</dd>
      ${p.project_id ? html`<dt>${t('pledges.future')}</dt><dd>${t('pledges.future_line', { share: p.share ?? '1', captured: p.captured })}</dd>` : null}
      <dt>${t('pledges.loan')}</dt><dd>${p.loan_amount ? t('pledges.loan_line', { loan: p.loan_amount, outstanding: p.outstanding, ltv: p.ltv ?? '', due: p.matures_on ?? '' }) : t('pledges.not_confirmed')}</dd>
      <dt>${t('pledges.rank')}</dt><dd>${p.rank}${p.ranks_behind ? ` · ${t('pledges.behind', { id: p.ranks_behind })}` : ''}</dd>
      ${p.last_price ? html`<dt>${t('pledges.valued')}</dt><dd>${t('pledges.valued_line', { price: p.last_price, day: p.last_valued_on ?? '' })}</dd>` : null}
      ${p.call_deadline ? html`<dt>${t('pledges.call')}</dt><dd>${t('pledges.cure_by', { day: p.call_deadline })}</dd>` : null}
      ${p.guarantee_status ? html`<dt>${t('pledges.guarantee')}</dt><dd>${t('pledges.guarantee_line', { share: p.guarantee_share ?? '', status: label('guarantee_status', p.guarantee_status), held: p.guarantee_held })}</dd>` : null}
      ${p.proceeds ? html`<dt>${t('pledges.proceeds')}</dt><dd>${t('pledges.proceeds_line', { proceeds: p.proceeds, guarantor: p.guarantor_paid, shortfall: p.shortfall ?? '0.00' })}</dd>` : null}
      ${p.reason ? html`<dt>${t('pledges.reason')}</dt><dd>${p.reason}</dd>` : null}
    </dl>
    ${side === 'bank' ? html`<${BankActions} org=${org} p=${p} changed=${changed} />` : null}
    ${side === 'pledgor' ? html`<${PledgorActions} org=${org} p=${p} changed=${changed} />` : null}
    ${side === 'guarantor' ? html`<${GuarantorActions} org=${org} p=${p} changed=${changed} />` : null}
    ${side === 'first' && p.status === 'applied' && !p.consented_at ? html`<${Consent} org=${org} p=${p} changed=${changed} />` : null}
    <${Table} caption=${t('pledges.events')} rows=${d.events} empty=${t('ui.empty')}
      columns=${[
        [t('pledges.when'), (/** @type {Schemas['PledgeEventView']} */ e) => when(e.created_at)],
        [t('pledges.event'), (/** @type {Schemas['PledgeEventView']} */ e) => label('pledge_event', e.kind)],
        [t('pledges.amount'), (/** @type {Schemas['PledgeEventView']} */ e) => e.amount ?? (e.units ? count(e.units) : '')],
        [t('pledges.reference'), (/** @type {Schemas['PledgeEventView']} */ e) => e.reference ?? ''],
      ]} />
    <${Table} caption=${t('pledges.valuations')} rows=${d.valuations} empty=${t('ui.empty')}
      columns=${[
        [t('pledges.day'), (/** @type {Schemas['ValuationView']} */ v) => v.day],
        [t('pledges.price'), (/** @type {Schemas['ValuationView']} */ v) => v.price],
        [t('pledges.value'), (/** @type {Schemas['ValuationView']} */ v) => v.value],
        [t('pledges.outstanding'), (/** @type {Schemas['ValuationView']} */ v) => v.outstanding],
        [t('pledges.called'), (/** @type {Schemas['ValuationView']} */ v) => (v.called ? t('pledges.called_yes') : '')],
      ]} />
  </section>`;
}

/** A one-button action on a pledge, with its problem. */
function useRun(/** @type {() => void} */ changed) {
  const action = useAction();
  const run = (/** @type {() => Promise<unknown>} */ fn) => action.run(async () => { await fn(); changed(); });
  return { action, run };
}

function BankActions(/** @type {{ org: string, p: Pledge, changed: () => void }} */ { org, p, changed }) {
  const { action, run } = useRun(changed);
  const reserves = useApprovedOrgs('reserve_platform');
  const [v, setV] = useState({ loan: '', matures_on: '', ltv: '', reason: '', amount: '', reference: '', reserve: '', method: 'reserve', reserve_price: '', hours: '24', min_bid: '' });
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const params = { path: { id: p.id } };
  const reserve = v.reserve || reserves.data?.[0]?.id || '';
  if (p.status === 'applied') {
    return html`<form class="form" aria-label=${t('pledges.confirm')} onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        run(() => ok(client.POST('/api/v1/pledges/{id}/confirm', { params, body: {
          organization_id: org, loan_amount: fen(v.loan, 'loan_amount'), matures_on: v.matures_on, ltv: v.ltv.trim() || null,
        } })));
      }}>
      <${Field} label=${t('pledges.loan_amount')} name="loan_amount" inputmode="decimal" value=${v.loan} onInput=${set('loan')} required problem=${action.problem} hint=${t('pledges.loan_hint')} />
      <${Field} label=${t('pledges.matures_on')} name="matures_on" type="date" value=${v.matures_on} onInput=${set('matures_on')} required problem=${action.problem} />
      <${Field} label=${t('pledges.ltv')} name="ltv" inputmode="decimal" value=${v.ltv} onInput=${set('ltv')} hint=${t('pledges.ltv_hint')} problem=${action.problem} />
      <${Field} label=${t('pledges.decline_reason')} name="reason" value=${v.reason} onInput=${set('reason')} problem=${action.problem} />
      <${ProblemNote} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${t('pledges.confirm')}</button>
      <button type="button" class="danger" disabled=${action.busy}
        onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/decline', { params, body: { organization_id: org, reason: v.reason.trim() || null } })))}>${t('pledges.decline')}</button>
    </form>`;
  }
  if (p.status !== 'active' && p.status !== 'margin_call' && p.status !== 'enforcing') return null;
  return html`<form class="form" aria-label=${t('pledges.repayment')} onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      run(() => ok(client.POST('/api/v1/pledges/{id}/repayments', { params, body: {
        organization_id: org, amount: fen(v.amount, 'amount'), reference: v.reference.trim(),
      } })));
    }}>
    <${ProblemNote} problem=${action.problem} />
    ${p.status !== 'enforcing' ? html`
      <${Field} label=${t('pledges.repaid_amount')} name="amount" inputmode="decimal" value=${v.amount} onInput=${set('amount')} problem=${action.problem} />
      <${Field} label=${t('pledges.reference')} name="reference" value=${v.reference} onInput=${set('reference')} hint=${t('pledges.reference_hint')} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${t('pledges.record_repayment')}</button>` : null}
    <${Field} label=${t('pledges.method')} name="method" value=${v.method} onInput=${set('method')} hint=${t('pledges.enforce_hint')}
      options=${[['reserve', label('enforcement_method', 'reserve')], ['auction', label('enforcement_method', 'auction')]]} />
    ${v.method === 'reserve' ? html`<${Field} label=${t('pledges.reserve')} name="reserve_organization_id" value=${reserve} onInput=${set('reserve')}
      options=${(reserves.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />` : html`
      <${Field} label=${t('pledges.reserve_price')} name="reserve_price" inputmode="decimal" value=${v.reserve_price} onInput=${set('reserve_price')} problem=${action.problem} />
      <${Field} label=${t('pledges.hours')} name="closes_at" inputmode="numeric" value=${v.hours} onInput=${set('hours')} problem=${action.problem} />
      <${Field} label=${t('pledges.min_bid')} name="min_bid_units" inputmode="numeric" value=${v.min_bid} onInput=${set('min_bid')} problem=${action.problem} />`}
    <button type="button" class="danger" disabled=${action.busy}
      onClick=${() => run(() => {
        const now = new Date();
        const body = v.method === 'reserve'
          ? { organization_id: org, method: /** @type {const} */ ('reserve'), reserve_organization_id: reserve }
          : { organization_id: org, method: /** @type {const} */ ('auction'), auction: {
            reserve_price: v.reserve_price.trim(), opens_at: now.toISOString(),
            closes_at: new Date(now.getTime() + Number(v.hours) * 3_600_000).toISOString(), min_bid_units: v.min_bid.trim() || null,
          } };
        return ok(client.POST('/api/v1/pledges/{id}/enforce', { params, body }));
      })}>${t('pledges.enforce')}</button>
  </form>`;
}

function PledgorActions(/** @type {{ org: string, p: Pledge, changed: () => void }} */ { org, p, changed }) {
  const { action, run } = useRun(changed);
  const [quantity, setQuantity] = useState('');
  const params = { path: { id: p.id } };
  if (p.status === 'applied') {
    return html`<${ProblemNote} problem=${action.problem} />
      <button type="button" class="secondary" disabled=${action.busy}
        onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/withdraw', { params, body: { organization_id: org } })))}>${t('pledges.withdraw')}</button>`;
  }
  if (p.status !== 'active' && p.status !== 'margin_call') return null;
  const body = () => ({ organization_id: org, quantity: quantity.trim(), reference: crypto.randomUUID() });
  return html`<form class="form" aria-label=${t('pledges.units')} onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      run(() => ok(client.POST('/api/v1/pledges/{id}/top-ups', { params, body: body() })));
    }}>
    <${Field} label=${t('pledges.units_quantity')} name="quantity" inputmode="decimal" value=${quantity} onInput=${setQuantity} required problem=${action.problem} hint=${t('pledges.units_hint')} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('pledges.top_up')}</button>
    <button type="button" class="secondary" disabled=${action.busy}
      onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/releases', { params, body: body() })))}>${t('pledges.release')}</button>
  </form>`;
}

function GuarantorActions(/** @type {{ org: string, p: Pledge, changed: () => void }} */ { org, p, changed }) {
  const { action, run } = useRun(changed);
  if (p.guarantee_status !== 'proposed') return null;
  const params = { path: { id: p.id } };
  return html`<${ProblemNote} problem=${action.problem} />
    <button type="button" disabled=${action.busy}
      onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/guarantee/accept', { params, body: { organization_id: org } })))}>${t('pledges.guarantee_accept')}</button>
    <button type="button" class="danger" disabled=${action.busy}
      onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/guarantee/decline', { params, body: { organization_id: org } })))}>${t('pledges.guarantee_decline')}</button>`;
}

function Consent(/** @type {{ org: string, p: Pledge, changed: () => void }} */ { org, p, changed }) {
  const { action, run } = useRun(changed);
  return html`<p class="note">${t('pledges.consent_lead')}</p>
    <${ProblemNote} problem=${action.problem} />
    <button type="button" disabled=${action.busy}
      onClick=${() => run(() => ok(client.POST('/api/v1/pledges/{id}/consent', { params: { path: { id: p.id } }, body: { organization_id: org } })))}>${t('pledges.consent')}</button>`;
}

function Apply(/** @type {{ org: string, applied: () => void }} */ { org, applied }) {
  const banks = useApprovedOrgs('bank');
  const guarantors = useApprovedOrgs('guarantor');
  const instruments = useLoad(listed, []);
  const codes = (instruments.data?.data ?? []).map((i) => i.code);
  const [v, setV] = useState({ bank: '', instrument: '', quantity: '', guarantor: '', project: '', share: '', behind: '' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const bank = v.bank || banks.data?.[0]?.id || '';
  const code = v.instrument || codes[0] || '';
  const done = /** @type {Pledge | null} */ (action.done);
  return html`<form class="form" aria-labelledby="apply-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const made = await ok(client.POST('/api/v1/pledges', { body: {
          organization_id: org, pledgee_organization_id: bank, client_id: crypto.randomUUID(), instrument: code,
          quantity: v.behind.trim() ? null : v.quantity.trim(),
          project_id: v.project.trim() || null, share: v.share.trim() || null, ranks_behind: v.behind.trim() || null,
          guarantor_organization_id: v.guarantor || null,
        } }));
        setV({ ...v, quantity: '' });
        applied();
        return made;
      });
    }}>
    <h2 id="apply-title">${t('pledges.apply')}</h2>
    <p class="note">${t('pledges.apply_hint')}</p>
    ${banks.loading || instruments.loading ? html`<${Busy} />` : null}
    <${Field} label=${t('pledges.bank')} name="pledgee_organization_id" value=${bank} onInput=${set('bank')}
      options=${(banks.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t('market.code')} name="instrument" value=${code} onInput=${set('instrument')}
      options=${codes.map((c) => /** @type {[string, string]} */ ([c, c]))} problem=${action.problem} />
    <${Field} label=${t('pledges.units_quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} problem=${action.problem} />
    <${Field} label=${t('pledges.guarantor')} name="guarantor_organization_id" value=${v.guarantor} onInput=${set('guarantor')}
      options=${[['', t('pledges.no_guarantor')], ...(guarantors.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))]} problem=${action.problem} />
    <${Field} label=${t('pledges.project')} name="project_id" value=${v.project} onInput=${set('project')} hint=${t('pledges.project_hint')} problem=${action.problem} />
    <${Field} label=${t('pledges.share')} name="share" inputmode="decimal" value=${v.share} onInput=${set('share')} problem=${action.problem} />
    <${Field} label=${t('pledges.ranks_behind')} name="ranks_behind" value=${v.behind} onInput=${set('behind')} hint=${t('pledges.ranks_behind_hint')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('pledges.apply_now')}</button>
    ${done ? html`<p class="note" role="status" data-testid="applied">${t('pledges.applied', { quantity: count(done.quantity), code: done.instrument })}</p>` : null}
  </form>`;
}

/** The public encumbrance register. */
export function PublicPledges() {
  const instruments = useLoad(listed, []);
  const [code, setCode] = useState('');
  const register = useLoad(() => ok(client.GET('/api/v1/public/pledges', { params: { query: { instrument: code || undefined } } })), [code]);
  return html`<${Page} title=${t('encumbrances.title')}>
    <p>${t('encumbrances.lead')}</p>
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('market.code')} name="instrument" value=${code} onInput=${setCode}
        options=${[['', t('encumbrances.all')], ...(instruments.data?.data ?? []).map((i) => /** @type {[string, string]} */ ([i.code, i.code]))]} />
    </form>
    ${register.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${register.problem} />
    <${Table} caption=${t('encumbrances.table')} rows=${register.data ?? []} empty=${t('encumbrances.none')}
      columns=${[
        [t('market.code'), (/** @type {Schemas['Encumbrance']} */ e) => e.instrument],
        [t('encumbrances.batch'), (/** @type {Schemas['Encumbrance']} */ e) => e.batch_id ?? t('encumbrances.future', { project: e.project_id ?? '' })],
        [t('market.quantity'), (/** @type {Schemas['Encumbrance']} */ e) => e.quantity],
        [t('pledges.bank'), (/** @type {Schemas['Encumbrance']} */ e) => e.pledgee_name],
        [t('pledges.rank'), (/** @type {Schemas['Encumbrance']} */ e) => e.rank],
        [t('encumbrances.state'), (/** @type {Schemas['Encumbrance']} */ e) => html`<span data-state=${e.state}>${label('encumbrance_state', e.state)}</span>`],
        [t('encumbrances.since'), (/** @type {Schemas['Encumbrance']} */ e) => when(e.since)],
        [t('pledges.matures_on'), (/** @type {Schemas['Encumbrance']} */ e) => e.matures_on ?? ''],
      ]} />
  </${Page}>`;
}

export function Insurance() {
  const me = useMe();
  const insurers = orgsWith(me, 'insurer');
  const orgs = [...new Set([...insurers, ...orgsWith(me, 'enterprise_operator')])];
  const [org, setOrg] = useState(orgs[0] ?? '');
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((x) => x + 1);
  return html`<${Page} title=${t('insurance.title')}>
    <p>${t('insurance.lead')}</p>
    <${OrgChoice} orgs=${orgs} value=${org} onInput=${setOrg} />
    ${org ? html`<${Policies} key=${org} org=${org} version=${version} changed=${changed} />` : null}
    ${org && insurers.includes(org) ? html`<${OfferPolicy} org=${org} offered=${changed} />` : null}
  </${Page}>`;
}

function Policies(/** @type {{ org: string, version: number, changed: () => void }} */ { org, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/insurance/policies', { params: { query: { organization_id: org, limit: 50, starting_after: after } } })), [org, version]);
  const names = useOrgNames([...new Set(pages.rows.flatMap((p) => [p.insurer_organization_id, p.holder_organization_id]))]);
  const [open, setOpen] = useState('');
  const { action, run } = useRun(changed);
  const answer = (/** @type {Policy} */ p, /** @type {'accept' | 'decline' | 'withdraw'} */ how) => run(() => {
    const params = { path: { id: p.id } };
    const body = { organization_id: org };
    return ok(how === 'accept' ? client.POST('/api/v1/insurance/policies/{id}/accept', { params, body })
      : how === 'decline' ? client.POST('/api/v1/insurance/policies/{id}/decline', { params, body })
        : client.POST('/api/v1/insurance/policies/{id}/withdraw', { params, body }));
  });
  const buttons = (/** @type {Policy} */ p) => {
    const mine = p.insurer_organization_id === org;
    const offered = p.status === 'offered';
    return html`<button type="button" class="secondary" onClick=${() => setOpen(p.id)}>${t('pledges.open')}</button>
      ${offered && !mine ? html`<button type="button" disabled=${action.busy} onClick=${() => answer(p, 'accept')}>${t('insurance.accept')}</button>
        <button type="button" class="danger" disabled=${action.busy} onClick=${() => answer(p, 'decline')}>${t('insurance.decline')}</button>` : null}
      ${offered && mine ? html`<button type="button" class="secondary" disabled=${action.busy} onClick=${() => answer(p, 'withdraw')}>${t('insurance.withdraw')}</button>` : null}`;
  };
  return html`<${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('insurance.list')} rows=${pages.rows} rowKey=${(/** @type {Policy} */ p) => p.id} empty=${t('insurance.none')}
      columns=${[
        [t('insurance.kind'), (/** @type {Policy} */ p) => label('policy_kind', p.kind)],
        [t('insurance.insurer'), (/** @type {Policy} */ p) => names[p.insurer_organization_id] ?? p.insurer_organization_id],
        [t('insurance.holder'), (/** @type {Policy} */ p) => names[p.holder_organization_id] ?? p.holder_organization_id],
        [t('insurance.cover'), (/** @type {Policy} */ p) => (p.kind === 'sink_index'
          ? t('insurance.sink_line', { year: p.policy_year ?? '', threshold: p.threshold_t ?? '', price: p.price_per_t ?? '' })
          : t('insurance.price_line', { quantity: count(p.quantity ?? '0'), code: p.instrument ?? '', strike: p.strike ?? '', day: p.ends_on }))],
        [t('insurance.money'), (/** @type {Policy} */ p) => t('insurance.money_line', { maximum: p.maximum, premium: p.premium, paid: p.paid })],
        [t('insurance.status'), (/** @type {Policy} */ p) => html`<span data-policy=${p.id} data-status=${p.status}>${label('policy_status', p.status)}</span>`],
        ['', buttons],
      ]} />
    <${More} pages=${pages} />
    ${open ? html`<${PolicyClaims} key=${`${open}-${version}`} org=${org} id=${open} changed=${changed} />` : null}`;
}

function PolicyClaims(/** @type {{ org: string, id: string, changed: () => void }} */ { org, id, changed }) {
  const detail = useLoad(() => ok(client.GET('/api/v1/insurance/policies/{id}', { params: { path: { id } } })), [id]);
  const { action, run } = useRun(changed);
  const d = detail.data;
  if (!d) return html`${detail.loading ? html`<${Busy} />` : null}<${ProblemNote} problem=${detail.problem} />`;
  const insurer = d.policy.insurer_organization_id === org;
  return html`<${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('insurance.claims')} rows=${d.claims} empty=${t('insurance.no_claims')}
      columns=${[
        [t('insurance.basis'), (/** @type {Schemas['InsuranceClaimView']} */ c) => c.basis],
        [t('insurance.payout'), (/** @type {Schemas['InsuranceClaimView']} */ c) => c.payout],
        [t('insurance.status'), (/** @type {Schemas['InsuranceClaimView']} */ c) => html`<span data-claim=${c.id} data-status=${c.status}>${label('claim_status', c.status)}</span>`],
        [t('pledges.when'), (/** @type {Schemas['InsuranceClaimView']} */ c) => when(c.updated_at)],
        ['', (/** @type {Schemas['InsuranceClaimView']} */ c) => (insurer && c.status === 'pending'
          ? html`<button type="button" disabled=${action.busy} onClick=${() => run(() => ok(client.POST('/api/v1/insurance/claims/{id}/approve', { params: { path: { id: c.id } }, body: { organization_id: org } })))}>${t('insurance.approve')}</button>`
          : null)],
      ]} />`;
}

function OfferPolicy(/** @type {{ org: string, offered: () => void }} */ { org, offered }) {
  const holders = useApprovedOrgs('enterprise');
  const instruments = useLoad(listed, []);
  const codes = (instruments.data?.data ?? []).map((i) => i.code);
  const [v, setV] = useState({
    kind: /** @type {Schemas['PolicyKind']} */ ('price'), holder: '', project: '', year: String(new Date().getFullYear()),
    stock: '', threshold: '', price_per_t: '', instrument: '', quantity: '', strike: '', ends_on: '', averaging: '', maximum: '', premium: '',
  });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const holder = v.holder || holders.data?.[0]?.id || '';
  const code = v.instrument || codes[0] || '';
  const sink = v.kind === 'sink_index';
  const done = /** @type {Policy | null} */ (action.done);
  return html`<form class="form" aria-labelledby="policy-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const common = { organization_id: org, holder_organization_id: holder, client_id: crypto.randomUUID(), kind: v.kind,
          maximum: fen(v.maximum, 'maximum'), premium: fen(v.premium || '0', 'premium') };
        const terms = sink
          ? { project_id: v.project.trim(), policy_year: Number(v.year), insured_stock_t: v.stock.trim(), threshold_t: v.threshold.trim(), price_per_t: v.price_per_t.trim() }
          : { instrument: code, quantity: v.quantity.trim(), strike: v.strike.trim(), ends_on: v.ends_on, averaging_days: v.averaging.trim() ? Number(v.averaging) : null };
        const made = await ok(client.POST('/api/v1/insurance/policies', { body: { ...common, ...terms } }));
        offered();
        return made;
      });
    }}>
    <h2 id="policy-title">${t('insurance.offer')}</h2>
    ${holders.loading || instruments.loading ? html`<${Busy} />` : null}
    <${Field} label=${t('insurance.kind')} name="kind" value=${v.kind} onInput=${set('kind')}
      options=${[['price', label('policy_kind', 'price')], ['sink_index', label('policy_kind', 'sink_index')]]} />
    <${Field} label=${t('insurance.holder')} name="holder_organization_id" value=${holder} onInput=${set('holder')}
      options=${(holders.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    ${sink ? html`
      <${Field} label=${t('pledges.project')} name="project_id" value=${v.project} onInput=${set('project')} required problem=${action.problem} />
      <${Field} label=${t('insurance.year')} name="policy_year" inputmode="numeric" value=${v.year} onInput=${set('year')} problem=${action.problem} />
      <${Field} label=${t('insurance.stock')} name="insured_stock_t" inputmode="decimal" value=${v.stock} onInput=${set('stock')} required problem=${action.problem} />
      <${Field} label=${t('insurance.threshold')} name="threshold_t" inputmode="decimal" value=${v.threshold} onInput=${set('threshold')} required problem=${action.problem} />
      <${Field} label=${t('insurance.price_per_t')} name="price_per_t" inputmode="decimal" value=${v.price_per_t} onInput=${set('price_per_t')} required problem=${action.problem} />` : html`
      <${Field} label=${t('market.code')} name="instrument" value=${code} onInput=${set('instrument')}
        options=${codes.map((c) => /** @type {[string, string]} */ ([c, c]))} problem=${action.problem} />
      <${Field} label=${t('pledges.units_quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} required problem=${action.problem} />
      <${Field} label=${t('insurance.strike')} name="strike" inputmode="decimal" value=${v.strike} onInput=${set('strike')} required problem=${action.problem} />
      <${Field} label=${t('insurance.ends_on')} name="ends_on" type="date" value=${v.ends_on} onInput=${set('ends_on')} required problem=${action.problem} />
      <${Field} label=${t('insurance.averaging')} name="averaging_days" inputmode="numeric" value=${v.averaging} onInput=${set('averaging')} hint=${t('insurance.averaging_hint')} problem=${action.problem} />`}
    <${Field} label=${t('insurance.maximum')} name="maximum" inputmode="decimal" value=${v.maximum} onInput=${set('maximum')} required problem=${action.problem} />
    <${Field} label=${t('insurance.premium')} name="premium" inputmode="decimal" value=${v.premium} onInput=${set('premium')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('insurance.offer_now')}</button>
    ${done ? html`<p class="note" role="status" data-testid="policy-offered">${t('insurance.offered', { kind: label('policy_kind', done.kind) })}</p>` : null}
  </form>`;
}
