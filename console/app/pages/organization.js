// @ts-check
// An organisation: applying for one (an enterprise waits for government
// approval; other kinds are set up by an administrator), asking to join
// one, and, for its staff, membership requests to decide and the staff
// role to grant to a colleague.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { navigate } from '../router.js';
import { useMe } from '../session.js';
import { useApprovedOrgs, useOrgNames } from '../orgs.js';
import { Field, More, Page, ProblemNote, Table, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

/** The staff role of each kind of organisation. */
export const STAFF_ROLE = /** @type {Record<Schemas['OrgKind'], Schemas['Role']>} */ ({
  government_department: 'government', enterprise: 'enterprise_operator', service_centre: 'verifier', reserve_platform: 'reserve', bank: 'bank',
  guarantor: 'guarantor', insurer: 'insurer',
});

/** The portfolios a government department may hold (none: not a bureau). */
const BUREAUS = /** @type {const} */ (['', 'ecology', 'water', 'economic_development', 'natural_resources']);

export function Apply() {
  const me = useMe();
  const admin = !!me?.roles.some((g) => g.role === 'admin');
  const [v, setV] = useState({ name: '', uscc: '', kind: /** @type {Schemas['OrgKind']} */ ('enterprise'), bureau: '' });
  const action = useAction();
  const made = /** @type {Schemas['OrganizationView'] | null} */ (action.done);
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<${Page} title=${t('org.apply')}>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        const bureau = v.kind === 'government_department' && v.bureau ? /** @type {Schemas['Bureau']} */ (v.bureau) : undefined;
        action.run(() => ok(client.POST('/api/v1/organizations', { body: { name: v.name.trim(), uscc: v.uscc.trim().toUpperCase(), kind: v.kind, bureau } })));
      }}>
      <${Field} label=${t('org.name')} name="name" value=${v.name} onInput=${set('name')} required problem=${action.problem} />
      <${Field} label=${t('gov.uscc')} name="uscc" value=${v.uscc} onInput=${set('uscc')} hint=${t('org.uscc_hint')} required problem=${action.problem} />
      ${admin ? html`<${Field} label=${t('org.kind')} name="kind" value=${v.kind} onInput=${set('kind')}
        options=${Object.keys(STAFF_ROLE).map((k) => /** @type {[string, string]} */ ([k, label('org_kind', k)]))} problem=${action.problem} />` : null}
      ${admin && v.kind === 'government_department' ? html`<${Field} label=${t('org.bureau')} name="bureau" value=${v.bureau} onInput=${set('bureau')}
        options=${BUREAUS.map((b) => /** @type {[string, string]} */ ([b, b ? label('bureau', b) : t('org.no_bureau')]))} problem=${action.problem} />` : null}
      <${ProblemNote} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${t('org.apply_now')}</button>
      ${made ? html`<p class="note" role="status" data-testid="applied">${t('org.applied', { name: made.name, status: label('org_status', made.status) })}</p>` : null}
    </form>
    <${Join} />
  </${Page}>`;
}

function Join() {
  const orgs = useApprovedOrgs();
  const [org, setOrg] = useState('');
  const action = useAction();
  const choices = orgs.data ?? [];
  return html`<form class="form" aria-labelledby="join-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      const id = org || choices[0]?.id;
      if (id) action.run(() => ok(client.POST('/api/v1/organizations/{id}/memberships', { params: { path: { id } } })));
    }}>
    <h2 id="join-title">${t('org.join')}</h2>
    <${Field} label=${t('org.name')} name="organization" value=${org || choices[0]?.id || ''} onInput=${setOrg}
      options=${choices.map((o) => /** @type {[string, string]} */ ([o.id, `${o.name} (${label('org_kind', o.kind)})`]))} problem=${action.problem ?? orgs.problem} />
    <${ProblemNote} problem=${action.problem ?? orgs.problem} />
    <button type="submit" disabled=${action.busy}>${t('org.join_now')}</button>
    ${action.done ? html`<p class="note" role="status">${t('org.join_sent')}</p>` : null}
  </form>`;
}

/** The organisations in which `me` is staff (holds the kind's staff role). */
function staffOrgs(/** @type {import('../session.js').Me | null} */ me) {
  return [...new Set((me?.roles ?? []).filter((g) => g.organization_id && g.role !== 'person').map((g) => /** @type {string} */ (g.organization_id)))];
}

export function Members(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const admin = !!me?.roles.some((g) => g.role === 'admin');
  // An administrator manages any organisation (they set the first staff up).
  const every = useApprovedOrgs();
  const orgs = admin ? (every.data ?? []).map((o) => o.id) : staffOrgs(me);
  const names = useOrgNames(orgs);
  const org = query.get('org') ?? orgs[0] ?? '';
  return html`<${Page} title=${t('org.members')}>
    ${orgs.length > 1 ? html`<form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('org.name')} name="org" value=${org} onInput=${(/** @type {string} */ v) => navigate('/members', { org: v })}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
    </form>` : html`<p class="lead">${names[org] ?? ''}</p>`}
    ${org ? html`<${Requests} org=${org} /><${Grant} org=${org} />` : null}
  </${Page}>`;
}

function Requests(/** @type {{ org: string }} */ { org }) {
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/organizations/{id}/memberships', { params: { path: { id: org }, query: { status: 'pending', limit: 50, starting_after: after } } })), [org, version]);
  const action = useAction();
  const decide = (/** @type {string} */ membership, /** @type {'approve' | 'reject'} */ decision) => action.run(async () => {
    await ok(client.POST('/api/v1/organizations/{id}/memberships/{membership_id}/{decision}', { params: { path: { id: org, membership_id: membership, decision } } }));
    setVersion((v) => v + 1);
  });
  return html`<h2>${t('org.requests')}</h2>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('org.requests')} rows=${pages.rows} rowKey=${(/** @type {Schemas['MembershipView']} */ m) => m.id} empty=${t('org.no_requests')}
      columns=${[
        [t('org.user'), (/** @type {Schemas['MembershipView']} */ m) => html`<span class="mono">${m.user_id}</span>`],
        [t('org.requested'), (/** @type {Schemas['MembershipView']} */ m) => when(m.requested_at)],
        ['', (/** @type {Schemas['MembershipView']} */ m) => html`<button type="button" disabled=${action.busy} onClick=${() => decide(m.id, 'approve')}>${t('gov.approve')}</button>
          <button type="button" class="danger" disabled=${action.busy} onClick=${() => decide(m.id, 'reject')}>${t('gov.reject')}</button>`],
      ]} />
    <${More} pages=${pages} />`;
}

function Grant(/** @type {{ org: string }} */ { org }) {
  const [who, setWho] = useState('');
  const action = useAction();
  const organization = useLoad(() => ok(client.GET('/api/v1/organizations/{id}', { params: { path: { id: org } } })), [org]);
  const kind = organization.data?.kind;
  const role = kind ? STAFF_ROLE[kind] : null;
  return html`<form class="form" aria-labelledby="grant-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      const id = who.trim();
      if (!role) return;
      action.run(() => ok(client.POST('/api/v1/organizations/{id}/roles', {
        params: { path: { id: org } },
        body: id.includes('@') ? { role, email: id } : { role, mobile: id },
      })));
    }}>
    <h2 id="grant-title">${t('org.grant')}</h2>
    <p class="note">${role ? t('org.grant_hint', { role: label('role', role) }) : ''}</p>
    <${Field} label=${t('register.login')} name=${who.includes('@') ? 'email' : 'mobile'} value=${who} onInput=${setWho} required problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy || !role}>${t('org.grant_now')}</button>
    ${action.done ? html`<p class="note" role="status">${t('org.granted')}</p>` : null}
  </form>`;
}
