// @ts-check
// One-way bidding (单向竞价): a seller (the reserve platform, or any
// participant) announces a lot with a reserve price and a bidding window;
// participants bid sealed and irrevocably inside it; at the close every
// winner pays the same, lowest winning price. Public: the announcements and
// results. Block trades (大宗协议) to a named buyer sit beside them.
import { useEffect, useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { useMe } from '../session.js';
import { useApprovedOrgs, useOrgNames } from '../orgs.js';
import { tradingOrgs } from './trade.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

/** `YYYY-MM-DDTHH:MM:SS` in China time, for a datetime-local field. */
export function chinaLocal(/** @type {Date} */ d) {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19);
}

/** A datetime-local value read as China time, as RFC 3339. */
const fromChinaLocal = (/** @type {string} */ v) => (v.length === 16 ? `${v}:00+08:00` : `${v}+08:00`);

export function OrgChoice(/** @type {{ orgs: string[], value: string, onInput: (v: string) => void }} */ { orgs, value, onInput }) {
  const names = useOrgNames(orgs);
  return orgs.length > 1
    ? html`<${Field} label=${t('trade.organization')} name="organization_id" value=${value} onInput=${onInput} options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />`
    : null;
}

export function Auctions() {
  const me = useMe();
  const orgs = tradingOrgs(me);
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/market/auctions', { params: { query: { limit: 50, starting_after: after } } })), [version]);
  return html`<${Page} title=${t('auctions.title')}>
    <p>${t('auctions.lead')}</p>
    <${Table} caption=${t('auctions.list')} rows=${pages.rows} rowKey=${(/** @type {Schemas['AuctionView']} */ a) => a.id} empty=${t('auctions.none')}
      columns=${[
        [t('market.code'), (/** @type {Schemas['AuctionView']} */ a) => html`<a href=${href(`/auctions/${a.id}`)}>${a.instrument} · ${count(a.quantity)}</a>`],
        [t('auctions.reserve_price'), (/** @type {Schemas['AuctionView']} */ a) => a.reserve_price],
        [t('auctions.window'), (/** @type {Schemas['AuctionView']} */ a) => `${when(a.opens_at)} – ${when(a.closes_at)}`],
        [t('auctions.status'), (/** @type {Schemas['AuctionView']} */ a) => label('auction_status', a.status)],
        [t('auctions.clearing_price'), (/** @type {Schemas['AuctionView']} */ a) => a.clearing_price ?? ''],
      ]} />
    <${More} pages=${pages} />
    ${orgs.length ? html`<${Announce} orgs=${orgs} announced=${() => setVersion((v) => v + 1)} />` : null}
  </${Page}>`;
}

function Announce(/** @type {{ orgs: string[], announced: () => void }} */ { orgs, announced }) {
  const instruments = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  const now = Date.now();
  const [v, setV] = useState({
    organization_id: orgs[0] ?? '', instrument: '', quantity: '', reserve_price: '', min_bid_units: '',
    opens_at: chinaLocal(new Date(now)), closes_at: chinaLocal(new Date(now + 24 * 3600_000)),
  });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const code = v.instrument || instruments.data?.data[0]?.code || '';
  return html`<form class="form" aria-labelledby="announce-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const made = await ok(client.POST('/api/v1/market/auctions', {
          body: {
            organization_id: v.organization_id, client_order_id: crypto.randomUUID(), instrument: code, quantity: v.quantity.trim(),
            reserve_price: v.reserve_price.trim(), min_bid_units: v.min_bid_units.trim() || null,
            opens_at: fromChinaLocal(v.opens_at), closes_at: fromChinaLocal(v.closes_at),
          },
        }));
        announced();
        navigate(`/auctions/${made.auction.id}`);
      });
    }}>
    <h2 id="announce-title">${t('auctions.announce')}</h2>
    <${OrgChoice} orgs=${orgs} value=${v.organization_id} onInput=${set('organization_id')} />
    <${Field} label=${t('market.code')} name="instrument" value=${code} onInput=${set('instrument')}
      options=${(instruments.data?.data ?? []).map((i) => /** @type {[string, string]} */ ([i.code, i.code]))} problem=${action.problem} />
    <${Field} label=${t('auctions.quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} required problem=${action.problem} />
    <${Field} label=${t('auctions.reserve_price')} name="reserve_price" inputmode="decimal" value=${v.reserve_price} onInput=${set('reserve_price')} required problem=${action.problem} />
    <${Field} label=${t('auctions.min_bid')} name="min_bid_units" inputmode="numeric" value=${v.min_bid_units} onInput=${set('min_bid_units')} hint=${t('gov.default_hint')} problem=${action.problem} />
    <${Field} label=${t('auctions.opens_at')} name="opens_at" type="datetime-local" step="1" value=${v.opens_at} onInput=${set('opens_at')} hint=${t('auctions.china_time')} problem=${action.problem} />
    <${Field} label=${t('auctions.closes_at')} name="closes_at" type="datetime-local" step="1" value=${v.closes_at} onInput=${set('closes_at')} hint=${t('auctions.china_time')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('auctions.announce_now')}</button>
  </form>`;
}

/** One auction: its terms, bidding while it is open, the results once closed (refreshed until then). */
export function Auction(/** @type {{ params: { id: string } }} */ { params }) {
  const me = useMe();
  const orgs = tradingOrgs(me);
  const [version, setVersion] = useState(0);
  const detail = useLoad(() => ok(client.GET('/api/v1/market/auctions/{id}', { params: { path: { id: params.id } } })), [params.id, version]);
  const a = detail.data?.auction;
  // The close happens on the server at `closes_at`: from then on, look again
  // every few seconds until the results are in (not before: a lot may run for days).
  useEffect(() => {
    if (a?.status !== 'announced') return undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    let timer;
    const start = setTimeout(() => {
      timer = setInterval(() => setVersion((x) => x + 1), 3000);
    }, Math.max(0, Date.parse(a.closes_at) - Date.now()));
    return () => {
      clearTimeout(start);
      clearInterval(timer);
    };
  }, [a?.status, a?.closes_at]);
  const open = a && a.status === 'announced' && Date.parse(a.opens_at) <= Date.now() && Date.now() < Date.parse(a.closes_at);
  return html`<${Page} title=${a ? t('auctions.one', { instrument: a.instrument, quantity: count(a.quantity) }) : t('auctions.title')}>
    <p><a href="#/auctions">${t('auctions.back')}</a></p>
    ${detail.loading && !a ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${detail.problem} />
    ${a ? html`<dl class="facts" data-testid="auction" data-status=${a.status}>
        <dt>${t('auctions.status')}</dt><dd>${label('auction_status', a.status)}</dd>
        <dt>${t('auctions.quantity')}</dt><dd>${count(a.quantity)}</dd>
        <dt>${t('auctions.reserve_price')}</dt><dd>${a.reserve_price}</dd>
        <dt>${t('auctions.min_bid')}</dt><dd>${count(a.min_bid_units)}</dd>
        <dt>${t('auctions.bidder_cap')}</dt><dd>${count(a.bidder_cap_units)}</dd>
        <dt>${t('auctions.window')}</dt><dd>${when(a.opens_at)} – ${when(a.closes_at)}</dd>
        <dt>${t('auctions.bids')}</dt><dd>${a.bids}</dd>
        ${a.status === 'closed' ? html`<dt>${t('auctions.clearing_price')}</dt><dd data-testid="clearing-price">${a.clearing_price ?? t('auctions.no_clearing')}</dd>
          <dt>${t('auctions.sold')}</dt><dd>${count(a.sold)}</dd>
          <dt>${t('auctions.winners')}</dt><dd>${a.winners}</dd>` : null}
        ${a.reason ? html`<dt>${t('auctions.reason')}</dt><dd>${a.reason}</dd>` : null}
      </dl>
      ${a.status === 'closed' ? html`<${Table} caption=${t('auctions.awards')} rows=${detail.data?.awards ?? []}
        columns=${[
          [t('market.price'), (/** @type {Schemas['Award']} */ w) => w.price],
          [t('market.quantity'), (/** @type {Schemas['Award']} */ w) => count(w.quantity)],
        ]} />` : null}
      ${open && orgs.length ? html`<${Bid} auction=${a} orgs=${orgs} placed=${() => setVersion((x) => x + 1)} />` : null}` : null}
  </${Page}>`;
}

function Bid(/** @type {{ auction: Schemas['AuctionView'], orgs: string[], placed: () => void }} */ { auction, orgs, placed }) {
  const [v, setV] = useState({ organization_id: orgs[0] ?? '', price: auction.reserve_price, quantity: auction.min_bid_units });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const done = /** @type {Schemas['PlacedView'] | null} */ (action.done);
  return html`<form class="form" aria-labelledby="bid-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        const out = await ok(client.POST('/api/v1/market/auctions/{id}/bids', {
          params: { path: { id: auction.id } },
          body: { organization_id: v.organization_id, client_order_id: crypto.randomUUID(), price: v.price.trim(), quantity: v.quantity.trim() },
        }));
        placed();
        return out;
      });
    }}>
    <h2 id="bid-title">${t('auctions.bid')}</h2>
    <p class="note">${t('auctions.bid_hint')}</p>
    <${OrgChoice} orgs=${orgs} value=${v.organization_id} onInput=${set('organization_id')} />
    <${Field} label=${t('trade.price')} name="price" inputmode="decimal" value=${v.price} onInput=${set('price')} problem=${action.problem} />
    <${Field} label=${t('auctions.bid_quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('auctions.bid_now')}</button>
    ${done ? html`<p class="note" role="status" data-testid="bid-placed">${t('auctions.bid_placed', { price: done.order.price, quantity: count(done.order.quantity) })}</p>` : null}
  </form>`;
}

export function Blocks() {
  const me = useMe();
  const orgs = tradingOrgs(me);
  const [org, setOrg] = useState(orgs[0] ?? '');
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/market/blocks', { params: { query: { organization_id: org, limit: 50, starting_after: after } } })), [org, version]);
  const names = useOrgNames([...new Set(pages.rows.flatMap((b) => [b.seller_organization_id, b.buyer_organization_id]))]);
  const action = useAction();
  const answer = (/** @type {Schemas['BlockView']} */ b, /** @type {'accept' | 'decline' | 'withdraw'} */ how) => action.run(async () => {
    const params = { path: { id: b.id } };
    const body = { organization_id: org };
    await ok(how === 'accept' ? client.POST('/api/v1/market/blocks/{id}/accept', { params, body })
      : how === 'decline' ? client.POST('/api/v1/market/blocks/{id}/decline', { params, body })
        : client.POST('/api/v1/market/blocks/{id}/withdraw', { params, body }));
    setVersion((x) => x + 1);
  });
  return html`<${Page} title=${t('blocks.title')}>
    <p>${t('blocks.lead')}</p>
    <${OrgChoice} orgs=${orgs} value=${org} onInput=${setOrg} />
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('blocks.list')} rows=${pages.rows} rowKey=${(/** @type {Schemas['BlockView']} */ b) => b.id} empty=${t('blocks.none')}
      columns=${[
        [t('market.code'), (/** @type {Schemas['BlockView']} */ b) => b.instrument],
        [t('blocks.seller'), (/** @type {Schemas['BlockView']} */ b) => names[b.seller_organization_id] ?? b.seller_organization_id],
        [t('blocks.buyer'), (/** @type {Schemas['BlockView']} */ b) => names[b.buyer_organization_id] ?? b.buyer_organization_id],
        [t('market.price'), (/** @type {Schemas['BlockView']} */ b) => b.price],
        [t('market.quantity'), (/** @type {Schemas['BlockView']} */ b) => count(b.quantity)],
        [t('auctions.status'), (/** @type {Schemas['BlockView']} */ b) => label('block_status', b.status)],
        ['', (/** @type {Schemas['BlockView']} */ b) => (b.status !== 'proposed' ? null
          : b.buyer_organization_id === org
            ? html`<button type="button" disabled=${action.busy} onClick=${() => answer(b, 'accept')}>${t('blocks.accept')}</button>
                <button type="button" class="danger" disabled=${action.busy} onClick=${() => answer(b, 'decline')}>${t('blocks.decline')}</button>`
            : html`<button type="button" class="secondary" disabled=${action.busy} onClick=${() => answer(b, 'withdraw')}>${t('blocks.withdraw')}</button>`)],
      ]} />
    <${More} pages=${pages} />
    ${org ? html`<${Propose} org=${org} proposed=${() => setVersion((x) => x + 1)} />` : null}
  </${Page}>`;
}

function Propose(/** @type {{ org: string, proposed: () => void }} */ { org, proposed }) {
  const buyers = useApprovedOrgs('enterprise');
  const instruments = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  const [v, setV] = useState({ buyer: '', instrument: '', price: '', quantity: '' });
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const choices = (buyers.data ?? []).filter((o) => o.id !== org);
  const instrument = instruments.data?.data.find((i) => i.code === (v.instrument || instruments.data?.data[0]?.code));
  return html`<form class="form" aria-labelledby="propose-title" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      action.run(async () => {
        await ok(client.POST('/api/v1/market/blocks', {
          body: {
            organization_id: org, client_order_id: crypto.randomUUID(), buyer_organization_id: v.buyer || choices[0]?.id || '',
            instrument: instrument?.code ?? '', price: v.price.trim(), quantity: v.quantity.trim(),
          },
        }));
        proposed();
      });
    }}>
    <h2 id="propose-title">${t('blocks.propose')}</h2>
    <${Field} label=${t('blocks.buyer')} name="buyer_organization_id" value=${v.buyer || choices[0]?.id || ''} onInput=${set('buyer')} options=${choices.map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${action.problem} />
    <${Field} label=${t('market.code')} name="instrument" value=${instrument?.code ?? ''} onInput=${set('instrument')} options=${(instruments.data?.data ?? []).map((i) => /** @type {[string, string]} */ ([i.code, i.code]))} problem=${action.problem} />
    <${Field} label=${t('trade.price')} name="price" inputmode="decimal" value=${v.price} onInput=${set('price')} problem=${action.problem}
      hint=${instrument ? t('blocks.price_hint', { low: instrument.block_band.low, high: instrument.block_band.high, min: count(instrument.block_min_units) }) : undefined} />
    <${Field} label=${t('auctions.quantity')} name="quantity" inputmode="decimal" value=${v.quantity} onInput=${set('quantity')} problem=${action.problem} />
    <${ProblemNote} problem=${action.problem} />
    <button type="submit" disabled=${action.busy}>${t('blocks.propose_now')}</button>
  </form>`;
}
