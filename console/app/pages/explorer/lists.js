// @ts-check
// The registry's public lists, each filterable, paged and downloadable as
// CSV (the API's own `format=csv`, with the same filters).
import { useState } from '../../../vendor/preact-hooks.js';
import { html } from '../../html.js';
import { client, csvUrl, json, ok } from '../../api.js';
import { label, t } from '../../i18n.js';
import { href, navigate } from '../../router.js';
import { Field, More, Page, Table, tonnes, usePages, when } from '../../ui.js';

/** @typedef {import('../../api.js').Schemas} Schemas */

const LIMIT = 50;

/** Keeps a filter form's values in the hash, so a filtered list can be shared. */
function useFilters(/** @type {string} */ path, /** @type {URLSearchParams} */ query, /** @type {string[]} */ names) {
  const [draft, setDraft] = useState(() => Object.fromEntries(names.map((n) => [n, query.get(n) ?? ''])));
  const applied = Object.fromEntries(names.map((n) => [n, query.get(n) ?? '']));
  const set = (/** @type {string} */ name) => (/** @type {string} */ v) => setDraft({ ...draft, [name]: v });
  const apply = (/** @type {Event} */ e) => {
    e.preventDefault();
    navigate(path, Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, v.trim()])));
  };
  return { draft, applied, set, apply };
}

export function Projects(/** @type {{ query: URLSearchParams }} */ { query }) {
  const f = useFilters('/explorer/projects', query, ['status', 'kind']);
  const status = /** @type {Schemas['ProjectView']['status'] | undefined} */ (f.applied.status || undefined);
  const kind = /** @type {Schemas['ProjectKind'] | undefined} */ (f.applied.kind || undefined);
  const pages = usePages(
    (after) => ok(client.GET('/api/v1/public/projects', { params: { query: { status, kind, limit: LIMIT, starting_after: after } } })).then(json),
    [status, kind],
  );
  return html`<${Page} title=${t('explorer.projects')}>
    <form class="filters" onSubmit=${f.apply}>
      <${Field} label=${t('project.status')} name="status" value=${f.draft.status} onInput=${f.set('status')}
        options=${[['', t('ui.any')], ...['notice', 'approved', 'rejected'].map((s) => /** @type {[string, string]} */ ([s, label('project_status', s)]))]} problem=${pages.problem} />
      <${Field} label=${t('project.kind')} name="kind" value=${f.draft.kind} onInput=${f.set('kind')}
        options=${[['', t('ui.any')], ...['energy_efficiency', 'renewable_power', 'biogas', 'afforestation', 'other'].map((k) => /** @type {[string, string]} */ ([k, label('project_kind', k)]))]} problem=${pages.problem} />
      <button type="submit">${t('ui.filter')}</button>
      <a class="button secondary" href=${csvUrl('/api/v1/public/projects', { status, kind })} download="projects.csv">${t('ui.csv')}</a>
    </form>
    <${Table} caption=${t('explorer.projects')} rows=${pages.rows} rowKey=${(/** @type {Schemas['ProjectView']} */ p) => p.id}
      columns=${[
        [t('project.name'), (/** @type {Schemas['ProjectView']} */ p) => html`<a href=${href('/explorer/batches', { project_id: p.id })}>${p.name}</a>`],
        [t('project.kind'), (/** @type {Schemas['ProjectView']} */ p) => label('project_kind', p.kind)],
        [t('project.methodology'), (/** @type {Schemas['ProjectView']} */ p) => `${p.methodology_name ?? p.methodology} v${p.methodology_version}`],
        [t('project.region'), (/** @type {Schemas['ProjectView']} */ p) => p.region_code],
        [t('project.crediting'), (/** @type {Schemas['ProjectView']} */ p) => `${p.crediting_start} – ${p.crediting_end}`],
        [t('project.status'), (/** @type {Schemas['ProjectView']} */ p) => label('project_status', p.status)],
        [t('project.notice_closes'), (/** @type {Schemas['ProjectView']} */ p) => when(p.notice_closes_at)],
        [t('project.objections'), (/** @type {Schemas['ProjectView']} */ p) => p.objections],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}

export function Batches(/** @type {{ query: URLSearchParams }} */ { query }) {
  const f = useFilters('/explorer/batches', query, ['kind', 'vintage', 'project_id']);
  const kind = /** @type {Schemas['BatchView']['kind'] | undefined} */ (f.applied.kind || undefined);
  const vintage = f.applied.vintage ? Number(f.applied.vintage) : undefined;
  const project_id = f.applied.project_id || undefined;
  const pages = usePages(
    (after) => ok(client.GET('/api/v1/public/batches', { params: { query: { kind, vintage, project_id, limit: LIMIT, starting_after: after } } })).then(json),
    [kind, vintage, project_id],
  );
  return html`<${Page} title=${t('explorer.batches')}>
    <form class="filters" onSubmit=${f.apply}>
      <${Field} label=${t('batch.kind')} name="kind" value=${f.draft.kind} onInput=${f.set('kind')}
        options=${[['', t('ui.any')], ['project', label('batch_kind', 'project')], ['personal', label('batch_kind', 'personal')]]} problem=${pages.problem} />
      <${Field} label=${t('batch.vintage')} name="vintage" type="number" inputmode="numeric" value=${f.draft.vintage} onInput=${f.set('vintage')} problem=${pages.problem} />
      <${Field} label=${t('batch.project')} name="project_id" value=${f.draft.project_id} onInput=${f.set('project_id')} problem=${pages.problem} />
      <button type="submit">${t('ui.filter')}</button>
      <a class="button secondary" href=${csvUrl('/api/v1/public/batches', { kind, vintage, project_id })} download="batches.csv">${t('ui.csv')}</a>
    </form>
    <${Table} caption=${t('explorer.batches')} rows=${pages.rows} rowKey=${(/** @type {Schemas['BatchView']} */ b) => b.id}
      columns=${[
        [t('batch.id'), (/** @type {Schemas['BatchView']} */ b) => html`<a href=${href('/explorer/retirements', { batch_id: b.id })}>${b.id}</a>`],
        [t('batch.instrument'), (/** @type {Schemas['BatchView']} */ b) => html`<a href=${href(`/explorer/market/${b.instrument}`)}>${b.instrument}</a>`],
        [t('batch.vintage'), (/** @type {Schemas['BatchView']} */ b) => b.vintage],
        [t('batch.quantity'), (/** @type {Schemas['BatchView']} */ b) => `${tonnes(b.quantity_g)} t`],
        [t('batch.retired'), (/** @type {Schemas['BatchView']} */ b) => `${tonnes(b.retired_g)} t`],
        [t('batch.serials'), (/** @type {Schemas['BatchView']} */ b) => html`<span class="mono">${b.serial_first} … ${b.serial_last}</span>`],
        [t('batch.issued_at'), (/** @type {Schemas['BatchView']} */ b) => when(b.issued_at)],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}

export function Retirements(/** @type {{ query: URLSearchParams }} */ { query }) {
  const f = useFilters('/explorer/retirements', query, ['batch_id']);
  const batch_id = f.applied.batch_id || undefined;
  const pages = usePages(
    (after) => ok(client.GET('/api/v1/public/retirements', { params: { query: { batch_id, limit: LIMIT, starting_after: after } } })).then(json),
    [batch_id],
  );
  return html`<${Page} title=${t('explorer.retirements')}>
    <form class="filters" role="search" onSubmit=${f.apply}>
      <${Field} label=${t('retirement.batch')} name="batch_id" value=${f.draft.batch_id} onInput=${f.set('batch_id')} placeholder="TPH-0001-2025-001" problem=${pages.problem} />
      <button type="submit">${t('ui.search')}</button>
      <a class="button secondary" href=${csvUrl('/api/v1/public/retirements', { batch_id })} download="retirements.csv">${t('ui.csv')}</a>
    </form>
    <${Table} caption=${t('explorer.retirements')} rows=${pages.rows} rowKey=${(/** @type {Schemas['RetirementView']} */ r) => r.id}
      columns=${[
        [t('retirement.beneficiary'), (/** @type {Schemas['RetirementView']} */ r) => r.beneficiary],
        [t('retirement.purpose'), (/** @type {Schemas['RetirementView']} */ r) => r.purpose],
        [t('batch.quantity'), (/** @type {Schemas['RetirementView']} */ r) => `${tonnes(r.quantity_g)} t`],
        [t('batch.serials'), (/** @type {Schemas['RetirementView']} */ r) => html`<span class="mono">${r.serial_first} … ${r.serial_last}</span>`],
        [t('retirement.at'), (/** @type {Schemas['RetirementView']} */ r) => when(r.created_at)],
        [t('retirement.certificate'), (/** @type {Schemas['RetirementView']} */ r) => html`<a href=${href('/check', { retirement: r.id })}>${t('retirement.check')}</a>`],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}
