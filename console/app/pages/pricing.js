// @ts-check
// Guidance prices: every version of an instrument's price with its tiers
// (public), the form in which government staff publish a new one, and the
// price that applies to an organisation (on the trading screen).
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { ApiProblem, client, json, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { navigate } from '../router.js';
import { holds, useMe } from '../session.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

const KINDS = /** @type {const} */ (['enterprise', 'government_department', 'service_centre', 'reserve_platform', 'bank']);

/** Every version of one instrument's guidance price, newest first; government staff publish the next. */
export function GuidancePrices(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const instruments = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  const listed = (instruments.data?.data ?? []).map((i) => i.code);
  const code = query.get('code') ?? listed[0] ?? '';
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => (code
    ? ok(client.GET('/api/v1/public/guidance-prices', { params: { query: { instrument: code, limit: 50, starting_after: after } } })).then(json)
    : Promise.resolve({ data: [], has_more: false })), [code, version]);
  return html`<${Page} title=${t('pricing.title')}>
    <p>${t('pricing.lead')}</p>
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('market.code')} name="code" value=${code} onInput=${(/** @type {string} */ v) => navigate('/pricing', { code: v })}
        options=${(listed.includes(code) || !code ? listed : [code, ...listed]).map((c) => /** @type {[string, string]} */ ([c, c]))} />
    </form>
    <${Table} caption=${t('pricing.history', { code })} rows=${pages.rows} rowKey=${(/** @type {Schemas['GuidanceView']} */ g) => g.id} empty=${t('pricing.none')}
      columns=${[
        [t('pricing.version'), (/** @type {Schemas['GuidanceView']} */ g) => html`<span data-version=${g.version}>v${g.version}</span>`],
        [t('pricing.price'), (/** @type {Schemas['GuidanceView']} */ g) => g.price],
        [t('pricing.effective_from'), (/** @type {Schemas['GuidanceView']} */ g) => g.effective_from],
        [t('pricing.floor'), (/** @type {Schemas['GuidanceView']} */ g) => (g.floor ? t('pricing.is_floor') : '–')],
        [t('pricing.tiers'), (/** @type {Schemas['GuidanceView']} */ g) => html`<ul class="plain">${g.tiers.map((tier) => html`<li>${tier.name}：${tier.price}（${tierScope(tier)}）</li>`)}</ul>`],
        [t('pricing.reason'), (/** @type {Schemas['GuidanceView']} */ g) => g.reason],
      ]} />
    <${More} pages=${pages} />
    ${code ? html`<p><a href=${`/api/v1/public/guidance-prices?instrument=${encodeURIComponent(code)}&format=csv`} download=${`${code}-guidance.csv`}>${t('ui.csv')}</a></p>` : null}
    ${code ? html`<${Reviews} code=${code} decider=${holds(me, 'government')} decided=${() => setVersion((v) => v + 1)} version=${version} />` : null}
    ${holds(me, 'government') ? html`<${Publish} code=${code} published=${(/** @type {string} */ c) => { setVersion((v) => v + 1); navigate('/pricing', { code: c }); }} />` : null}
  </${Page}>`;
}

/** Whom a tier is for, in words. */
function tierScope(/** @type {Schemas['TierView']} */ tier) {
  const parts = [];
  if (tier.districts?.length) parts.push(t('pricing.districts_are', { districts: tier.districts.join('、') }));
  if (tier.kinds?.length) parts.push(tier.kinds.map((k) => label('org_kind', k)).join('、'));
  const pct = (Number(tier.adjustment) * 100).toFixed(2).replace(/\.?0+$/, '');
  parts.push(`${Number(tier.adjustment) >= 0 ? '+' : ''}${pct}%`);
  return parts.join('，');
}

/** @typedef {{ name: string, districts: string, kinds: string[], adjustment: string }} TierDraft */

function Publish(/** @type {{ code: string, published: (code: string) => void }} */ { code, published }) {
  const [v, setV] = useState({ instrument: code, price: '', effective_from: '', floor: false, reason: '' });
  const [tiers, setTiers] = useState(/** @type {TierDraft[]} */ ([]));
  const action = useAction();
  const set = (/** @type {'instrument' | 'price' | 'effective_from' | 'reason'} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const setTier = (/** @type {number} */ i, /** @type {Partial<TierDraft>} */ change) => setTiers(tiers.map((x, j) => (j === i ? { ...x, ...change } : x)));
  const p = action.problem;
  return html`<form class="form" aria-labelledby="publish-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const made = await ok(client.POST('/api/v1/guidance-prices', {
          body: {
            instrument: v.instrument.trim() || code, price: v.price.trim(), effective_from: v.effective_from || null, floor: v.floor,
            reason: v.reason.trim(),
            tiers: tiers.map((x) => ({
              name: x.name.trim(), districts: x.districts.split(/[\s,，、]+/).filter(Boolean),
              kinds: /** @type {Schemas['OrgKind'][]} */ (x.kinds), adjustment: x.adjustment.trim(),
            })),
          },
        }));
        setV({ ...v, price: '', effective_from: '', floor: false, reason: '' });
        setTiers([]);
        published(made.instrument);
        return made;
      });
    }}>
    <h2 id="publish-title">${t('pricing.publish')}</h2>
    <p class="note">${t('pricing.publish_hint')}</p>
    <${Field} label=${t('market.code')} name="instrument" value=${v.instrument || code} onInput=${set('instrument')} placeholder="TPH-FOR-2025" required problem=${p} />
    <${Field} label=${t('pricing.price_yuan')} name="price" inputmode="decimal" value=${v.price} onInput=${set('price')} required problem=${p} />
    <${Field} label=${t('pricing.effective_from')} name="effective_from" type="date" value=${v.effective_from} onInput=${set('effective_from')} hint=${t('pricing.effective_hint')} problem=${p} />
    <div class="field">
      <label class="check"><input type="checkbox" name="floor" checked=${v.floor} onChange=${(/** @type {Event} */ e) => setV({ ...v, floor: /** @type {HTMLInputElement} */ (e.currentTarget).checked })} /> ${t('pricing.floor_check')}</label>
    </div>
    <fieldset class="leg">
      <legend>${t('pricing.tiers')}</legend>
      <p class="note">${t('pricing.tiers_hint')}</p>
      ${tiers.map((x, i) => html`<fieldset class="leg" key=${i}>
        <legend>${t('pricing.tier_n', { n: i + 1 })}</legend>
        <${Field} label=${t('pricing.tier_name', { n: i + 1 })} name="tiers" value=${x.name} onInput=${(/** @type {string} */ s) => setTier(i, { name: s })} problem=${p} />
        <${Field} label=${t('pricing.tier_districts', { n: i + 1 })} name="tiers" value=${x.districts} onInput=${(/** @type {string} */ s) => setTier(i, { districts: s })} hint=${t('pricing.districts_hint')} problem=${p} />
        <fieldset class="kinds"><legend>${t('pricing.tier_kinds', { n: i + 1 })}</legend>
          ${KINDS.map((k) => html`<label class="check"><input type="checkbox" checked=${x.kinds.includes(k)}
            onChange=${(/** @type {Event} */ e) => setTier(i, { kinds: /** @type {HTMLInputElement} */ (e.currentTarget).checked ? [...x.kinds, k] : x.kinds.filter((y) => y !== k) })} /> ${label('org_kind', k)}</label>`)}
        </fieldset>
        <${Field} label=${t('pricing.tier_adjustment', { n: i + 1 })} name="tiers" inputmode="decimal" value=${x.adjustment} onInput=${(/** @type {string} */ s) => setTier(i, { adjustment: s })} hint=${t('pricing.adjustment_hint')} problem=${p} />
        <button type="button" class="secondary" onClick=${() => setTiers(tiers.filter((_, j) => j !== i))}>${t('pricing.remove_tier', { n: i + 1 })}</button>
      </fieldset>`)}
      <button type="button" class="secondary" onClick=${() => setTiers([...tiers, { name: '', districts: '', kinds: [], adjustment: '' }])}>${t('pricing.add_tier')}</button>
    </fieldset>
    <${Field} label=${t('pricing.reason')} name="reason" multiline rows="2" value=${v.reason} onInput=${set('reason')} required problem=${p} />
    <${ProblemNote} problem=${p} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('pricing.publish_now')}</button>
  </form>`;
}

/** The guidance price that applies to `org` for `code` today, if one is in force. */
export function ApplicablePrice(/** @type {{ org: string, code: string }} */ { org, code }) {
  const applicable = useLoad(() => ok(client.GET('/api/v1/guidance-prices/applicable', { params: { query: { instrument: code, organization_id: org } } }))
    .catch((e) => { if (e instanceof ApiProblem && e.problem.code === 'no_guidance_price') return null; throw e; }), [org, code]);
  if (applicable.loading) return html`<${Busy} />`;
  if (applicable.problem) return html`<${ProblemNote} problem=${applicable.problem} />`;
  const a = applicable.data;
  if (!a) return html`<p class="note">${t('pricing.none_in_force')}</p>`;
  return html`<p class="note" data-testid="applicable">${a.tier
    ? t('pricing.applicable_tier', { price: a.price, tier: a.tier, base: a.guidance.price, version: a.guidance.version })
    : t('pricing.applicable', { price: a.price, version: a.guidance.version })}${a.guidance.floor ? ` ${t('pricing.floor_note', { floor: a.guidance.price })}` : ''}</p>`;
}

/** The monthly reviews of `code`'s guidance price: what each read and proposed, and the decision; government staff decide the open one. */
function Reviews(/** @type {{ code: string, decider: boolean, decided: () => void, version: number }} */ { code, decider, decided, version }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/public/guidance-reviews', { params: { query: { instrument: code, limit: 12, starting_after: after } } })), [code, version]);
  const open = pages.rows.find((r) => r.status === 'proposed');
  return html`<h2>${t('pricing.reviews')}</h2>
    <p class="note">${t('pricing.reviews_lead')}</p>
    <${Table} caption=${t('pricing.reviews_of', { code })} rows=${pages.rows} rowKey=${(/** @type {Schemas['PriceReviewView']} */ r) => r.id} empty=${t('pricing.no_reviews')}
      columns=${[
        [t('pricing.period'), (/** @type {Schemas['PriceReviewView']} */ r) => r.period],
        [t('pricing.window'), (/** @type {Schemas['PriceReviewView']} */ r) => `${r.window_from} – ${r.window_to}`],
        [t('pricing.traded'), (/** @type {Schemas['PriceReviewView']} */ r) => `${count(r.volume)} · ${r.vwap ?? '–'}`],
        [t('pricing.current'), (/** @type {Schemas['PriceReviewView']} */ r) => r.current_price],
        [t('pricing.proposed'), (/** @type {Schemas['PriceReviewView']} */ r) => html`${r.proposed_price} <small>${label('review_basis', r.basis)}</small>`],
        [t('pricing.review_status'), (/** @type {Schemas['PriceReviewView']} */ r) => html`<span data-review=${r.id} data-status=${r.status}>${label('review_status', r.status)}</span>${r.decision_reason ? html`<br /><small>${r.decision_reason}</small>` : null}`],
      ]} />
    <${More} pages=${pages} />
    ${decider && open ? html`<${Decide} review=${open} decided=${decided} />` : null}`;
}

function Decide(/** @type {{ review: Schemas['PriceReviewView'], decided: () => void }} */ { review, decided }) {
  const [v, setV] = useState({ decision: /** @type {Schemas['PriceReviewDecision']} */ ('approve'), price: '', reason: '' });
  const action = useAction();
  const p = action.problem;
  return html`<form class="form" aria-labelledby="decide-review" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/guidance-reviews/{id}/decision', {
          params: { path: { id: review.id } },
          body: { decision: v.decision, price: v.decision === 'amend' ? v.price.trim() : null, reason: v.reason.trim() || null },
        }));
        decided();
      });
    }}>
    <h3 id="decide-review">${t('pricing.decide', { period: review.period, price: review.proposed_price })}</h3>
    <${Field} label=${t('pricing.decision')} name="decision" value=${v.decision} onInput=${(/** @type {string} */ x) => setV({ ...v, decision: /** @type {Schemas['PriceReviewDecision']} */ (x) })}
      options=${[['approve', t('pricing.approve')], ['amend', t('pricing.amend')], ['reject', t('pricing.reject')]]} problem=${p} />
    ${v.decision === 'amend' ? html`<${Field} label=${t('pricing.price_yuan')} name="price" inputmode="decimal" value=${v.price} onInput=${(/** @type {string} */ x) => setV({ ...v, price: x })} problem=${p} />` : null}
    <${Field} label=${t('pricing.decision_reason')} name="reason" multiline rows="2" value=${v.reason} onInput=${(/** @type {string} */ x) => setV({ ...v, reason: x })} problem=${p}
      hint=${t('pricing.decision_reason_hint')} />
    <${ProblemNote} problem=${p} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('pricing.decide_now')}</button>
  </form>`;
}
