// @ts-check
// The statistics dashboard: personal reductions month by month and by mode
// for the whole region (government staff, the service centre) and for an
// organisation's members (its staff) — totals only, never a person's
// trips — beside the registry's issued and retired credits by type and
// vintage and the market's daily volumes and prices.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, json, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { holds, orgsWith, useMe } from '../session.js';
import { useOrgNames } from '../orgs.js';
import { Chart } from '../charts.js';
import { RegistryFigures } from './explorer/overview.js';
import { Busy, Field, Page, ProblemNote, Table, count, sumQuantities, tonnes, useLoad, yuan } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */
/** @typedef {Schemas['Summary'] & { members?: number, active_members?: number, participants?: number }} MonthFigures */

/** The last `n` months in China time, oldest first, as `YYYY-MM`. */
export function lastMonths(/** @type {number} */ n, /** @type {Date} */ now = new Date()) {
  const china = new Date(now.getTime() + 8 * 3600_000);
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(china.getUTCFullYear(), china.getUTCMonth() - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

/** Trading days the market section sums over and draws. */
const MARKET_DAYS = 60;

export function Statistics(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const region = holds(me, 'government') || holds(me, 'verifier');
  const orgs = [...new Set([...orgsWith(me, 'government'), ...orgsWith(me, 'enterprise_operator')])];
  const [months] = useState(() => lastMonths(12));
  return html`<${Page} title=${t('stats.title')}>
    ${region ? html`<section aria-labelledby="stats-region">
      <h2 id="stats-region">${t('stats.region_title')}</h2>
      <${RegionPersonal} months=${months} />
    </section>` : null}
    ${orgs.length ? html`<section aria-labelledby="stats-members">
      <h2 id="stats-members">${t('stats.members_title')}</h2>
      <${MembersPersonal} orgs=${orgs} org=${query.get('org') ?? orgs[0]} months=${months} />
    </section>` : null}
    <section aria-labelledby="stats-registry">
      <h2 id="stats-registry">${t('stats.registry_title')}</h2>
      <${RegistryFigures} level=${3} />
    </section>
    <section aria-labelledby="stats-market">
      <h2 id="stats-market">${t('stats.market_title')}</h2>
      <${MarketFigures} />
    </section>
  </${Page}>`;
}

/** Everyone's trips month by month (GET /statistics/personal). */
function RegionPersonal(/** @type {{ months: string[] }} */ { months }) {
  const summaries = useLoad(() => Promise.all(months.map((period) => ok(client.GET('/api/v1/statistics/personal', { params: { query: { period } } })))), []);
  return html`${summaries.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${summaries.problem} />
    ${summaries.data ? html`<${Personal} months=${months} data=${summaries.data} who="region" />` : null}`;
}

/** One organisation's members month by month (GET /organizations/{id}/summary). */
function MembersPersonal(/** @type {{ orgs: string[], org: string, months: string[] }} */ { orgs, org, months }) {
  const names = useOrgNames(orgs);
  const summaries = useLoad(() => Promise.all(months.map((period) => ok(client.GET('/api/v1/organizations/{id}/summary', { params: { path: { id: org }, query: { period } } })))), [org]);
  return html`${orgs.length > 1 ? html`<form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('org.name')} name="org" value=${org} onInput=${(/** @type {string} */ v) => navigate('/statistics', { org: v })}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
    </form>` : html`<p class="lead">${names[org] ?? ''}</p>`}
    ${summaries.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${summaries.problem} />
    ${summaries.data ? html`<${Personal} months=${months} data=${summaries.data} who="members" />` : null}`;
}

/** Credited reductions by month, credited trips by mode, and the months as a table. */
function Personal(/** @type {{ months: string[], data: MonthFigures[], who: 'region' | 'members' }} */ { months, data, who }) {
  const modes = [...new Set(data.flatMap((s) => s.by_mode.map((m) => m.mode)))].sort();
  const x = months.map((_, i) => i);
  const region = who === 'region';
  return html`<${Chart} title=${t(region ? 'stats.region_by_month' : 'stats.personal_by_month')} bars x=${x} xLabels=${months}
      series=${[{ label: t('stats.credited_kg'), values: data.map((s) => Number(s.credited_g) / 1000) }]} />
    ${modes.length ? html`<${Chart} title=${t(region ? 'stats.region_by_mode' : 'stats.trips_by_mode')} x=${x} xLabels=${months}
      series=${modes.map((m) => ({ label: label('mode', m), values: data.map((s) => s.by_mode.find((b) => b.mode === m)?.trips ?? 0) }))} />` : null}
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t(region ? 'stats.region_monthly' : 'stats.monthly')}>
      <table>
        <caption>${t(region ? 'stats.region_monthly' : 'stats.monthly')}</caption>
        <thead><tr><th scope="col">${t('stats.month')}</th>
          ${region ? html`<th scope="col">${t('stats.participants')}</th>` : html`<th scope="col">${t('stats.members')}</th><th scope="col">${t('stats.active')}</th>`}
          <th scope="col">${t('stats.trips_credited')}</th><th scope="col">${t('stats.pending')}</th><th scope="col">${t('stats.credited')}</th></tr></thead>
        <tbody>${data.map((s, i) => html`<tr><th scope="row">${months[i]}</th>
          ${region ? html`<td>${count(s.participants ?? 0)}</td>` : html`<td>${count(s.members ?? 0)}</td><td>${count(s.active_members ?? 0)}</td>`}
          <td>${count(s.trips.credited)}</td><td>${count(s.trips.pending_review)}</td><td>${tonnes(s.credited_g)} t</td></tr>`)}</tbody>
      </table>
    </div>`;
}

/** Every instrument's last close and its volume and turnover over the last
 * MARKET_DAYS trading days, with daily turnover and closes drawn. */
function MarketFigures() {
  const market = useLoad(async () => {
    const { data: instruments } = await ok(client.GET('/api/v1/market/instruments'));
    const bars = await Promise.all(instruments.map((i) => ok(client.GET('/api/v1/market/instruments/{code}/bars', {
      params: { path: { code: i.code }, query: { limit: MARKET_DAYS } },
    })).then(json)));
    return instruments.map((instrument, k) => ({ instrument, bars: bars[k].data }));
  }, []);
  if (market.loading) return html`<${Busy} />`;
  if (market.problem) return html`<${ProblemNote} problem=${market.problem} />`;
  const rows = market.data ?? [];
  const days = [...new Set(rows.flatMap((r) => r.bars.map((b) => b.day)))].sort();
  const x = days.map((d) => Date.parse(`${d}T00:00:00+08:00`) / 1000);
  const traded = rows.filter((r) => r.bars.some((b) => b.trades > 0));
  /** @param {(b: Schemas['BarView']) => number} value */
  const perInstrument = (value) => traded.map((r) => ({
    label: r.instrument.code,
    values: days.map((d) => { const b = r.bars.find((bar) => bar.day === d); return b ? value(b) : null; }),
  }));
  /** @param {Schemas['BarView'][]} bars */
  const turnover = (bars) => bars.reduce((a, b) => a + BigInt(b.turnover), 0n).toString();
  return html`
    <${Table} caption=${t('stats.market_table', { days: MARKET_DAYS })} rows=${rows} rowKey=${(/** @type {typeof rows[number]} */ r) => r.instrument.code}
      empty=${t('stats.no_instruments')}
      columns=${[
        [t('market.code'), (/** @type {typeof rows[number]} */ r) => html`<a href=${href(`/explorer/market/${r.instrument.code}`)}>${r.instrument.code}</a>`],
        [t('market.status'), (/** @type {typeof rows[number]} */ r) => label('trading_status', r.instrument.status)],
        [t('stats.last_day'), (/** @type {typeof rows[number]} */ r) => r.bars.at(-1)?.day ?? '–'],
        [t('market.close'), (/** @type {typeof rows[number]} */ r) => r.bars.at(-1)?.close ?? r.instrument.reference_price],
        [t('market.volume'), (/** @type {typeof rows[number]} */ r) => `${sumQuantities(r.bars.map((b) => b.volume))} ${r.instrument.unit}`],
        [t('stats.turnover'), (/** @type {typeof rows[number]} */ r) => `${yuan(turnover(r.bars))}`],
      ]} />
    ${traded.length
      ? html`<${Chart} title=${t('stats.turnover_by_day')} time bars x=${x} xLabels=${days} series=${perInstrument((b) => Number(b.turnover) / 100)} />
        <${Chart} title=${t('stats.closes_by_day')} time x=${x} xLabels=${days} series=${perInstrument((b) => Number(b.close))} />`
      : html`<p class="note">${t('market.no_bars')}</p>`}`;
}
