// @ts-check
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { useMe } from '../session.js';
import { Busy, Page, ProblemNote, Table, useLoad, when } from '../ui.js';

/** The signed-in person: their organisations and the roles they hold in each. */
export function Account() {
  const me = useMe();
  const ids = me ? [...new Set([...me.member_of, ...me.roles.map((g) => g.organization_id).filter((id) => !!id)])] : [];
  const orgs = useLoad(
    () => Promise.all(ids.map((id) => ok(client.GET('/api/v1/organizations/{id}', { params: { path: { id: /** @type {string} */ (id) } } })))),
    [ids.join(',')],
  );
  if (!me) return null;
  const admin = me.roles.some((g) => g.role === 'admin');
  return html`<${Page} title=${t('account.title')}>
    <dl class="facts">
      <dt>${t('account.login')}</dt><dd>${me.email ?? me.mobile}</dd>
      <dt>${t('account.since')}</dt><dd>${when(me.created_at)}</dd>
      ${admin ? html`<dt>${t('account.platform')}</dt><dd>${t('role.admin')}</dd>` : null}
    </dl>
    <p><a class="button secondary" href="#/organizations/new">${t('org.apply')}</a></p>
    ${orgs.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${orgs.problem} />
    ${orgs.data
      ? html`<${Table} caption=${t('account.organizations')} rows=${orgs.data} rowKey=${(/** @type {import('../api.js').Schemas['OrganizationView']} */ o) => o.id}
          empty=${t('account.no_organizations')}
          columns=${[
            [t('org.name'), (/** @type {import('../api.js').Schemas['OrganizationView']} */ o) => o.name],
            [t('org.kind'), (/** @type {import('../api.js').Schemas['OrganizationView']} */ o) => label('org_kind', o.kind)],
            [t('org.status'), (/** @type {import('../api.js').Schemas['OrganizationView']} */ o) => label('org_status', o.status)],
            [t('account.roles'), (/** @type {import('../api.js').Schemas['OrganizationView']} */ o) =>
              me.roles.filter((g) => g.organization_id === o.id).map((g) => label('role', g.role)).join('、') || t('account.member')],
          ]} />`
      : null}
  </${Page}>`;
}
