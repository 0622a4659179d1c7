// @ts-check
import { html } from '../../html.js';
import { client, ok } from '../../api.js';
import { label, t } from '../../i18n.js';
import { Chart } from '../../charts.js';
import { Busy, Page, ProblemNote, tonnes, useLoad } from '../../ui.js';

/** Grams as a number of tonnes, for charts only (never for amounts shown as text). */
const asTonnes = (/** @type {string} */ g) => Number(g) / 1e6;

/** The public registry at a glance: totals, and issued and retired by type and vintage. */
export function Overview() {
  return html`<${Page} title=${t('explorer.title')}>
    <nav class="subnav" aria-label=${t('explorer.title')}>
      <a href="#/explorer/projects">${t('explorer.projects')}</a>
      <a href="#/explorer/batches">${t('explorer.batches')}</a>
      <a href="#/explorer/retirements">${t('explorer.retirements')}</a>
      <a href="#/explorer/market">${t('nav.market_data')}</a>
      <a href="#/explorer/audit">${t('nav.audit')}</a>
    </nav>
    <${RegistryFigures} />
  </${Page}>`;
}

/** The registry's public statistics: totals, charts by vintage and by type,
 * holdings by kind of account; `level` is its headings' level on the page. */
export function RegistryFigures(/** @type {{ level?: 2 | 3 }} */ { level = 2 }) {
  const H = `h${level}`;
  const stats = useLoad(() => ok(client.GET('/api/v1/public/statistics')), []);
  const s = stats.data;
  const vintages = s ? [...new Set(s.by_type_and_vintage.map((r) => r.vintage))].sort((a, b) => a - b) : [];
  const kinds = s ? [...new Set(s.by_type_and_vintage.map((r) => r.kind))].sort() : [];
  const sum = (/** @type {number} */ vintage, /** @type {'issued_g' | 'retired_g'} */ field, /** @type {string | null} */ kind = null) =>
    (s?.by_type_and_vintage ?? [])
      .filter((r) => r.vintage === vintage && (kind === null || r.kind === kind))
      .reduce((a, r) => a + asTonnes(r[field]), 0);
  return html`
    ${stats.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${stats.problem} />
    ${s
      ? html`<dl class="totals">
          <div><dt>${t('stats.issued')}</dt><dd data-total="issued">${tonnes(s.totals.issued_g)} t</dd></div>
          <div><dt>${t('stats.retired')}</dt><dd data-total="retired">${tonnes(s.totals.retired_g)} t</dd></div>
          <div><dt>${t('stats.cancelled')}</dt><dd>${tonnes(s.totals.cancelled_g)} t</dd></div>
          <div><dt>${t('stats.buffer')}</dt><dd>${tonnes(s.buffer_pool_g)} t</dd></div>
        </dl>
        <${Chart} title=${t('stats.by_vintage')} bars x=${vintages} xLabels=${vintages.map(String)}
          series=${[
            { label: t('stats.issued_t'), values: vintages.map((v) => sum(v, 'issued_g')) },
            { label: t('stats.retired_t'), values: vintages.map((v) => sum(v, 'retired_g')) },
          ]} />
        <${Chart} title=${t('stats.by_type')} bars x=${vintages} xLabels=${vintages.map(String)}
          series=${kinds.map((k) => ({ label: label('project_kind', k), values: vintages.map((v) => sum(v, 'issued_g', k)) }))} />
        <${H}>${t('stats.held_by')}</${H}>
        <dl class="facts">
          ${Object.entries(s.held_by_account_kind).map(([kind, g]) => html`<dt>${label('account_kind', kind)}</dt><dd>${tonnes(g)} t</dd>`)}
        </dl>`
      : null}`;
}
