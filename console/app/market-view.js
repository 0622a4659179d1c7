// @ts-check
// An instrument's public market data, live: the depth and the tape from
// the market's Server-Sent Events stream (book first, then a trade event
// per trade and a book event after every change), daily bars as a chart.
// The explorer shows it as is; the trading screen puts order entry beside it.
import { useEffect, useState } from '../vendor/preact-hooks.js';
import { html } from './html.js';
import { client, json, ok } from './api.js';
import { label, t } from './i18n.js';
import { href } from './router.js';
import { Chart } from './charts.js';
import { Busy, ProblemNote, Table, clock, count, useLoad } from './ui.js';

/** @typedef {import('./api.js').Schemas} Schemas */

/**
 * The live book and tape of `code`: `state` is `connecting`, `live` or `lost`
 * (EventSource reconnects by itself; the first event after it is the book).
 * @param {string} code
 */
export function useLiveMarket(code) {
  const [depth, setDepth] = useState(/** @type {Schemas['Depth'] | null} */ (null));
  const [tape, setTape] = useState(/** @type {Schemas['TapeEntry'][]} */ ([]));
  const [state, setState] = useState('connecting');
  useEffect(() => {
    let alive = true;
    ok(client.GET('/api/v1/market/instruments/{code}/trades', { params: { path: { code }, query: { limit: 20 } } }))
      .then((tp) => alive && setTape((now) => merge(now, tp.data)), () => {});
    const source = new EventSource(`/api/v1/market/instruments/${encodeURIComponent(code)}/stream`);
    source.addEventListener('open', () => setState('live'));
    source.addEventListener('error', () => setState('lost'));
    source.addEventListener('book', (e) => {
      setState('live');
      setDepth(JSON.parse(/** @type {MessageEvent} */ (e).data));
    });
    source.addEventListener('trade', (e) => setTape((now) => merge(now, [JSON.parse(/** @type {MessageEvent} */ (e).data)])));
    return () => {
      alive = false;
      source.close();
    };
  }, [code]);
  return { depth, tape, state };
}

/** Newest first, each trade once (the stream and the first page may overlap). */
function merge(/** @type {Schemas['TapeEntry'][]} */ now, /** @type {Schemas['TapeEntry'][]} */ more) {
  const bySeq = new Map(now.map((e) => [e.seq, e]));
  for (const e of more) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, 50);
}

/** Bids and asks side by side; `onPick` makes a level's price choosable. */
export function DepthTable(/** @type {{ depth: Schemas['Depth'] | null, onPick?: (side: 'buy' | 'sell', price: string) => void }} */ { depth, onPick }) {
  if (!depth) return html`<${Busy} label=${t('market.connecting')} />`;
  const rows = Math.max(depth.bids.length, depth.asks.length, 1);
  const cell = (/** @type {Schemas['Level'] | undefined} */ level, /** @type {'buy' | 'sell'} */ side) => level
    ? html`<td class="num">${onPick ? html`<button type="button" class="link" onClick=${() => onPick(side, level.price)}>${level.price}</button>` : level.price}</td><td class="num">${count(level.quantity)}</td><td class="num">${level.orders}</td>`
    : html`<td></td><td></td><td></td>`;
  return html`<div class="table-wrap" data-testid="depth">
    <table class="depth">
      <caption>${t('market.depth')}</caption>
      <thead>
        <tr><th colspan="3" scope="colgroup">${t('market.bids')}</th><th colspan="3" scope="colgroup">${t('market.asks')}</th></tr>
        <tr>${[0, 1].map(() => html`<th scope="col">${t('market.price')}</th><th scope="col">${t('market.quantity')}</th><th scope="col">${t('market.orders')}</th>`)}</tr>
      </thead>
      <tbody>
        ${Array.from({ length: rows }, (_, i) => html`<tr>${cell(depth.bids[i], 'sell')}${cell(depth.asks[i], 'buy')}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

export function TapeTable(/** @type {{ tape: Schemas['TapeEntry'][] }} */ { tape }) {
  return html`<${Table} caption=${t('market.tape')} rows=${tape} rowKey=${(/** @type {Schemas['TapeEntry']} */ e) => String(e.seq)}
    empty=${t('market.no_trades')}
    columns=${[
      [t('market.seq'), (/** @type {Schemas['TapeEntry']} */ e) => e.seq],
      [t('market.time'), (/** @type {Schemas['TapeEntry']} */ e) => clock(e.time)],
      [t('market.price'), (/** @type {Schemas['TapeEntry']} */ e) => e.price],
      [t('market.quantity'), (/** @type {Schemas['TapeEntry']} */ e) => count(e.quantity)],
      [t('market.method'), (/** @type {Schemas['TapeEntry']} */ e) => label('method', e.method)],
    ]} />`;
}

/** Daily closes and volumes of `code` as charts. */
export function Bars(/** @type {{ code: string }} */ { code }) {
  const bars = useLoad(() => ok(client.GET('/api/v1/market/instruments/{code}/bars', { params: { path: { code }, query: { limit: 250 } } })).then(json), [code]);
  if (bars.loading) return html`<${Busy} />`;
  if (bars.problem) return html`<${ProblemNote} problem=${bars.problem} />`;
  const data = bars.data?.data ?? [];
  if (data.length === 0) return html`<p class="note">${t('market.no_bars')}</p>`;
  const x = data.map((b) => Date.parse(`${b.day}T00:00:00+08:00`) / 1000);
  return html`<${Chart} title=${t('market.closes', { code })} time x=${x} xLabels=${data.map((b) => b.day)}
      series=${[{ label: t('market.close'), values: data.map((b) => Number(b.close)) }]} />
    <${Chart} title=${t('market.volumes', { code })} time bars x=${x} xLabels=${data.map((b) => b.day)}
      series=${[{ label: t('market.volume'), values: data.map((b) => Number(b.volume)) }]} />
    <p><a href=${`/api/v1/market/instruments/${encodeURIComponent(code)}/bars?format=csv`} download=${`${code}-bars.csv`}>${t('ui.csv')}</a></p>`;
}

/** An instrument's rules today: reference price, band, tick, step. */
export function Rules(/** @type {{ instrument: Schemas['InstrumentView'] }} */ { instrument: i }) {
  return html`<dl class="facts" data-testid="rules">
    <dt>${t('market.status')}</dt><dd>${label('trading_status', i.status)}</dd>
    <dt>${t('market.reference')}</dt><dd>${i.reference_price}</dd>
    <dt>${t('market.band')}</dt><dd>${i.band.low} – ${i.band.high}</dd>
    <dt>${t('market.tick')}</dt><dd>${i.tick}</dd>
    <dt>${t('market.step')}</dt><dd>${count(i.quantity_step)} ${i.unit}</dd>
    <dt>${t('market.max_order')}</dt><dd>${count(i.max_order_units)} ${i.unit}</dd>
    <dt>${t('market.fee_rate')}</dt><dd>${i.fee_rate}</dd>
    ${i.guidance_price ? html`<dt>${t('market.guidance')}</dt><dd><a href=${href('/pricing', { code: i.code })}>${i.guidance_price}</a>${i.floor_price ? ` (${t('market.floor')})` : ''}</dd>` : null}
  </dl>`;
}

