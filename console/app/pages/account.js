// @ts-check
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { useMe } from '../session.js';
import { Busy, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas['NotificationView']} Notification */

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
    <${Inbox} />
  </${Page}>`;
}

/** What a notification tells, in words (its body holds only the reader's own data). */
export function told(/** @type {Notification} */ n) {
  const b = /** @type {Record<string, string | null>} */ (n.body);
  switch (n.kind) {
    case 'trip_reviewed':
      return t('inbox.trip_reviewed', { status: label('trip_status', b.status ?? ''), reason: b.reason ?? '', points: count(b.points ?? '0') });
    case 'organization_decided':
      return t('inbox.organization_decided', { name: b.name ?? '', status: label('org_status', b.status ?? ''), reason: b.reason ?? '' });
    case 'membership_decided':
      return t('inbox.membership_decided', { status: label('org_status', b.status ?? '') });
    default:
      return label('notification_kind', n.kind);
  }
}

/** The person's notifications, newest first, marked read one by one, and the kinds they receive. */
function Inbox() {
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/me/notifications', { params: { query: { limit: 20, starting_after: after } } })), [version]);
  const settings = useLoad(() => ok(client.GET('/api/v1/me/notification-settings')), [version]);
  const action = useAction();
  const read = (/** @type {string} */ id) => action.run(async () => {
    await ok(client.POST('/api/v1/me/notifications/{id}/read', { params: { path: { id } } }));
    setVersion((v) => v + 1);
  });
  const toggle = (/** @type {Notification['kind']} */ kind, /** @type {boolean} */ enabled) => action.run(async () => {
    await ok(client.POST('/api/v1/me/notification-settings', { body: { kind, enabled } }));
    setVersion((v) => v + 1);
  });
  return html`<h2>${t('inbox.title')}</h2>
    <${Table} caption=${t('inbox.title')} rows=${pages.rows} rowKey=${(/** @type {Notification} */ n) => n.id} empty=${t('inbox.empty')}
      columns=${[
        [t('inbox.when'), (/** @type {Notification} */ n) => when(n.created_at)],
        [t('inbox.what'), (/** @type {Notification} */ n) => html`<span data-kind=${n.kind} data-read=${n.read_at ? 'yes' : 'no'}>${told(n)}</span>`],
        [t('inbox.state'), (/** @type {Notification} */ n) => n.read_at
          ? t('inbox.read')
          : html`<button type="button" class="secondary" disabled=${action.busy} aria-label=${t('inbox.mark_read_of', { what: told(n) })}
              onClick=${() => read(n.id)}>${t('inbox.mark_read')}</button>`],
      ]} />
    <${More} pages=${pages} />
    <${ProblemNote} problem=${action.problem ?? settings.problem} />
    <fieldset class="kinds">
      <legend>${t('inbox.kinds')}</legend>
      ${(settings.data?.data ?? []).map((s) => html`<label class="inline">
        <input type="checkbox" name=${`kind-${s.kind}`} checked=${s.enabled} disabled=${action.busy}
          onChange=${(/** @type {Event} */ e) => toggle(s.kind, /** @type {HTMLInputElement} */ (e.target).checked)} />
        ${label('notification_kind', s.kind)}</label>`)}
    </fieldset>`;
}
