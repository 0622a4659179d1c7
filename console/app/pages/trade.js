// @ts-check
// The trading screen of a participant's staff: the instrument's live book
// and tape (the market's stream), its daily bars, order entry with the
// band and tick shown (and checked) before sending, picking a resting
// order from the book, open orders to cancel, positions and cash, and the
// organisation's trades with their attestations.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { orgsWith, useMe } from '../session.js';
import { Bars, DepthTable, Rules, TapeTable, useLiveMarket } from '../market-view.js';
import { ApplicablePrice } from './pricing.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, fenOf, localProblem, useAction, useLoad, usePages, when, yuan } from '../ui.js';
import { useOrgNames } from '../orgs.js';

/** @typedef {import('../api.js').Schemas} Schemas */

/** The organisations the signed-in person trades for. */
export function tradingOrgs(/** @type {import('../session.js').Me | null} */ me) {
  return [...new Set([...orgsWith(me, 'enterprise_operator'), ...orgsWith(me, 'reserve')])];
}

/** What is wrong with a price or quantity before it is sent (the API checks again). */
export function entryProblem(/** @type {Schemas['InstrumentView']} */ i, /** @type {string} */ price, /** @type {string} */ quantity) {
  const fen = fenOf(price);
  const [low, high, tick] = [fenOf(i.band.low), fenOf(i.band.high), fenOf(i.tick)];
  if (fen === null) return { param: 'price', text: t('trade.price_not_a_price') };
  if (tick && fen % tick !== 0n) return { param: 'price', text: t('trade.price_not_on_tick', { tick: i.tick }) };
  const floor = i.floor_price ? fenOf(i.floor_price) : null;
  if (floor !== null && fen < floor) return { param: 'price', text: t('trade.price_below_floor', { floor: i.floor_price ?? '' }) };
  if ((low !== null && fen < low) || (high !== null && fen > high)) return { param: 'price', text: t('trade.price_outside_band', { low: i.band.low, high: i.band.high }) };
  // Quantities in hundredths, the finest step (land's 0.01 mu), like fen.
  const q = fenOf(quantity);
  if (q === null || q === 0n) return { param: 'quantity', text: t('trade.quantity_not_whole') };
  const step = fenOf(i.quantity_step);
  if (step && q % step !== 0n) return { param: 'quantity', text: t('trade.quantity_not_on_step', { step: i.quantity_step }) };
  const max = fenOf(i.max_order_units);
  if (max !== null && q > max) return { param: 'quantity', text: t('trade.quantity_over_max', { max: i.max_order_units }) };
  return null;
}

export function Trade(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const orgs = tradingOrgs(me);
  const names = useOrgNames(orgs);
  const instruments = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  const org = query.get('org') ?? orgs[0] ?? '';
  const code = query.get('code') ?? instruments.data?.data[0]?.code ?? '';
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  const instrument = instruments.data?.data.find((i) => i.code === code) ?? null;
  return html`<${Page} title=${t('trade.title')}>
    <${ProblemNote} problem=${instruments.problem} />
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('trade.organization')} name="org" value=${org} onInput=${(/** @type {string} */ v) => navigate('/trade', { org: v, code })}
        options=${orgs.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
      <${Field} label=${t('market.code')} name="code" value=${code} onInput=${(/** @type {string} */ v) => navigate('/trade', { org, code: v })}
        options=${(instruments.data?.data ?? []).map((i) => /** @type {[string, string]} */ ([i.code, `${i.code} · ${label('trading_status', i.status)}`]))} />
    </form>
    ${instrument && org ? html`<${Screen} key=${`${org}/${code}`} org=${org} instrument=${instrument} version=${version} changed=${changed} />` : instruments.loading ? html`<${Busy} />` : html`<p class="note">${t('trade.nothing')}</p>`}
  </${Page}>`;
}

/** @param {{ org: string, instrument: Schemas['InstrumentView'], version: number, changed: () => void }} props */
function Screen({ org, instrument, version, changed }) {
  const code = instrument.code;
  const live = useLiveMarket(code);
  const [side, setSide] = useState(/** @type {'buy' | 'sell'} */ ('buy'));
  const [price, setPrice] = useState(instrument.reference_price);
  return html`
    <${Rules} instrument=${instrument} />
    <${ApplicablePrice} org=${org} code=${code} />
    <p class="live" data-state=${live.state} role="status">${{ connecting: t('market.stream_connecting'), live: t('market.stream_live'), lost: t('market.stream_lost') }[live.state]}</p>
    <div class="columns">
      <div>
        <h2>${t('market.depth')}</h2>
        <p class="note">${t('trade.pick_price_hint')}</p>
        <${DepthTable} depth=${live.depth} onPick=${(/** @type {'buy' | 'sell'} */ s, /** @type {string} */ p) => { setSide(s); setPrice(p); }} />
        <${TapeTable} tape=${live.tape} />
      </div>
      <div>
        <${OrderEntry} org=${org} instrument=${instrument} side=${side} setSide=${setSide} price=${price} setPrice=${setPrice} changed=${changed} />
        <${Positions} org=${org} version=${version} />
      </div>
    </div>
    <${OpenOrders} org=${org} code=${code} version=${version} changed=${changed} />
    <${Pickable} org=${org} instrument=${instrument} version=${version} changed=${changed} />
    <${Trades} org=${org} version=${version} />
    <h2>${t('market.daily')}</h2>
    <${Bars} code=${code} />`;
}

/** @param {{ org: string, instrument: Schemas['InstrumentView'], side: 'buy' | 'sell', setSide: (s: 'buy' | 'sell') => void, price: string, setPrice: (p: string) => void, changed: () => void }} props */
function OrderEntry({ org, instrument, side, setSide, price, setPrice, changed }) {
  const [quantity, setQuantity] = useState('');
  const [tif, setTif] = useState(/** @type {Schemas['TimeInForce']} */ ('gtc'));
  const [local, setLocal] = useState(/** @type {import('../api.js').Problem | null} */ (null));
  const action = useAction();
  const placed = /** @type {Schemas['PlacedView'] | null} */ (action.done);
  const fen = fenOf(price);
  const hundredths = fenOf(quantity);
  const value = fen !== null && hundredths !== null ? yuan(String((fen * hundredths) / 100n)) : null;
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    const wrong = entryProblem(instrument, price, quantity);
    setLocal(wrong ? localProblem(wrong.param, wrong.text) : null);
    if (wrong) return;
    action.run(async () => {
      const done = await ok(client.POST('/api/v1/market/orders', {
        body: {
          organization_id: org, client_order_id: crypto.randomUUID(), instrument: instrument.code,
          side, price: price.trim(), quantity: quantity.trim(), time_in_force: tif,
        },
      }));
      changed();
      return done;
    });
  };
  const problem = local ?? action.problem;
  return html`<form class="form order-entry" onSubmit=${submit} aria-labelledby="order-entry">
    <h2 id="order-entry">${t('trade.order_entry')}</h2>
    <${Field} label=${t('trade.side')} name="side" value=${side} onInput=${(/** @type {string} */ v) => setSide(v === 'sell' ? 'sell' : 'buy')}
      options=${[['buy', t('trade.buy')], ['sell', t('trade.sell')]]} problem=${problem} />
    <${Field} label=${t('trade.price')} name="price" inputmode="decimal" value=${price} onInput=${setPrice} problem=${problem}
      hint=${instrument.floor_price
        ? t('trade.price_hint_floor', { low: instrument.band.low, high: instrument.band.high, tick: instrument.tick, floor: instrument.floor_price })
        : t('trade.price_hint', { low: instrument.band.low, high: instrument.band.high, tick: instrument.tick })} />
    <${Field} label=${t('trade.quantity', { unit: instrument.unit })} name="quantity" inputmode="decimal" value=${quantity} onInput=${setQuantity} problem=${problem}
      hint=${t('trade.quantity_hint', { step: instrument.quantity_step, max: count(instrument.max_order_units) })} />
    <${Field} label=${t('trade.time_in_force')} name="time_in_force" value=${tif} onInput=${(/** @type {string} */ v) => setTif(/** @type {Schemas['TimeInForce']} */ (v))}
      options=${[['gtc', t('trade.gtc')], ['day', t('trade.day')], ['ioc', t('trade.ioc')]]} problem=${problem} />
    ${value ? html`<p class="note" data-testid="order-value">${t('trade.value', { value })}</p>` : null}
    <${ProblemNote} problem=${problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : side === 'buy' ? t('trade.place_buy') : t('trade.place_sell')}</button>
    ${placed ? html`<p class="note" role="status" data-testid="placed" data-order=${placed.order.id}>
      ${t('trade.placed', { status: label('order_status', placed.order.status), filled: count(placed.order.filled), trades: placed.trades.length })}</p>` : null}
  </form>`;
}

function Positions(/** @type {{ org: string, version: number }} */ { org, version }) {
  const pos = useLoad(() => ok(client.GET('/api/v1/market/positions', { params: { query: { organization_id: org } } })), [org, version]);
  if (pos.problem) return html`<${ProblemNote} problem=${pos.problem} />`;
  const p = pos.data;
  if (!p) return html`<${Busy} />`;
  return html`<h2>${t('trade.positions')}</h2>
    <dl class="facts" data-testid="cash">
      <dt>${t('trade.cash_available')}</dt><dd>${yuan(p.cash_available)} ${t('trade.yuan')}</dd>
      <dt>${t('trade.cash_held')}</dt><dd>${yuan(p.cash_held)} ${t('trade.yuan')}</dd>
      <dt>${t('trade.fees_paid')}</dt><dd>${yuan(p.fees_paid)} ${t('trade.yuan')}</dd>
    </dl>
    <${Table} caption=${t('trade.positions')} rows=${p.positions} rowKey=${(/** @type {Schemas['PositionView']} */ r) => r.instrument}
      columns=${[
        [t('market.code'), (/** @type {Schemas['PositionView']} */ r) => r.instrument],
        [t('trade.units'), (/** @type {Schemas['PositionView']} */ r) => count(r.units)],
        [t('trade.in_orders'), (/** @type {Schemas['PositionView']} */ r) => count(r.in_orders)],
        [t('trade.locked'), (/** @type {Schemas['PositionView']} */ r) => count(r.locked_t_plus_one)],
        [t('trade.pledged'), (/** @type {Schemas['PositionView']} */ r) => count(r.pledged)],
        [t('trade.sellable'), (/** @type {Schemas['PositionView']} */ r) => count(r.sellable)],
      ]} />`;
}

/** @param {{ org: string, code: string, version: number, changed: () => void }} props */
function OpenOrders({ org, code, version, changed }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/market/orders', { params: { query: { organization_id: org, status: 'open', limit: 50, starting_after: after } } })), [org, version]);
  const action = useAction();
  const cancel = (/** @type {string} */ id) => action.run(async () => {
    await ok(client.POST('/api/v1/market/orders/{id}/cancel', { params: { path: { id } } }));
    changed();
  });
  const rows = pages.rows.filter((o) => o.instrument === code);
  return html`<h2>${t('trade.open_orders')}</h2>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('trade.open_orders')} rows=${rows} rowKey=${(/** @type {Schemas['OrderView']} */ o) => o.id} empty=${t('trade.no_open_orders')}
      columns=${[
        [t('trade.side'), (/** @type {Schemas['OrderView']} */ o) => (o.side === 'buy' ? t('trade.buy') : t('trade.sell'))],
        [t('market.price'), (/** @type {Schemas['OrderView']} */ o) => o.price],
        [t('trade.remaining'), (/** @type {Schemas['OrderView']} */ o) => `${count(o.remaining)} / ${count(o.quantity)}`],
        [t('trade.time_in_force'), (/** @type {Schemas['OrderView']} */ o) => o.time_in_force],
        [t('trade.entered'), (/** @type {Schemas['OrderView']} */ o) => when(o.created_at)],
        ['', (/** @type {Schemas['OrderView']} */ o) => html`<button type="button" class="secondary" data-cancel=${o.id} disabled=${action.busy}
            aria-label=${t('trade.cancel_order', { price: o.price, quantity: o.remaining })} onClick=${() => cancel(o.id)}>${t('trade.cancel')}</button>`],
      ]} />
    <${More} pages=${pages} />`;
}

/** The resting orders of the best levels, to take one (点选). */
/** @param {{ org: string, instrument: Schemas['InstrumentView'], version: number, changed: () => void }} props */
function Pickable({ org, instrument, version, changed }) {
  const orders = useLoad(() => ok(client.GET('/api/v1/market/instruments/{code}/orders', { params: { path: { code: instrument.code } } })), [instrument.code, version]);
  const [quantities, setQuantities] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const pick = (/** @type {Schemas['PickableOrder']} */ o) => action.run(async () => {
    const done = await ok(client.POST('/api/v1/market/picks', {
      body: { organization_id: org, client_order_id: crypto.randomUUID(), order_id: o.id, quantity: (quantities[o.id] ?? o.remaining).trim() },
    }));
    changed();
    return done;
  });
  if (orders.problem) return html`<${ProblemNote} problem=${orders.problem} />`;
  return html`<h2>${t('trade.pick')}</h2>
    <p class="note">${t('trade.pick_hint')}</p>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('trade.pick')} rows=${orders.data?.data ?? []} rowKey=${(/** @type {Schemas['PickableOrder']} */ o) => o.id}
      columns=${[
        [t('trade.side'), (/** @type {Schemas['PickableOrder']} */ o) => (o.side === 'buy' ? t('trade.buy') : t('trade.sell'))],
        [t('market.price'), (/** @type {Schemas['PickableOrder']} */ o) => o.price],
        [t('trade.remaining'), (/** @type {Schemas['PickableOrder']} */ o) => count(o.remaining)],
        [t('trade.take'), (/** @type {Schemas['PickableOrder']} */ o) => html`<label class="inline"><span class="sr-only">${t('trade.take_quantity', { price: o.price })}</span>
          <input inputmode="numeric" size="8" value=${quantities[o.id] ?? o.remaining} onInput=${(/** @type {Event} */ e) => setQuantities({ ...quantities, [o.id]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
          <button type="button" class="secondary" disabled=${action.busy} onClick=${() => pick(o)}>${o.side === 'sell' ? t('trade.buy') : t('trade.sell')}</button>`],
      ]} />`;
}

function Trades(/** @type {{ org: string, version: number }} */ { org, version }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/market/trades', { params: { query: { organization_id: org, limit: 20, starting_after: after } } })), [org, version]);
  return html`<h2>${t('trade.trades')}</h2>
    <${Table} caption=${t('trade.trades')} rows=${pages.rows} rowKey=${(/** @type {Schemas['TradeView']} */ r) => r.id}
      columns=${[
        [t('market.time'), (/** @type {Schemas['TradeView']} */ r) => when(r.created_at)],
        [t('market.code'), (/** @type {Schemas['TradeView']} */ r) => r.instrument],
        [t('trade.side'), (/** @type {Schemas['TradeView']} */ r) => (r.buyer_organization_id === org ? t('trade.buy') : t('trade.sell'))],
        [t('market.price'), (/** @type {Schemas['TradeView']} */ r) => r.price],
        [t('market.quantity'), (/** @type {Schemas['TradeView']} */ r) => count(r.quantity)],
        [t('market.method'), (/** @type {Schemas['TradeView']} */ r) => label('method', r.method)],
        [t('trade.attestation'), (/** @type {Schemas['TradeView']} */ r) => html`<a href=${href('/check', { trade: r.id })} data-attestation=${r.id}>${t('trade.check_attestation')}</a>`],
      ]} />
    <${More} pages=${pages} />`;
}
