// @ts-check
// An organisation's credits, batch by batch (its account's balances), with
// transfers and retirements. The service centre retires on a holder's
// behalf from the same form, naming the holder's account. A retirement
// ends with its certificate: printable, and checkable by anyone.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { holds, orgsWith, useMe } from '../session.js';
import { useOrgNames } from '../orgs.js';
import { CashOut } from './bank.js';
import { Busy, Field, More, Page, ProblemNote, Table, gramsOf, tonnes, useAction, useLoad, usePages, when, yuan } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

const CREDIT = 'credit:';

export function Holdings(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const orgs = [...new Set([...orgsWith(me, 'enterprise_operator'), ...orgsWith(me, 'reserve')])];
  const names = useOrgNames(orgs);
  const org = query.get('org') ?? orgs[0] ?? '';
  const organization = useLoad(() => (org ? ok(client.GET('/api/v1/organizations/{id}', { params: { path: { id: org } } })) : Promise.resolve(null)), [org]);
  const account = organization.data?.account_id ?? null;
  const [version, setVersion] = useState(0);
  return html`<${Page} title=${t('holdings.title')}>
    ${orgs.length > 1 ? html`<form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('trade.organization')} name="org" value=${org} onInput=${(/** @type {string} */ v) => navigate('/holdings', { org: v })}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
    </form>` : null}
    <${ProblemNote} problem=${organization.problem} />
    ${account ? html`<p class="note">${t('holdings.account', { account })}</p>
      <${Balances} account=${account} version=${version} />
      <div class="columns">
        <${Transfer} account=${account} done=${() => setVersion((v) => v + 1)} />
        <${Retire} account=${account} done=${() => setVersion((v) => v + 1)} />
      </div>
      <${CashOut} org=${org} />
      <${Entries} account=${account} version=${version} />` : organization.loading ? html`<${Busy} />` : null}
  </${Page}>`;
}

function Balances(/** @type {{ account: string, version: number }} */ { account, version }) {
  const balances = useLoad(() => ok(client.GET('/api/v1/accounts/{id}/balances', { params: { path: { id: account } } })), [account, version]);
  if (balances.problem) return html`<${ProblemNote} problem=${balances.problem} />`;
  const rows = balances.data?.balances ?? [];
  const credits = rows.filter((b) => b.asset.startsWith(CREDIT));
  const cash = rows.find((b) => b.asset === 'cash:CNY');
  return html`<${Table} caption=${t('holdings.by_batch')} rows=${credits} rowKey=${(/** @type {Schemas['BalanceView']} */ b) => b.asset} empty=${t('holdings.none')}
      columns=${[
        [t('batch.id'), (/** @type {Schemas['BalanceView']} */ b) => html`<a href=${href('/explorer/retirements', { batch_id: b.asset.slice(CREDIT.length) })}>${b.asset.slice(CREDIT.length)}</a>`],
        [t('holdings.posted'), (/** @type {Schemas['BalanceView']} */ b) => `${tonnes(b.posted)} t`],
        [t('holdings.held'), (/** @type {Schemas['BalanceView']} */ b) => `${tonnes(b.held)} t`],
        [t('holdings.available'), (/** @type {Schemas['BalanceView']} */ b) => html`<span data-available=${b.asset.slice(CREDIT.length)}>${tonnes(b.available)} t</span>`],
      ]} />
    ${cash ? html`<p>${t('trade.cash_available')}: ${yuan(cash.available)} ${t('trade.yuan')}</p>` : null}`;
}

function Transfer(/** @type {{ account: string, done: () => void }} */ { account, done }) {
  const [v, setV] = useState({ batch_id: '', to_account_id: '', tonnes: '' });
  const action = useAction();
  const made = /** @type {Schemas['TransferView'] | null} */ (action.done);
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<form class="form" aria-labelledby="transfer-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const out = await ok(client.POST('/api/v1/transfers', {
          body: { transfer_id: crypto.randomUUID(), from_account_id: account, to_account_id: v.to_account_id.trim(), batch_id: v.batch_id.trim(), quantity_g: gramsOf(v.tonnes) ?? v.tonnes.trim() },
        }));
        done();
        return out;
      });
    }}>
    <h2 id="transfer-title">${t('holdings.transfer')}</h2>
    <${Field} label=${t('batch.id')} name="batch_id" value=${v.batch_id} onInput=${set('batch_id')} required problem=${action.problem} />
    <${Field} label=${t('holdings.to_account')} name="to_account_id" value=${v.to_account_id} onInput=${set('to_account_id')} required problem=${action.problem} />
    <${Field} label=${t('holdings.tonnes')} name="quantity_g" inputmode="decimal" value=${v.tonnes} onInput=${set('tonnes')} required problem=${action.problem} hint=${t('holdings.tonnes_hint')} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('holdings.send')}</button>
    ${made ? html`<p class="note" role="status">${t('holdings.transferred', { quantity: tonnes(made.quantity_g) })}</p>` : null}
  </form>`;
}

/** Retire credits of `account` (the holder's staff), or of any holder's account (the service centre). */
export function Retire(/** @type {{ account?: string, done?: () => void }} */ { account, done }) {
  const [v, setV] = useState({ account_id: '', batch_id: '', tonnes: '', beneficiary: '', purpose: '' });
  const action = useAction();
  const made = /** @type {Schemas['RetirementView'] | null} */ (action.done);
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<form class="form" aria-labelledby="retire-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const out = await ok(client.POST('/api/v1/retirements', {
          body: {
            retirement_id: crypto.randomUUID(), account_id: account ?? v.account_id.trim(), batch_id: v.batch_id.trim(),
            quantity_g: gramsOf(v.tonnes) ?? v.tonnes.trim(), beneficiary: v.beneficiary.trim(), purpose: v.purpose.trim(),
          },
        }));
        done?.();
        return out;
      });
    }}>
    <h2 id="retire-title">${t('holdings.retire')}</h2>
    ${account ? null : html`<${Field} label=${t('holdings.holder_account')} name="account_id" value=${v.account_id} onInput=${set('account_id')} required problem=${action.problem} />`}
    <${Field} label=${t('batch.id')} name="batch_id" value=${v.batch_id} onInput=${set('batch_id')} required problem=${action.problem} />
    <${Field} label=${t('holdings.tonnes')} name="quantity_g" inputmode="decimal" value=${v.tonnes} onInput=${set('tonnes')} required problem=${action.problem} hint=${t('holdings.tonnes_hint')} />
    <${Field} label=${t('retirement.beneficiary')} name="beneficiary" value=${v.beneficiary} onInput=${set('beneficiary')} required problem=${action.problem} />
    <${Field} label=${t('retirement.purpose')} name="purpose" value=${v.purpose} onInput=${set('purpose')} required problem=${action.problem} />
    <p class="note">${t('holdings.retire_final')}</p>
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" class="danger" disabled=${action.busy}>${t('holdings.retire_now')}</button>
    ${made ? html`<p class="note" role="status" data-testid="retired" data-retirement=${made.id}>${t('holdings.retired', { quantity: tonnes(made.quantity_g) })}
        <a href=${`/api/v1/retirements/${made.id}/certificate?format=html`} target="_blank" rel="noopener">${t('holdings.certificate')}</a> ·
        <a href=${href('/check', { retirement: made.id })}>${t('retirement.check')}</a></p>` : null}
  </form>`;
}

function Entries(/** @type {{ account: string, version: number }} */ { account, version }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/accounts/{id}/entries', { params: { path: { id: account }, query: { limit: 20, starting_after: after } } })), [account, version]);
  return html`<${Table} caption=${t('holdings.entries')} rows=${pages.rows} rowKey=${(/** @type {Schemas['LedgerEntryView']} */ e) => e.id}
      columns=${[
        [t('bank.when'), (/** @type {Schemas['LedgerEntryView']} */ e) => when(e.created_at)],
        [t('holdings.asset'), (/** @type {Schemas['LedgerEntryView']} */ e) => e.asset],
        [t('holdings.amount'), (/** @type {Schemas['LedgerEntryView']} */ e) => (e.asset.startsWith(CREDIT) ? `${tonnes(e.amount)} t` : e.asset === 'cash:CNY' ? `${yuan(e.amount)} ${t('trade.yuan')}` : e.amount)],
        [t('holdings.transaction'), (/** @type {Schemas['LedgerEntryView']} */ e) => html`<span class="mono">${e.transaction_id}</span>`],
      ]} />
    <${More} pages=${pages} />`;
}

/** The service centre: its queues of reports to verify and to issue, retirement on a holder's behalf, and aggregation of personal reductions into a batch. */
export function ServiceCentre() {
  const me = useMe();
  return html`<${Page} title=${t('centre.title')}>
    <${ReportQueue} status="submitted" title=${t('centre.to_verify')} />
    <${ReportQueue} status="verified" title=${t('centre.to_issue')} />
    <div class="columns">
      <${Retire} />
      ${holds(me, 'verifier') ? html`<${Aggregate} />` : null}
    </div>
  </${Page}>`;
}

/** Every project's reports in one status, oldest first, each leading to its project's page where it is decided. */
function ReportQueue(/** @type {{ status: 'submitted' | 'verified', title: string }} */ { status, title }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/reports', { params: { query: { status, limit: 50, starting_after: after } } })), [status]);
  const ids = [...new Set(pages.rows.map((r) => r.project_id))];
  const projects = useLoad(() => Promise.all(ids.map((id) => ok(client.GET('/api/v1/projects/{id}', { params: { path: { id } } })))), [ids.join(',')]);
  /** @type {Record<string, string>} */
  const names = Object.fromEntries((projects.data ?? []).map((p) => [p.id, p.name]));
  return html`<${Table} caption=${title} rows=${pages.rows} rowKey=${(/** @type {Schemas['ReportView']} */ r) => r.id} empty=${t('centre.queue_empty')}
      columns=${[
        [t('project.name'), (/** @type {Schemas['ReportView']} */ r) => html`<a href=${href(`/projects/${r.project_id}`)} data-queued=${r.id}>${names[r.project_id] ?? r.project_id}</a>`],
        [t('reports.period'), (/** @type {Schemas['ReportView']} */ r) => `${r.period_start} – ${r.period_end}`],
        [status === 'submitted' ? t('reports.claimed') : t('reports.verified'), (/** @type {Schemas['ReportView']} */ r) => `${tonnes((status === 'submitted' ? r.claimed_g : r.verified_g) ?? '0')} t`],
        [t('centre.submitted_at'), (/** @type {Schemas['ReportView']} */ r) => when(r.created_at)],
      ]} />
    <${More} pages=${pages} />`;
}

function Aggregate() {
  const catalog = useLoad(() => ok(client.GET('/api/v1/methodologies')), []);
  const presets = /** @type {Array<{ id: string, title: string }>} */ ((/** @type {any} */ (catalog.data))?.commute_presets ?? []);
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)).toISOString().slice(0, 10);
  const [v, setV] = useState({ preset: '', from: first, to: last });
  const action = useAction();
  const made = /** @type {Schemas['BatchView'] | null} */ (action.done);
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<form class="form" aria-labelledby="aggregate-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(() => ok(client.POST('/api/v1/aggregations', { body: { preset: v.preset || presets[0]?.id || '', from: v.from, to: v.to } })));
    }}>
    <h2 id="aggregate-title">${t('centre.aggregate')}</h2>
    <p class="note">${t('centre.aggregate_hint')}</p>
    <${Field} label=${t('calc.preset')} name="preset" value=${v.preset || presets[0]?.id || ''} onInput=${set('preset')} options=${presets.map((p) => /** @type {[string, string]} */ ([p.id, p.title]))} problem=${action.problem} />
    <${Field} label=${t('centre.from')} name="from" type="date" value=${v.from} onInput=${set('from')} problem=${action.problem} />
    <${Field} label=${t('centre.to')} name="to" type="date" value=${v.to} onInput=${set('to')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('centre.aggregate_now')}</button>
    ${made ? html`<p class="note" role="status">${t('centre.aggregated', { batch: made.id, quantity: tonnes(made.quantity_g), persons: made.persons ?? 0 })}</p>` : null}
  </form>`;
}
