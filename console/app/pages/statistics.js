// @ts-check
// Statistics for government staff: their department's members' personal
// reductions month by month and by mode (the API's monthly summaries; no
// member's trips are shown), beside the registry's public figures and the
// market's daily bars, which every page of the explorer draws.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { orgsWith, useMe } from '../session.js';
import { useOrgNames } from '../orgs.js';
import { Chart } from '../charts.js';
import { Busy, Field, Page, ProblemNote, count, tonnes, useLoad } from '../ui.js';

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

export function Statistics(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const orgs = [...new Set([...orgsWith(me, 'government'), ...orgsWith(me, 'enterprise_operator')])];
  const names = useOrgNames(orgs);
  const org = query.get('org') ?? orgs[0] ?? '';
  const [months] = useState(() => lastMonths(12));
  const summaries = useLoad(() => (org
    ? Promise.all(months.map((period) => ok(client.GET('/api/v1/organizations/{id}/summary', { params: { path: { id: org }, query: { period } } }))))
    : Promise.resolve([])), [org]);
  const data = summaries.data ?? [];
  const modes = [...new Set(data.flatMap((s) => s.by_mode.map((m) => m.mode)))].sort();
  const x = months.map((_, i) => i);
  return html`<${Page} title=${t('stats.title')}>
    <p><a href="#/explorer">${t('stats.public_link')}</a> · <a href="#/explorer/market">${t('nav.market_data')}</a></p>
    ${orgs.length > 1 ? html`<form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('org.name')} name="org" value=${org} onInput=${(/** @type {string} */ v) => navigate('/statistics', { org: v })}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
    </form>` : html`<p class="lead">${names[org] ?? ''}</p>`}
    ${summaries.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${summaries.problem} />
    ${data.length ? html`
      <${Chart} title=${t('stats.personal_by_month')} bars x=${x} xLabels=${months}
        series=${[{ label: t('stats.credited_kg'), values: data.map((s) => Number(s.credited_g) / 1000) }]} />
      <${Chart} title=${t('stats.trips_by_mode')} x=${x} xLabels=${months}
        series=${modes.map((m) => ({ label: m, values: data.map((s) => s.by_mode.find((b) => b.mode === m)?.trips ?? 0) }))} />
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('stats.monthly')}>
        <table>
          <caption>${t('stats.monthly')}</caption>
          <thead><tr><th scope="col">${t('stats.month')}</th><th scope="col">${t('stats.members')}</th><th scope="col">${t('stats.active')}</th>
            <th scope="col">${t('stats.trips_credited')}</th><th scope="col">${t('stats.pending')}</th><th scope="col">${t('stats.credited')}</th></tr></thead>
          <tbody>${data.map((s, i) => html`<tr><th scope="row">${months[i]}</th><td>${s.members}</td><td>${s.active_members}</td>
            <td>${count(s.trips.credited)}</td><td>${count(s.trips.pending_review)}</td><td>${tonnes(s.credited_g)} t</td></tr>`)}</tbody>
        </table>
      </div>` : null}
  </${Page}>`;
}
