// @ts-check
// Carbon-neutral claims: an organisation's footprint for a period or an
// event, covered by retirements attached to it. Public once made: anyone
// can read a claim and its retirements.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { orgsWith, useMe } from '../session.js';
import { useOrgNames } from '../orgs.js';
import { Busy, Field, Page, ProblemNote, gramsOf, tonnes, useAction, useLoad, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

export function NewClaim() {
  const me = useMe();
  const orgs = [...new Set([...orgsWith(me, 'enterprise_operator'), ...orgsWith(me, 'government')])];
  const names = useOrgNames(orgs);
  const year = new Date().getFullYear();
  const [v, setV] = useState({ organization_id: '', subject: '', period_start: `${year}-01-01`, period_end: `${year}-12-31`, footprint_t: '' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  return html`<${Page} title=${t('claims.new')}>
    <p>${t('claims.lead')}</p>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        action.run(async () => {
          const made = await ok(client.POST('/api/v1/claims', {
            body: {
              organization_id: v.organization_id || orgs[0] || '', subject: v.subject.trim(), period_start: v.period_start, period_end: v.period_end,
              footprint_g: gramsOf(v.footprint_t) ?? v.footprint_t.trim(),
            },
          }));
          navigate(`/claims/${made.id}`);
        });
      }}>
      ${orgs.length > 1 ? html`<${Field} label=${t('trade.organization')} name="organization_id" value=${v.organization_id || orgs[0]} onInput=${set('organization_id')}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} problem=${action.problem} />` : null}
      <${Field} label=${t('claims.subject')} name="subject" value=${v.subject} onInput=${set('subject')} hint=${t('claims.subject_hint')} required problem=${action.problem} />
      <${Field} label=${t('reports.period_start')} name="period_start" type="date" value=${v.period_start} onInput=${set('period_start')} problem=${action.problem} />
      <${Field} label=${t('reports.period_end')} name="period_end" type="date" value=${v.period_end} onInput=${set('period_end')} problem=${action.problem} />
      <${Field} label=${t('claims.footprint')} name="footprint_g" inputmode="decimal" value=${v.footprint_t} onInput=${set('footprint_t')} hint=${t('holdings.tonnes_hint')} required problem=${action.problem} />
      <${ProblemNote} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${t('claims.create')}</button>
    </form>
  </${Page}>`;
}

export function Claim(/** @type {{ params: { id: string } }} */ { params }) {
  const me = useMe();
  const [version, setVersion] = useState(0);
  const claim = useLoad(() => ok(client.GET('/api/v1/public/claims/{id}', { params: { path: { id: params.id } } })), [params.id, version]);
  const c = claim.data;
  const mine = !!c && [...orgsWith(me, 'enterprise_operator'), ...orgsWith(me, 'government')].includes(c.organization_id);
  const [retirement, setRetirement] = useState('');
  const action = useAction();
  return html`<${Page} title=${c?.subject ?? t('claims.title')}>
    ${claim.loading && !c ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${claim.problem} />
    ${c ? html`<dl class="facts" data-testid="claim" data-neutral=${String(c.carbon_neutral)}>
        <dt>${t('claims.period')}</dt><dd>${c.period_start} – ${c.period_end}</dd>
        <dt>${t('claims.footprint')}</dt><dd>${tonnes(c.footprint_g)} t</dd>
        <dt>${t('claims.covered')}</dt><dd>${tonnes(c.covered_g)} t</dd>
        <dt>${t('claims.uncovered')}</dt><dd>${tonnes(c.uncovered_g)} t</dd>
        <dt>${t('claims.neutral')}</dt><dd>${c.carbon_neutral ? t('claims.yes') : t('claims.no')}</dd>
        <dt>${t('claims.made')}</dt><dd>${when(c.created_at)}</dd>
        <dt>${t('claims.retirements')}</dt>
        <dd><ul class="plain">${c.retirement_ids.map((id) => html`<li><a href=${href('/check', { retirement: id })}>${id}</a></li>`)}</ul></dd>
      </dl>
      ${mine ? html`<form class="form" onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          action.run(async () => {
            await ok(client.POST('/api/v1/claims/{id}/retirements', { params: { path: { id: c.id } }, body: { retirement_id: retirement.trim() } }));
            setRetirement('');
            setVersion((x) => x + 1);
          });
        }}>
        <${Field} label=${t('claims.attach')} name="retirement_id" value=${retirement} onInput=${setRetirement} hint=${t('claims.attach_hint')} required problem=${action.problem} />
        <${ProblemNote} problem=${action.problem} />
        <button type="submit" disabled=${action.busy}>${t('claims.attach_now')}</button>
      </form>` : null}` : null}
  </${Page}>`;
}
