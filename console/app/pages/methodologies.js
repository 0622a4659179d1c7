// @ts-check
// The methodology tables the server and carbon-calc compute with (commute
// presets, grid factors, GWP sets, forest methodologies), each with its
// version, how reliable it is and its source. Read only: tables change by
// a new version in carbon-calc, never in place.
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { Busy, Page, ProblemNote, Table, useLoad } from '../ui.js';

/** @typedef {{ id: string, version: number, title?: string, name?: string, region?: string, year?: number, reliability: string, source: string,
 *   factors?: Array<{ mode: string, factor_g: string, unit: string }>, factor_t_per_mwh?: string, ch4?: string }} Table_ */

export function Methodologies() {
  const catalog = useLoad(() => ok(client.GET('/api/v1/methodologies')), []);
  // The spec types the catalogue as an open object: carbon-calc's `Methodologies`.
  const c = /** @type {Record<string, Table_[] | undefined> | undefined} */ (/** @type {unknown} */ (catalog.data));
  const common = /** @type {Array<[string, (r: Table_) => unknown]>} */ ([
    [t('meth.id'), (r) => html`<span class="mono">${r.id}</span> v${r.version}`],
    [t('meth.title'), (r) => r.title ?? r.name ?? ''],
    [t('meth.reliability'), (r) => label('reliability', r.reliability)],
    [t('meth.source'), (r) => r.source],
  ]);
  return html`<${Page} title=${t('nav.methodologies')}>
    <p>${t('meth.lead')}</p>
    ${catalog.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${catalog.problem} />
    ${c ? html`
      <${Table} caption=${t('meth.commute')} rows=${c.commute_presets ?? []} rowKey=${(/** @type {Table_} */ r) => `${r.id}/${r.version}`}
        columns=${[...common.slice(0, 2), [t('meth.factors'), (/** @type {Table_} */ r) => (r.factors ?? []).map((f) => `${f.mode} ${f.factor_g} ${f.unit === 'g_per_km' ? 'g/km' : t('meth.per_trip')}`).join('；')], ...common.slice(2)]} />
      <${Table} caption=${t('meth.grid')} rows=${c.grid_factors ?? []} rowKey=${(/** @type {Table_} */ r) => `${r.id}/${r.version}`}
        columns=${[...common.slice(0, 2), [t('meth.factor'), (/** @type {Table_} */ r) => `${r.factor_t_per_mwh} t/MWh (${r.year})`], ...common.slice(2)]} />
      <${Table} caption=${t('meth.gwp')} rows=${c.gwp_sets ?? []} rowKey=${(/** @type {Table_} */ r) => `${r.id}/${r.version}`}
        columns=${[...common.slice(0, 2), [t('meth.ch4'), (/** @type {Table_} */ r) => r.ch4 ?? ''], ...common.slice(2)]} />
      <${Table} caption=${t('meth.forest')} rows=${c.forest_methodologies ?? []} rowKey=${(/** @type {Table_} */ r) => `${r.id}/${r.version}`} columns=${common} />` : null}
  </${Page}>`;
}
