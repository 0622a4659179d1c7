// @ts-check
// Administrators: partner keys of trip-feed partners (a secret is shown
// once, when issued), and the reward catalogue. Staff roles are granted on
// the members page, which an administrator opens for any organisation.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { t } from '../i18n.js';
import { useApprovedOrgs } from '../orgs.js';
import { Field, More, Page, ProblemNote, Table, count, useAction, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

export function Admin() {
  return html`<${Page} title=${t('admin.title')}>
    <p><a href="#/members">${t('admin.roles_hint')}</a></p>
    <${PartnerKeys} />
    <${Rewards} />
  </${Page}>`;
}

function PartnerKeys() {
  const enterprises = useApprovedOrgs('enterprise');
  const [org, setOrg] = useState('');
  const chosen = org || enterprises.data?.[0]?.id || '';
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => (chosen
    ? ok(client.GET('/api/v1/organizations/{id}/partner-keys', { params: { path: { id: chosen }, query: { limit: 50, starting_after: after } } }))
    : Promise.resolve({ data: [], has_more: false })), [chosen, version]);
  const action = useAction();
  const issued = /** @type {Schemas['IssuedKeyView'] | null} */ (action.done && 'secret' in /** @type {object} */ (action.done) ? action.done : null);
  return html`<section aria-labelledby="keys-title">
    <h2 id="keys-title">${t('admin.partner_keys')}</h2>
    <p class="note">${t('admin.partner_keys_hint')}</p>
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('admin.partner')} name="organization" value=${chosen} onInput=${setOrg}
        options=${(enterprises.data ?? []).map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${enterprises.problem} />
      <button type="button" disabled=${action.busy || !chosen} onClick=${() => action.run(async () => {
        const key = await ok(client.POST('/api/v1/organizations/{id}/partner-keys', { params: { path: { id: chosen } } }));
        setVersion((v) => v + 1);
        return key;
      })}>${t('admin.issue_key')}</button>
    </form>
    <${ProblemNote} problem=${action.problem} />
    ${issued ? html`<div class="note" role="status" data-testid="secret">
      <p><strong>${t('admin.secret_once')}</strong></p>
      <p>${t('admin.key_id')}: <code class="wrap">${issued.id}</code></p>
      <p>${t('admin.secret')}: <code class="wrap">${issued.secret}</code></p>
    </div>` : null}
    <${Table} caption=${t('admin.partner_keys')} rows=${pages.rows} rowKey=${(/** @type {Schemas['PartnerKeyView']} */ k) => k.id} empty=${t('admin.no_keys')}
      columns=${[
        [t('admin.key_id'), (/** @type {Schemas['PartnerKeyView']} */ k) => html`<code>${k.id}</code>`],
        [t('admin.issued'), (/** @type {Schemas['PartnerKeyView']} */ k) => when(k.created_at)],
        [t('admin.revoked'), (/** @type {Schemas['PartnerKeyView']} */ k) => when(k.revoked_at)],
        ['', (/** @type {Schemas['PartnerKeyView']} */ k) => (k.revoked_at ? null : html`<button type="button" class="danger" disabled=${action.busy}
          onClick=${() => action.run(async () => {
            await ok(client.POST('/api/v1/organizations/{id}/partner-keys/{key_id}/revoke', { params: { path: { id: chosen, key_id: k.id } } }));
            setVersion((v) => v + 1);
          })}>${t('admin.revoke')}</button>`)],
      ]} />
    <${More} pages=${pages} />
  </section>`;
}

function Rewards() {
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/rewards', { params: { query: { limit: 50, starting_after: after } } })), [version]);
  const [v, setV] = useState({ name: '', points_cost: '', stock: '' });
  const [stocks, setStocks] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const update = (/** @type {string} */ id, /** @type {Schemas['UpdateReward']} */ body) => action.run(async () => {
    await ok(client.PATCH('/api/v1/rewards/{id}', { params: { path: { id } }, body }));
    setVersion((x) => x + 1);
  });
  return html`<section aria-labelledby="rewards-title">
    <h2 id="rewards-title">${t('admin.rewards')}</h2>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('admin.rewards')} rows=${pages.rows} rowKey=${(/** @type {Schemas['RewardView']} */ r) => r.id}
      columns=${[
        [t('admin.reward_name'), (/** @type {Schemas['RewardView']} */ r) => r.name],
        [t('admin.points_cost'), (/** @type {Schemas['RewardView']} */ r) => count(r.points_cost)],
        [t('admin.stock'), (/** @type {Schemas['RewardView']} */ r) => html`<label class="inline"><span class="sr-only">${t('admin.stock_of', { name: r.name })}</span>
          <input inputmode="numeric" size="8" value=${stocks[r.id] ?? r.stock} onInput=${(/** @type {Event} */ e) => setStocks({ ...stocks, [r.id]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
          <button type="button" class="secondary" disabled=${action.busy} onClick=${() => update(r.id, { stock: (stocks[r.id] ?? r.stock).trim() })}>${t('admin.save')}</button>`],
        [t('admin.active'), (/** @type {Schemas['RewardView']} */ r) => html`<button type="button" class=${r.active ? 'secondary' : ''} disabled=${action.busy}
          onClick=${() => update(r.id, { active: !r.active })}>${r.active ? t('admin.withdraw_reward') : t('admin.offer_reward')}</button>`],
      ]} />
    <${More} pages=${pages} />
    <form class="form" onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        action.run(async () => {
          await ok(client.POST('/api/v1/rewards', { body: { name: v.name.trim(), points_cost: v.points_cost.trim(), stock: v.stock.trim() } }));
          setV({ name: '', points_cost: '', stock: '' });
          setVersion((x) => x + 1);
        });
      }}>
      <h3>${t('admin.new_reward')}</h3>
      <${Field} label=${t('admin.reward_name')} name="name" value=${v.name} onInput=${set('name')} required problem=${action.problem} />
      <${Field} label=${t('admin.points_cost')} name="points_cost" inputmode="numeric" value=${v.points_cost} onInput=${set('points_cost')} required problem=${action.problem} />
      <${Field} label=${t('admin.stock')} name="stock" inputmode="numeric" value=${v.stock} onInput=${set('stock')} required problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${t('admin.add_reward')}</button>
    </form>
  </section>`;
}
