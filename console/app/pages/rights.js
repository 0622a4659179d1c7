// @ts-check
// Environmental rights other than carbon (确权, 补缴, 履约). A bureau's
// staff allocate rights of their classes under a permit or project
// number and record each enterprise's verified use once a year has ended;
// an enterprise's staff convert free allocations into tradeable units, pay
// the instalments of paid ones, and surrender rights for a compliance year by its deadline. The explorer
// lists every allocation and every compliance year, gaps included.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { orgsWith, useMe } from '../session.js';
import { useApprovedOrgs } from '../orgs.js';
import { OrgChoice } from './auctions.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */
/** @typedef {Schemas['AllocationView']} Allocation */
/** @typedef {Schemas['ComplianceView']} Compliance */
/** @typedef {Schemas['RightsTradeView']} RightsTrade */
/** @typedef {Schemas['Class']} Class */

/** The classes each bureau allocates or confirms, with their code tags. */
const CLASSES = /** @type {Record<Schemas['Bureau'], Array<[Class, string]>>} */ ({
  ecology: [['so2', 'SO2'], ['nox', 'NOX'], ['cod', 'COD'], ['nh3n', 'NH3N']],
  water: [['water_saving', 'WSR'], ['water_increment', 'WCI']],
  economic_development: [['energy_use', 'ENU']],
  natural_resources: [['land_cultivated', 'LCI'], ['land_linkage', 'LLS']],
});

/** Classes allocated (free, for sale or paid) rather than confirmed from verified activity. */
const ALLOCATED = new Set(['so2', 'nox', 'cod', 'nh3n', 'water_saving', 'energy_use']);

export function Rights() {
  const me = useMe();
  const orgs = [...new Set([...orgsWith(me, 'government'), ...orgsWith(me, 'enterprise_operator')])];
  const [org, setOrg] = useState(orgs[0] ?? '');
  const info = useLoad(() => (org ? ok(client.GET('/api/v1/organizations/{id}', { params: { path: { id: org } } })) : Promise.resolve(null)), [org]);
  const bureau = info.data?.bureau ?? null;
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((x) => x + 1);
  return html`<${Page} title=${t('rights.title')}>
    <p>${t(bureau ? 'rights.lead_bureau' : 'rights.lead_holder')}</p>
    <${OrgChoice} orgs=${orgs} value=${org} onInput=${setOrg} />
    ${info.loading ? html`<${Busy} />` : null}
    ${org && bureau ? html`<${Allocate} org=${org} bureau=${bureau} done=${changed} />
      <${RecordUse} org=${org} bureau=${bureau} done=${changed} />
      <${ClawBack} bureau=${bureau} done=${changed} />` : null}
    ${org && !info.loading ? html`<${Allocations} key=${org} org=${org} bureau=${!!bureau} version=${version} changed=${changed} />` : null}
    ${org && !info.loading && !bureau ? html`<${Obligations} key=${org} org=${org} version=${version} changed=${changed} />` : null}
  </${Page}>`;
}

function Allocate(/** @type {{ org: string, bureau: Schemas['Bureau'], done: () => void }} */ { org, bureau, done }) {
  const classes = CLASSES[bureau];
  const enterprises = useApprovedOrgs('enterprise');
  const reserves = useApprovedOrgs('reserve_platform');
  const [v, setV] = useState({ cls: classes[0][0], year: String(new Date().getFullYear()), holder: '', quantity: '', origin: '', identifier: '', reserve: '', price: '', instalments: '1' });
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const action = useAction();
  const allocated = ALLOCATED.has(v.cls);
  const origin = /** @type {Schemas['Origin']} */ (v.origin || (allocated ? 'free' : 'verified'));
  const holder = origin === 'sale' ? org : v.holder || enterprises.data?.[0]?.id || '';
  const reserve = v.reserve || reserves.data?.[0]?.id || '';
  const tag = classes.find(([c]) => c === v.cls)?.[1] ?? '';
  const permit = (origin === 'free' || origin === 'paid') && bureau === 'ecology';
  const made = /** @type {Allocation | null} */ (action.done);
  return html`<form class="form" aria-labelledby="allocate-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const a = await ok(client.POST('/api/v1/rights/allocations', { body: {
          bureau_organization_id: org, organization_id: holder, instrument: `TPH-${tag}-${v.year.trim()}`,
          quantity: v.quantity.trim(), origin, identifier: v.identifier.trim(),
          reserve_organization_id: origin === 'free' ? reserve : null,
          price: origin === 'paid' ? v.price.trim() : null,
          instalments: origin === 'paid' ? Number(v.instalments.trim() || '1') : null,
        } }));
        setV({ ...v, quantity: '', identifier: '' });
        done();
        return a;
      });
    }}>
    <h2 id="allocate-title">${t('rights.allocate')}</h2>
    <p class="note">${t('rights.allocate_hint')}</p>
    ${enterprises.loading || reserves.loading ? html`<${Busy} />` : null}
    <${Field} label=${t('rights.class')} name="class" value=${v.cls} onInput=${(/** @type {string} */ x) => setV({ ...v, cls: /** @type {Class} */ (x), origin: '' })}
      options=${classes.map(([c]) => /** @type {[string, string]} */ ([c, label('class', c)]))} />
    <${Field} label=${t('rights.year')} name="year" inputmode="numeric" value=${v.year} onInput=${set('year')} required problem=${action.problem} />
    <${Field} label=${t('rights.origin')} name="origin" value=${origin} onInput=${set('origin')}
      options=${(allocated ? ['free', 'paid', 'sale'] : ['verified']).map((o) => /** @type {[string, string]} */ ([o, label('rights_origin', o)]))} problem=${action.problem} />
    ${origin === 'sale' ? null : html`<${Field} label=${t('rights.holder')} name="organization_id" value=${holder} onInput=${set('holder')}
      options=${(enterprises.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />`}
    <${Field} label=${t('rights.quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} required problem=${action.problem} />
    <${Field} label=${t(permit ? 'rights.permit' : 'rights.identifier')} name="identifier" value=${v.identifier} onInput=${set('identifier')} required
      hint=${t(permit ? 'rights.permit_hint' : 'rights.identifier_hint')} problem=${action.problem} />
    ${origin === 'paid' ? html`<${Field} label=${t('rights.price')} name="price" inputmode="decimal" value=${v.price} onInput=${set('price')} required problem=${action.problem} />
      <${Field} label=${t('rights.instalments')} name="instalments" inputmode="numeric" value=${v.instalments} onInput=${set('instalments')} required
        hint=${t('rights.instalments_hint')} problem=${action.problem} />` : null}
    ${origin === 'free' ? html`<${Field} label=${t('rights.fund')} name="reserve_organization_id" value=${reserve} onInput=${set('reserve')}
      options=${(reserves.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />` : null}
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('rights.allocate_now')}</button>
    ${made ? html`<p class="note" role="status" data-testid="allocated">${t('rights.allocated', { batch: made.batch_id, quantity: count(made.quantity), unit: made.unit })}</p>` : null}
  </form>`;
}

function RecordUse(/** @type {{ org: string, bureau: Schemas['Bureau'], done: () => void }} */ { org, bureau, done }) {
  const classes = CLASSES[bureau].filter(([c]) => ALLOCATED.has(c));
  const enterprises = useApprovedOrgs('enterprise');
  const [v, setV] = useState({ cls: classes[0]?.[0] ?? 'so2', year: String(new Date().getFullYear() - 1), holder: '', use: '', report: '' });
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const action = useAction();
  if (classes.length === 0) return null;
  const holder = v.holder || enterprises.data?.[0]?.id || '';
  const recorded = /** @type {Compliance | null} */ (action.done);
  return html`<form class="form" aria-labelledby="use-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const c = await ok(client.POST('/api/v1/rights/compliance', { body: {
          bureau_organization_id: org, organization_id: holder, class: v.cls, year: Number(v.year),
          verified_use: v.use.trim(), report_sha256: v.report.trim() || null,
        } }));
        setV({ ...v, use: '', report: '' });
        done();
        return c;
      });
    }}>
    <h2 id="use-title">${t('rights.record_use')}</h2>
    <p class="note">${t('rights.record_use_hint')}</p>
    <${Field} label=${t('rights.class')} name="class" value=${v.cls} onInput=${set('cls')}
      options=${classes.map(([c]) => /** @type {[string, string]} */ ([c, label('class', c)]))} problem=${action.problem} />
    <${Field} label=${t('rights.compliance_year')} name="year" inputmode="numeric" value=${v.year} onInput=${set('year')} required problem=${action.problem} />
    <${Field} label=${t('rights.holder')} name="organization_id" value=${holder} onInput=${set('holder')}
      options=${(enterprises.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t('rights.verified_use')} name="verified_use" inputmode="numeric" value=${v.use} onInput=${set('use')} required problem=${action.problem} />
    <${Field} label=${t('rights.report')} name="report_sha256" value=${v.report} onInput=${set('report')} hint=${t('rights.report_hint')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('rights.record_now')}</button>
    ${recorded ? html`<p class="note" role="status" data-testid="recorded">${t('rights.recorded', { use: count(recorded.verified_use), unit: recorded.unit, deadline: recorded.deadline })}</p>` : null}
  </form>`;
}

/** A claw-back order (无偿收回) of a closed, bankrupt or relocated enterprise's allocated rights. */
function ClawBack(/** @type {{ bureau: Schemas['Bureau'], done: () => void }} */ { bureau, done }) {
  const classes = CLASSES[bureau].filter(([c]) => ALLOCATED.has(c));
  const enterprises = useApprovedOrgs('enterprise');
  const reserves = useApprovedOrgs('reserve_platform');
  const [v, setV] = useState({ cls: classes[0]?.[0] ?? 'so2', year: String(new Date().getFullYear()), holder: '', reserve: '', quantity: '', reason: '', document: '' });
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const action = useAction();
  if (classes.length === 0) return null;
  const holder = v.holder || enterprises.data?.[0]?.id || '';
  const reserve = v.reserve || reserves.data?.[0]?.id || '';
  const tag = classes.find(([c]) => c === v.cls)?.[1] ?? '';
  const back = /** @type {Schemas['ClawBackView'] | null} */ (action.done);
  return html`<form class="form" aria-labelledby="claw-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const made = await ok(client.POST('/api/v1/reserve/claw-backs', { body: {
          organization_id: holder, reserve_organization_id: reserve, instrument: `TPH-${tag}-${v.year.trim()}`,
          quantity: v.quantity.trim(), reason: v.reason.trim(), document_sha256: v.document.trim(),
        } }));
        setV({ ...v, quantity: '', reason: '', document: '' });
        done();
        return made;
      });
    }}>
    <h2 id="claw-title">${t('rights.claw_back')}</h2>
    <p class="note">${t('rights.claw_back_hint')}</p>
    <${Field} label=${t('rights.class')} name="class" value=${v.cls} onInput=${set('cls')}
      options=${classes.map(([c]) => /** @type {[string, string]} */ ([c, label('class', c)]))} />
    <${Field} label=${t('rights.year')} name="year" inputmode="numeric" value=${v.year} onInput=${set('year')} required problem=${action.problem} />
    <${Field} label=${t('rights.holder')} name="organization_id" value=${holder} onInput=${set('holder')}
      options=${(enterprises.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t('rights.to_reserve')} name="reserve_organization_id" value=${reserve} onInput=${set('reserve')}
      options=${(reserves.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t('rights.quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} required problem=${action.problem} />
    <${Field} label=${t('rights.claw_back_reason')} name="reason" value=${v.reason} onInput=${set('reason')} required problem=${action.problem} />
    <${Field} label=${t('rights.decision_sha256')} name="document_sha256" value=${v.document} onInput=${set('document')} required hint=${t('rights.decision_hint')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" class="danger" disabled=${action.busy}>${action.busy ? t('ui.working') : t('rights.claw_back_now')}</button>
    ${back ? html`<p class="note" role="status" data-testid="clawed">${t('rights.clawed', { quantity: count(back.quantity), unconverted: count(back.unconverted), code: back.instrument })}</p>` : null}
  </form>`;
}

/** The columns every list of allocations shows. */
function allocationColumns() {
  return /** @type {Array<[string, (a: Allocation) => unknown]>} */ ([
    [t('rights.batch'), (a) => a.batch_id],
    [t('rights.class'), (a) => label('class', a.class)],
    [t('rights.holder'), (a) => a.holder_name],
    [t('rights.origin'), (a) => label('rights_origin', a.origin)],
    [t('rights.identifier'), (a) => a.identifier],
    [t('rights.quantity'), (a) => `${count(a.quantity)} ${a.unit}`],
    [t('rights.converted'), (a) => html`<span data-allocation=${a.id} data-converted=${a.converted} data-unconverted=${a.unconverted}>${t('rights.converted_line', { converted: count(a.converted), unconverted: count(a.unconverted) })}</span>`],
    [t('rights.instalments'), (a) => (a.instalments.length ? instalmentLine(a) : '—')],
    [t('rights.valid_until'), (a) => html`${a.valid_until ?? t('rights.no_lapse')} · ${label('allocation_status', a.status)}${a.expiring
      ? html` <strong data-expiring=${a.id}>${t('rights.expiring_badge')}</strong>` : null}`],
  ]);
}

/** A paid allocation's instalments: how many are paid, and the next one. */
function instalmentLine(/** @type {Allocation} */ a) {
  const paid = a.instalments.filter((i) => i.status === 'paid').length;
  const next = a.instalments.find((i) => i.status !== 'paid');
  return html`<span data-instalments=${a.id} data-paid=${paid} data-next-status=${next?.status ?? ''}>${t('rights.instalments_paid', { paid, n: a.instalments.length, price: a.price ?? '' })}${next
    ? html`<br />${t('rights.instalment_next', { number: next.number, amount: next.amount, due: next.due_on, quantity: count(next.quantity) })} · ${label('instalment_status', next.status)}` : null}</span>`;
}

function Allocations(/** @type {{ org: string, bureau: boolean, version: number, changed: () => void }} */ { org, bureau, version, changed }) {
  const query = bureau ? { bureau_organization_id: org } : { organization_id: org };
  const pages = usePages((after) => ok(client.GET('/api/v1/public/rights/allocations', { params: { query: { ...query, limit: 50, starting_after: after } } })), [org, version]);
  const [amounts, setAmounts] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const convert = (/** @type {Allocation} */ a) => action.run(async () => {
    const done = await ok(client.POST('/api/v1/rights/allocations/{id}/conversions', { params: { path: { id: a.id } }, body: { quantity: (amounts[a.id] ?? '').trim() } }));
    changed();
    return done;
  });
  const converting = (/** @type {Allocation} */ a) => (!bureau && a.origin === 'free' && a.status === 'active' && a.unconverted !== '0'
    ? html`<label class="inline">${t('rights.convert_quantity')} <input name=${`convert-${a.id}`} inputmode="numeric" size="8" value=${amounts[a.id] ?? ''}
        onInput=${(/** @type {Event} */ e) => setAmounts({ ...amounts, [a.id]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
      <button type="button" disabled=${action.busy} onClick=${() => convert(a)}>${t('rights.convert')}</button>`
    : null);
  const pay = (/** @type {Allocation} */ a) => action.run(async () => {
    const done = await ok(client.POST('/api/v1/rights/allocations/{id}/instalments', { params: { path: { id: a.id } } }));
    changed();
    return done;
  });
  const paying = (/** @type {Allocation} */ a) => {
    const next = a.instalments.find((i) => i.status !== 'paid');
    return !bureau && a.status === 'active' && next
      ? html`<button type="button" disabled=${action.busy} onClick=${() => pay(a)}>${t('rights.pay_instalment', { number: next.number, amount: next.amount })}</button>`
      : null;
  };
  const done = /** @type {Schemas['Conversion'] | Schemas['InstalmentPayment'] | null} */ (action.done);
  const expiring = pages.rows.filter((a) => a.expiring).length;
  return html`
    <h2>${t(bureau ? 'rights.bureau_allocations' : 'rights.my_allocations')}</h2>
    ${bureau ? null : html`<p class="note">${t('rights.convert_hint')}</p>`}
    ${!bureau && expiring ? html`<p class="note" role="status" data-testid="expiring">${t('rights.expiring_note', { n: expiring })}</p>` : null}
    <${ProblemNote} problem=${action.problem ?? pages.problem} />
    ${done && 'rate' in done ? html`<p class="note" role="status" data-testid="converted">${t('rights.converted_now', { quantity: count(done.quantity), amount: done.amount, price: done.guidance_price, rate: done.rate })}</p>` : null}
    ${done && 'instalment' in done ? html`<p class="note" role="status" data-testid="instalment-paid">${t('rights.instalment_paid', { number: done.instalment.number, amount: done.instalment.amount, freed: count(done.freed) })}</p>` : null}
    <${Table} caption=${t(bureau ? 'rights.bureau_allocations' : 'rights.my_allocations')} rows=${pages.rows} rowKey=${(/** @type {Allocation} */ a) => a.id} empty=${t('rights.no_allocations')}
      columns=${[...allocationColumns(), ['', (/** @type {Allocation} */ a) => converting(a) ?? paying(a)]]} />
    <${More} pages=${pages} />`;
}

/** The columns every list of compliance years shows. */
const complianceColumns = /** @type {Array<[string, (c: Compliance) => unknown]>} */ ([
  [t('rights.holder'), (c) => c.organization_name],
  [t('rights.class'), (c) => label('class', c.class)],
  [t('rights.compliance_year'), (c) => c.year],
  [t('rights.verified_use'), (c) => `${count(c.verified_use)} ${c.unit}`],
  [t('rights.surrendered'), (c) => count(c.surrendered)],
  [t('rights.outstanding'), (c) => count(c.outstanding)],
  [t('rights.deadline'), (c) => c.deadline],
  [t('rights.status'), (c) => html`<span data-compliance=${c.id} data-status=${c.status}>${label('compliance_status', c.status)}</span>`],
]);

function Obligations(/** @type {{ org: string, version: number, changed: () => void }} */ { org, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/public/rights/compliance', { params: { query: { organization_id: org, limit: 50, starting_after: after } } })), [org, version]);
  const action = useAction();
  const surrender = (/** @type {Compliance} */ c) => action.run(async () => {
    await ok(client.POST('/api/v1/rights/compliance/{id}/surrenders', { params: { path: { id: c.id } }, body: { quantity: c.outstanding } }));
    changed();
  });
  const button = (/** @type {Compliance} */ c) => (c.status === 'open'
    ? html`<button type="button" disabled=${action.busy} onClick=${() => surrender(c)}>${t('rights.surrender', { quantity: count(c.outstanding), unit: c.unit })}</button>`
    : null);
  return html`<h2>${t('rights.obligations')}</h2>
    <p class="note">${t('rights.obligations_hint')}</p>
    <${ProblemNote} problem=${action.problem ?? pages.problem} />
    <${Table} caption=${t('rights.obligations')} rows=${pages.rows} rowKey=${(/** @type {Compliance} */ c) => c.id} empty=${t('rights.no_obligations')}
      columns=${[...complianceColumns, ['', button]]} />
    <${More} pages=${pages} />`;
}

/** The columns of the public list of trades in rights. */
const tradeColumns = /** @type {Array<[string, (t: RightsTrade) => unknown]>} */ ([
  [t('rights.trading_day'), (x) => x.trading_day],
  [t('rights.class'), (x) => label('class', x.class)],
  [t('rights.trade_method'), (x) => html`<span data-trade=${x.id} data-method=${x.method}>${label('method', x.method)}</span>`],
  [t('rights.seller'), (x) => x.seller_name],
  [t('rights.buyer'), (x) => x.buyer_name],
  [t('rights.quantity'), (x) => `${count(x.quantity)} ${x.unit}`],
  [t('rights.trade_price'), (x) => x.price],
  [t('rights.trade_value'), (x) => x.value],
]);

/** The public view: every allocation, compliance year and trade in rights, gaps first to find. */
export function PublicRights() {
  const [status, setStatus] = useState('');
  const allocations = usePages((after) => ok(client.GET('/api/v1/public/rights/allocations', { params: { query: { limit: 50, starting_after: after } } })), []);
  const trades = usePages((after) => ok(client.GET('/api/v1/public/rights/trades', { params: { query: { limit: 50, starting_after: after } } })), []);
  const compliance = usePages((after) => ok(client.GET('/api/v1/public/rights/compliance', {
    params: { query: { status: /** @type {Schemas['ComplianceStatus'] | undefined} */ (status || undefined), limit: 50, starting_after: after } },
  })), [status]);
  return html`<${Page} title=${t('rights.public_title')}>
    <p>${t('rights.public_lead')}</p>
    <${ProblemNote} problem=${allocations.problem ?? compliance.problem ?? trades.problem} />
    <${Table} caption=${t('rights.public_allocations')} rows=${allocations.rows} rowKey=${(/** @type {Allocation} */ a) => a.id} empty=${t('rights.no_allocations')}
      columns=${[...allocationColumns(), [t('rights.when'), (/** @type {Allocation} */ a) => when(a.created_at)]]} />
    <${More} pages=${allocations} />
    <h2>${t('rights.public_compliance')}</h2>
    <${Field} label=${t('rights.status')} name="status" value=${status} onInput=${setStatus}
      options=${[['', t('rights.every_status')], ...['open', 'met', 'gap'].map((s) => /** @type {[string, string]} */ ([s, label('compliance_status', s)]))]} />
    <${Table} caption=${t('rights.public_compliance')} rows=${compliance.rows} rowKey=${(/** @type {Compliance} */ c) => c.id} empty=${t('rights.no_obligations')}
      columns=${complianceColumns} />
    <${More} pages=${compliance} />
    <h2>${t('rights.public_trades')}</h2>
    <${Table} caption=${t('rights.public_trades')} rows=${trades.rows} rowKey=${(/** @type {RightsTrade} */ x) => x.id} empty=${t('rights.no_trades')}
      columns=${tradeColumns} />
    <${More} pages=${trades} />
  </${Page}>`;
}
