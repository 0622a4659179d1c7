// @ts-check
import { html } from '../../html.js';
import { client, ok } from '../../api.js';
import { label, t } from '../../i18n.js';
import { href } from '../../router.js';
import { Bars, DepthTable, Rules, TapeTable, useLiveMarket } from '../../market-view.js';
import { Busy, Page, ProblemNote, Table, useLoad } from '../../ui.js';

/** @typedef {import('../../api.js').Schemas} Schemas */

/** Every listed or suspended instrument with today's reference price and band. */
export function Markets() {
  const list = useLoad(() => ok(client.GET('/api/v1/market/instruments')), []);
  return html`<${Page} title=${t('nav.market_data')}>
    ${list.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${list.problem} />
    ${list.data
      ? html`<${Table} caption=${t('market.instruments')} rows=${list.data.data} rowKey=${(/** @type {Schemas['InstrumentView']} */ i) => i.code}
          columns=${[
            [t('market.code'), (/** @type {Schemas['InstrumentView']} */ i) => html`<a href=${href(`/explorer/market/${i.code}`)}>${i.code}</a>`],
            [t('market.class'), (/** @type {Schemas['InstrumentView']} */ i) => label('class', i.class)],
            [t('market.status'), (/** @type {Schemas['InstrumentView']} */ i) => label('trading_status', i.status)],
            [t('market.reference'), (/** @type {Schemas['InstrumentView']} */ i) => i.reference_price],
            [t('market.band'), (/** @type {Schemas['InstrumentView']} */ i) => `${i.band.low} – ${i.band.high}`],
          ]} />`
      : null}
  </${Page}>`;
}

/** One instrument: rules, live depth and tape, daily bars. */
export function MarketData(/** @type {{ params: { code: string } }} */ { params }) {
  const code = params.code;
  const instrument = useLoad(() => ok(client.GET('/api/v1/market/instruments/{code}', { params: { path: { code } } })), [code]);
  const live = useLiveMarket(code);
  return html`<${Page} title=${code}>
    <${ProblemNote} problem=${instrument.problem} />
    ${instrument.data ? html`<${Rules} instrument=${instrument.data} />` : null}
    <p class="live" data-state=${live.state} role="status">${{ connecting: t('market.stream_connecting'), live: t('market.stream_live'), lost: t('market.stream_lost') }[live.state]}</p>
    <div class="columns">
      <${DepthTable} depth=${live.depth} />
      <${TapeTable} tape=${live.tape} />
    </div>
    <h2>${t('market.daily')}</h2>
    <${Bars} code=${code} />
  </${Page}>`;
}
