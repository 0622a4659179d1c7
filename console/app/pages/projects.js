// @ts-check
// The registry's projects as their enterprise and the service centre work
// them: a draft with its documents (by SHA-256, computed in the browser:
// the file itself never leaves it), submission to public notice,
// objections, the service centre's decision, monitoring reports, their
// verification (accept, reduce with a reason, reject) and issuance.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { holds, orgsWith, useMe } from '../session.js';
import { useOrgNames } from '../orgs.js';
import { Busy, Field, More, Page, ProblemNote, Table, gramsOf, tonnes, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

const KINDS = /** @type {const} */ (['energy_efficiency', 'renewable_power', 'biogas', 'afforestation', 'other']);

export function ProjectList(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const status = /** @type {Schemas['ProjectView']['status'] | undefined} */ (query.get('status') || undefined);
  const pages = usePages((after) => ok(client.GET('/api/v1/projects', { params: { query: { status, limit: 50, starting_after: after } } })), [status]);
  const names = useOrgNames([...new Set(pages.rows.map((p) => p.organization_id))]);
  const mine = orgsWith(me, 'enterprise_operator').length > 0;
  return html`<${Page} title=${t('projects.title')} actions=${mine ? html`<a class="button" href="#/projects/new">${t('projects.new')}</a>` : null}>
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('project.status')} name="status" value=${status ?? ''} onInput=${(/** @type {string} */ v) => navigate('/projects', { status: v })}
        options=${[['', t('ui.any')], ...['draft', 'notice', 'approved', 'rejected'].map((s) => /** @type {[string, string]} */ ([s, label('project_status', s)]))]} />
    </form>
    <${Table} caption=${t('projects.title')} rows=${pages.rows} rowKey=${(/** @type {Schemas['ProjectView']} */ p) => p.id}
      columns=${[
        [t('project.name'), (/** @type {Schemas['ProjectView']} */ p) => html`<a href=${href(`/projects/${p.id}`)}>${p.name}</a>`],
        [t('projects.owner'), (/** @type {Schemas['ProjectView']} */ p) => names[p.organization_id] ?? ''],
        [t('project.kind'), (/** @type {Schemas['ProjectView']} */ p) => label('project_kind', p.kind)],
        [t('project.status'), (/** @type {Schemas['ProjectView']} */ p) => label('project_status', p.status)],
        [t('project.notice_closes'), (/** @type {Schemas['ProjectView']} */ p) => when(p.notice_closes_at)],
        [t('project.objections'), (/** @type {Schemas['ProjectView']} */ p) => p.objections],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}

/** Hex SHA-256 of a file, in the browser. */
async function sha256(/** @type {File} */ file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function NewProject() {
  const year = new Date().getFullYear();
  return html`<${Page} title=${t('projects.new')}>
    <${ProjectForm} initial=${{
      organization_id: '', name: '', kind: /** @type {Schemas['ProjectKind']} */ ('afforestation'), methodology: '', methodology_version: '1',
      methodology_name: '', region_code: '620100', crediting_start: `${year}-01-01`, crediting_end: `${year + 29}-12-31`,
      longitude: '', latitude: '', identities: '', parcels: [{ id: '', area_ha: '' }], documents: [],
    }} save=${(/** @type {Schemas['ProjectInput']} */ body) => ok(client.POST('/api/v1/projects', { body }))} submitLabel=${t('projects.create')} />
  </${Page}>`;
}

/** A draft's content in the form, to correct it before submitting it. */
export function EditProject(/** @type {{ params: { id: string } }} */ { params }) {
  const project = useLoad(() => ok(client.GET('/api/v1/projects/{id}', { params: { path: { id: params.id } } })), [params.id]);
  const p = project.data;
  // Parcels' identities are the server's (`parcel:<region>:<id>`), made again from the parcels.
  const location = /** @type {{ parcels?: Array<{ id: string, area_ha: string }>, coordinates?: [string, string] }} */ (p?.location ?? {});
  return html`<${Page} title=${t('projects.edit_title', { name: p?.name ?? '' })}>
    ${project.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${project.problem} />
    ${p && p.status !== 'draft' ? html`<p class="note">${t('projects.not_a_draft')} <a href=${href(`/projects/${p.id}`)}>${p.name}</a></p>` : null}
    ${p && p.status === 'draft' ? html`<${ProjectForm} initial=${{
      organization_id: p.organization_id, name: p.name, kind: /** @type {Schemas['ProjectKind']} */ (p.kind), methodology: p.methodology,
      methodology_version: String(p.methodology_version), methodology_name: p.methodology_name ?? '', region_code: p.region_code,
      crediting_start: p.crediting_start, crediting_end: p.crediting_end,
      longitude: location.coordinates?.[0] ?? '', latitude: location.coordinates?.[1] ?? '', identities: p.identities.filter((i) => !i.startsWith('parcel:')).join(' '),
      parcels: location.parcels?.length ? location.parcels.map((x) => ({ id: x.id, area_ha: String(x.area_ha) })) : [{ id: '', area_ha: '' }],
      documents: /** @type {Schemas['Document'][]} */ (p.documents),
    }} save=${(/** @type {Schemas['ProjectInput']} */ body) => ok(client.PUT('/api/v1/projects/{id}', { params: { path: { id: p.id } }, body }))}
      submitLabel=${t('projects.save_draft')} />` : null}
  </${Page}>`;
}

/**
 * @typedef {{ organization_id: string, name: string, kind: Schemas['ProjectKind'], methodology: string, methodology_version: string,
 *   methodology_name: string, region_code: string, crediting_start: string, crediting_end: string, longitude: string, latitude: string,
 *   identities: string, parcels: Array<{ id: string, area_ha: string }>, documents: Schemas['Document'][] }} Draft
 */

/** A project's content: `save` creates or replaces the draft, then its page opens. */
function ProjectForm(/** @type {{ initial: Draft, save: (body: Schemas['ProjectInput']) => Promise<Schemas['ProjectView']>, submitLabel: string }} */ { initial, save, submitLabel }) {
  const me = useMe();
  const orgs = orgsWith(me, 'enterprise_operator');
  const names = useOrgNames(orgs);
  const catalog = useLoad(() => ok(client.GET('/api/v1/methodologies')), []);
  const forest = /** @type {Array<{ id: string, version: number, title: string }>} */ ((/** @type {any} */ (catalog.data))?.forest_methodologies ?? []);
  const [v, setV] = useState(initial);
  const [parcels, setParcels] = useState(initial.parcels);
  const [documents, setDocuments] = useState(initial.documents);
  const [hashing, setHashing] = useState(false);
  const action = useAction();
  const set = (/** @type {keyof Draft} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const isForest = v.kind === 'afforestation';
  const methodology = v.methodology || (isForest ? forest[0]?.id ?? '' : '');
  const addFiles = async (/** @type {Event} */ e) => {
    const input = /** @type {HTMLInputElement} */ (e.currentTarget);
    const files = [...(input.files ?? [])];
    setHashing(true);
    try {
      const added = await Promise.all(files.map(async (f) => ({ name: f.name, sha256: await sha256(f) })));
      setDocuments([...documents, ...added]);
    } finally {
      setHashing(false);
      input.value = '';
    }
  };
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    action.run(async () => {
      const saved = await save({
        organization_id: v.organization_id || orgs[0] || '', name: v.name.trim(), kind: v.kind, methodology,
        methodology_version: Number(isForest ? forest.find((m) => m.id === methodology)?.version ?? 1 : v.methodology_version),
        methodology_name: v.methodology_name.trim() || null, region_code: v.region_code.trim(),
        location: isForest
          ? { parcels: parcels.filter((p) => p.id.trim()).map((p) => ({ id: p.id.trim(), area_ha: p.area_ha.trim() })) }
          : { coordinates: [v.longitude.trim(), v.latitude.trim()] },
        crediting_start: v.crediting_start, crediting_end: v.crediting_end,
        documents, identities: v.identities.split(/[\s,，]+/).filter(Boolean),
      });
      navigate(`/projects/${saved.id}`);
    });
  };
  const p = action.problem;
  return html`<form class="form" onSubmit=${submit}>
      ${orgs.length > 1 ? html`<${Field} label=${t('projects.owner')} name="organization_id" value=${v.organization_id || orgs[0]} onInput=${set('organization_id')}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} problem=${p} />` : null}
      <${Field} label=${t('project.name')} name="name" value=${v.name} onInput=${set('name')} required problem=${p} />
      <${Field} label=${t('project.kind')} name="kind" value=${v.kind} onInput=${set('kind')} options=${KINDS.map((k) => /** @type {[string, string]} */ ([k, label('project_kind', k)]))} problem=${p} />
      ${isForest
        ? html`<${Field} label=${t('project.methodology')} name="methodology" value=${methodology} onInput=${set('methodology')}
            options=${forest.map((m) => /** @type {[string, string]} */ ([m.id, `${m.title} v${m.version}`]))} problem=${p} />`
        : html`<${Field} label=${t('project.methodology')} name="methodology" value=${v.methodology} onInput=${set('methodology')} required problem=${p} hint=${t('projects.methodology_hint')} />
            <${Field} label=${t('projects.methodology_version')} name="methodology_version" inputmode="numeric" value=${v.methodology_version} onInput=${set('methodology_version')} problem=${p} />
            <${Field} label=${t('projects.methodology_name')} name="methodology_name" value=${v.methodology_name} onInput=${set('methodology_name')} problem=${p} />`}
      <${Field} label=${t('project.region')} name="region_code" inputmode="numeric" value=${v.region_code} onInput=${set('region_code')} hint=${t('projects.region_hint')} problem=${p} />
      <${Field} label=${t('projects.crediting_start')} name="crediting_start" type="date" value=${v.crediting_start} onInput=${set('crediting_start')} problem=${p} />
      <${Field} label=${t('projects.crediting_end')} name="crediting_end" type="date" value=${v.crediting_end} onInput=${set('crediting_end')} problem=${p} />
      ${isForest
        ? html`<fieldset class="leg"><legend>${t('projects.parcels')}</legend>
            ${parcels.map((row, i) => html`<div class="buttons" key=${i}>
              <${Field} label=${t('projects.parcel_id', { n: i + 1 })} name=${`location.parcels[${i}].id`} value=${row.id} onInput=${(/** @type {string} */ x) => setParcels(parcels.map((r, j) => (j === i ? { ...r, id: x } : r)))} problem=${p} />
              <${Field} label=${t('projects.parcel_area', { n: i + 1 })} name=${`location.parcels[${i}].area_ha`} inputmode="decimal" value=${row.area_ha} onInput=${(/** @type {string} */ x) => setParcels(parcels.map((r, j) => (j === i ? { ...r, area_ha: x } : r)))} problem=${p} />
            </div>`)}
            <button type="button" class="secondary" onClick=${() => setParcels([...parcels, { id: '', area_ha: '' }])}>${t('projects.add_parcel')}</button>
          </fieldset>`
        : html`<${Field} label=${t('projects.longitude')} name="location" inputmode="decimal" value=${v.longitude} onInput=${set('longitude')} problem=${p} />
            <${Field} label=${t('projects.latitude')} name="location" inputmode="decimal" value=${v.latitude} onInput=${set('latitude')} problem=${p} />`}
      <${Field} label=${t('projects.identities')} name="identities" value=${v.identities} onInput=${set('identities')} hint=${t('projects.identities_hint')} problem=${p} />
      <div class="field">
        <label for="documents">${t('projects.documents')}</label>
        <input id="documents" type="file" multiple onChange=${addFiles} aria-describedby="documents-hint" />
        <small id="documents-hint">${t('projects.documents_hint')}</small>
        ${hashing ? html`<${Busy} label=${t('projects.hashing')} />` : null}
        <ul class="plain" data-testid="documents">${documents.map((d, i) => html`<li key=${d.sha256}>${d.name} <span class="mono">${d.sha256}</span>
          <button type="button" class="secondary" onClick=${() => setDocuments(documents.filter((_, j) => j !== i))}>${t('projects.remove_document', { name: d.name })}</button></li>`)}</ul>
      </div>
      <${ProblemNote} problem=${p} />
      <button type="submit" disabled=${action.busy || hashing}>${action.busy ? t('ui.working') : submitLabel}</button>
    </form>`;
}

export function ProjectDetail(/** @type {{ params: { id: string } }} */ { params }) {
  const me = useMe();
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((x) => x + 1);
  const project = useLoad(() => ok(client.GET('/api/v1/projects/{id}', { params: { path: { id: params.id } } })), [params.id, version]);
  const p = project.data;
  const owner = !!p && orgsWith(me, 'enterprise_operator').includes(p.organization_id);
  const verifier = holds(me, 'verifier');
  const names = useOrgNames(p ? [p.organization_id] : []);
  return html`<${Page} title=${p?.name ?? t('projects.title')}>
    ${project.loading && !p ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${project.problem} />
    ${p
      ? html`<dl class="facts" data-testid="project">
          <dt>${t('projects.owner')}</dt><dd>${names[p.organization_id] ?? ''}</dd>
          <dt>${t('project.status')}</dt><dd data-status=${p.status}>${label('project_status', p.status)}</dd>
          ${p.number ? html`<dt>${t('projects.number')}</dt><dd>${p.number}</dd>` : null}
          <dt>${t('project.kind')}</dt><dd>${label('project_kind', p.kind)}</dd>
          <dt>${t('project.methodology')}</dt><dd>${p.methodology_name ?? p.methodology} v${p.methodology_version}</dd>
          <dt>${t('project.region')}</dt><dd>${p.region_code}</dd>
          <dt>${t('project.crediting')}</dt><dd>${p.crediting_start} – ${p.crediting_end}</dd>
          ${p.notice_closes_at ? html`<dt>${t('project.notice_closes')}</dt><dd>${when(p.notice_closes_at)}</dd>` : null}
          ${p.decision_reason ? html`<dt>${t('projects.decision_reason')}</dt><dd>${p.decision_reason}</dd>` : null}
          <dt>${t('projects.documents')}</dt>
          <dd><ul class="plain">${p.documents.map((d) => html`<li>${/** @type {any} */ (d).name} <span class="mono wrap">${/** @type {any} */ (d).sha256}</span></li>`)}</ul></dd>
        </dl>
        ${owner && p.status === 'draft' ? html`<p><a class="button secondary" href=${href(`/projects/${p.id}/edit`)}>${t('projects.edit')}</a></p>
          <${Submit} id=${p.id} changed=${changed} />` : null}
        ${verifier && p.status === 'notice' ? html`<${Decide} project=${p} changed=${changed} />` : null}
        ${p.status !== 'draft' ? html`<${Objections} project=${p} version=${version} changed=${changed} />` : null}
        ${p.status === 'approved' ? html`<${Reports} project=${p} owner=${owner} verifier=${verifier} version=${version} changed=${changed} />` : null}`
      : null}
  </${Page}>`;
}

function Submit(/** @type {{ id: string, changed: () => void }} */ { id, changed }) {
  const action = useAction();
  return html`<div class="form">
    <p>${t('projects.submit_hint')}</p>
    <${ProblemNote} problem=${action.problem} />
    <button type="button" disabled=${action.busy} onClick=${() => action.run(async () => {
      await ok(client.POST('/api/v1/projects/{id}/submit', { params: { path: { id } } }));
      changed();
    })}>${t('projects.submit')}</button>
  </div>`;
}

function Decide(/** @type {{ project: Schemas['ProjectView'], changed: () => void }} */ { project, changed }) {
  const [reason, setReason] = useState('');
  const action = useAction();
  const decide = (/** @type {Schemas['ProjectDecision']} */ decision) => action.run(async () => {
    await ok(client.POST('/api/v1/projects/{id}/decision', { params: { path: { id: project.id } }, body: { decision, reason: reason.trim() || null } }));
    changed();
  });
  return html`<form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()} aria-labelledby="decide-title">
    <h2 id="decide-title">${t('projects.decide')}</h2>
    <${Field} label=${t('projects.reason')} name="reason" multiline rows="2" value=${reason} onInput=${setReason} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <div class="buttons">
      <button type="button" disabled=${action.busy} onClick=${() => decide('approve')}>${t('projects.approve')}</button>
      <button type="button" class="danger" disabled=${action.busy} onClick=${() => decide('reject')}>${t('projects.reject')}</button>
    </div>
  </form>`;
}

/** @param {{ project: Schemas['ProjectView'], version: number, changed: () => void }} props */
function Objections({ project, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/projects/{id}/objections', { params: { path: { id: project.id }, query: { limit: 50, starting_after: after } } })), [project.id, version]);
  const [text, setText] = useState('');
  const action = useAction();
  return html`<h2>${t('projects.objections')}</h2>
    <${Table} caption=${t('projects.objections')} rows=${pages.rows} rowKey=${(/** @type {Schemas['ObjectionView']} */ o) => o.id} empty=${t('projects.no_objections')}
      columns=${[
        [t('projects.objection_at'), (/** @type {Schemas['ObjectionView']} */ o) => when(o.created_at)],
        [t('projects.objection'), (/** @type {Schemas['ObjectionView']} */ o) => o.text],
      ]} />
    <${More} pages=${pages} />
    ${project.status === 'notice'
      ? html`<form class="form" onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          action.run(async () => {
            await ok(client.POST('/api/v1/projects/{id}/objections', { params: { path: { id: project.id } }, body: { text: text.trim() } }));
            setText('');
            changed();
          });
        }}>
          <${Field} label=${t('projects.object')} name="text" multiline rows="2" value=${text} onInput=${setText} required problem=${action.problem} />
          <${ProblemNote} problem=${action.problem} />
          <button type="submit" disabled=${action.busy}>${t('projects.send_objection')}</button>
        </form>`
      : null}`;
}

/** @param {{ project: Schemas['ProjectView'], owner: boolean, verifier: boolean, version: number, changed: () => void }} props */
function Reports({ project, owner, verifier, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/projects/{id}/reports', { params: { path: { id: project.id }, query: { limit: 50, starting_after: after } } })), [project.id, version]);
  return html`<h2>${t('reports.title')}</h2>
    <${Table} caption=${t('reports.title')} rows=${pages.rows} rowKey=${(/** @type {Schemas['ReportView']} */ r) => r.id} empty=${t('reports.none')}
      columns=${[
        [t('reports.period'), (/** @type {Schemas['ReportView']} */ r) => `${r.period_start} – ${r.period_end}`],
        [t('reports.claimed'), (/** @type {Schemas['ReportView']} */ r) => `${tonnes(r.claimed_g)} t`],
        [t('reports.verified'), (/** @type {Schemas['ReportView']} */ r) => (r.verified_g ? `${tonnes(r.verified_g)} t` : '')],
        [t('reports.status'), (/** @type {Schemas['ReportView']} */ r) => html`<span data-report=${r.id} data-status=${r.status}>${label('report_status', r.status)}</span>${r.decision_reason ? html`<br /><small>${r.decision_reason}</small>` : null}`],
        [t('reports.batch'), (/** @type {Schemas['ReportView']} */ r) => (r.batch_id ? html`<a href=${href('/explorer/batches', { project_id: project.id })}>${r.batch_id}</a>` : '')],
        ['', (/** @type {Schemas['ReportView']} */ r) => (verifier ? html`<${ReportActions} report=${r} changed=${changed} />` : null)],
      ]} />
    <${More} pages=${pages} />
    ${owner ? html`<${NewReport} project=${project} changed=${changed} />` : null}`;
}

/** The service centre's decision on a submitted report, and issuance of a verified one. */
function ReportActions(/** @type {{ report: Schemas['ReportView'], changed: () => void }} */ { report, changed }) {
  const [verdict, setVerdict] = useState(/** @type {Schemas['ReportVerdict']} */ ('accept'));
  const [tonnesText, setTonnes] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction();
  if (report.status === 'verified') {
    return html`<${ProblemNote} problem=${action.problem} />
      <button type="button" disabled=${action.busy} onClick=${() => action.run(async () => {
        await ok(client.POST('/api/v1/reports/{id}/issuance', { params: { path: { id: report.id } } }));
        changed();
      })}>${action.busy ? t('ui.working') : t('reports.issue')}</button>`;
  }
  if (report.status !== 'submitted') return null;
  return html`<form class="form" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/reports/{id}/verification', {
          params: { path: { id: report.id } },
          body: { verdict, quantity_g: verdict === 'accept_reduced' ? gramsOf(tonnesText) ?? tonnesText.trim() : null, reason: reason.trim() || null },
        }));
        changed();
      });
    }}>
    <${Field} label=${t('reports.verdict')} name="verdict" value=${verdict} onInput=${(/** @type {string} */ x) => setVerdict(/** @type {Schemas['ReportVerdict']} */ (x))}
      options=${[['accept', t('reports.accept')], ['accept_reduced', t('reports.accept_reduced')], ['reject', t('reports.reject')]]} problem=${action.problem} />
    ${verdict === 'accept_reduced' ? html`<${Field} label=${t('reports.reduced_to')} name="quantity_g" inputmode="decimal" value=${tonnesText} onInput=${setTonnes} problem=${action.problem} />` : null}
    <${Field} label=${t('reports.reason')} name="reason" multiline rows="2" value=${reason} onInput=${setReason} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('reports.record_verdict')}</button>
  </form>`;
}

const FOREST_REQUEST = /** @type {const} */ (['area_ha', 'volume_m3_per_ha_start', 'volume_m3_per_ha_end', 'wood_density', 'bef', 'root_shoot_ratio']);

/** A monitoring report: the activity data of the calculator the project's kind uses. */
function NewReport(/** @type {{ project: Schemas['ProjectView'], changed: () => void }} */ { project, changed }) {
  const last = new Date().getFullYear() - 1;
  const [period, setPeriod] = useState({ start: `${last}-01-01`, end: `${last}-12-31` });
  const [v, setV] = useState(/** @type {Record<string, string>} */ ({
    area_ha: '', volume_m3_per_ha_start: '', volume_m3_per_ha_end: '', wood_density: '0.5', bef: '1.5', root_shoot_ratio: '0.25',
    electricity_mwh: '', ch4_t: '', gwp: 'ar5', reduction_t: '',
  }));
  const action = useAction();
  const set = (/** @type {string} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const calculator = project.kind === 'afforestation' ? 'forest'
    : project.kind === 'biogas' ? 'methane'
    : project.kind === 'other' ? 'declared' : 'grid';
  /** @returns {Record<string, string>} */
  const request = () => {
    if (calculator === 'forest') return Object.fromEntries(FOREST_REQUEST.map((k) => [k, v[k].trim()]));
    if (calculator === 'methane') return { ch4_t: v.ch4_t.trim(), gwp: v.gwp.trim() };
    if (calculator === 'declared') return { reduction_t: v.reduction_t.trim() };
    return { electricity_mwh: v.electricity_mwh.trim() };
  };
  const fields = calculator === 'forest' ? [...FOREST_REQUEST]
    : calculator === 'methane' ? ['ch4_t', 'gwp'] : calculator === 'declared' ? ['reduction_t'] : ['electricity_mwh'];
  return html`<form class="form" aria-labelledby="report-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/projects/{id}/reports', {
          params: { path: { id: project.id } },
          // The spec types `request` as an open object (it is carbon-calc's
          // request for the calculator), which the generated types read as empty.
          body: { period_start: period.start, period_end: period.end, activity: { calculator, request: /** @type {any} */ (request()) } },
        }));
        changed();
      });
    }}>
    <h2 id="report-title">${t('reports.new')}</h2>
    <${Field} label=${t('reports.period_start')} name="period_start" type="date" value=${period.start} onInput=${(/** @type {string} */ x) => setPeriod({ ...period, start: x })} problem=${action.problem} />
    <${Field} label=${t('reports.period_end')} name="period_end" type="date" value=${period.end} onInput=${(/** @type {string} */ x) => setPeriod({ ...period, end: x })} problem=${action.problem} />
    ${fields.map((k) => html`<${Field} label=${t(/** @type {import('../i18n.js').Key} */ (`activity.${k}`))} name=${`activity.request.${k}`} inputmode="decimal" value=${v[k]} onInput=${set(k)} problem=${action.problem} />`)}
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('reports.submit')}</button>
  </form>`;
}
