// @ts-check
// The service centre's trip review queue: a trip's GPS trace drawn to
// scale (no map tiles: nothing may come from another host), its speeds and
// the rules that sent it here; approve or reject with a reason.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { href, navigate } from '../router.js';
import { Busy, Field, More, Page, ProblemNote, Table, count, useAction, useLoad, usePages, when } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */
/** @typedef {{ lat: number, lon: number, t: string }} Fix */

export function ReviewQueue() {
  const pages = usePages((after) => ok(client.GET('/api/v1/reviews/trips', { params: { query: { limit: 50, starting_after: after } } })), []);
  return html`<${Page} title=${t('reviews.title')}>
    <${Table} caption=${t('reviews.queue')} rows=${pages.rows} rowKey=${(/** @type {Schemas['ReviewTripView']} */ r) => r.id}
      empty=${t('reviews.empty')}
      columns=${[
        [t('reviews.trip'), (/** @type {Schemas['ReviewTripView']} */ r) => html`<a href=${href(`/reviews/trips/${r.id}`)}>${when(r.started_at)}</a>`],
        [t('reviews.status'), (/** @type {Schemas['ReviewTripView']} */ r) => label('trip_status', r.status)],
        [t('reviews.reasons'), (/** @type {Schemas['ReviewTripView']} */ r) => r.reasons.map((x) => label('reason', x)).join('；')],
        [t('reviews.distance'), (/** @type {Schemas['ReviewTripView']} */ r) => `${r.distance_km} km`],
        [t('reviews.credited'), (/** @type {Schemas['ReviewTripView']} */ r) => `${count(r.credited_g)} g`],
      ]} />
    <${More} pages=${pages} />
  </${Page}>`;
}

export function ReviewTrip(/** @type {{ params: { id: string } }} */ { params }) {
  const trip = useLoad(() => ok(client.GET('/api/v1/reviews/trips/{id}', { params: { path: { id: params.id } } })), [params.id]);
  const [reason, setReason] = useState('');
  const action = useAction();
  const decide = (/** @type {Schemas['TripVerdict']} */ decision) => action.run(async () => {
    await ok(client.POST('/api/v1/reviews/trips/{id}', { params: { path: { id: params.id } }, body: { decision, reason: reason.trim() } }));
    navigate('/reviews/trips');
  });
  const r = trip.data;
  const fixes = /** @type {Fix[]} */ ((r?.trace ?? []).map((/** @type {any} */ p) => ({ lat: Number(p.lat), lon: Number(p.lon), t: String(p.t) })));
  return html`<${Page} title=${t('reviews.trip_title')}>
    <p><a href="#/reviews/trips">${t('reviews.back')}</a></p>
    ${trip.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${trip.problem} />
    ${r
      ? html`<dl class="facts">
          <dt>${t('reviews.status')}</dt><dd>${label('trip_status', r.status)}</dd>
          <dt>${t('reviews.reasons')}</dt><dd><ul class="plain">${r.reasons.map((x) => html`<li data-reason=${x}>${label('reason', x)}</li>`)}</ul></dd>
          <dt>${t('reviews.when')}</dt><dd>${when(r.started_at)} – ${when(r.ended_at)}</dd>
          <dt>${t('reviews.legs')}</dt><dd>${r.legs.map((l) => `${label('mode', /** @type {any} */ (l).mode)}${/** @type {any} */ (l).distance_km ? ` ${/** @type {any} */ (l).distance_km} km` : ''}`).join(' + ')}</dd>
          <dt>${t('reviews.distance')}</dt><dd>${r.distance_km} km${r.measured_km ? ` (${t('reviews.measured')} ${r.measured_km} km)` : ''}</dd>
          <dt>${t('reviews.credited')}</dt><dd>${count(r.credited_g)} g · ${count(r.points)} ${t('reviews.points')}</dd>
          ${r.same_journey_as?.length ? html`<dt>${t('reviews.same_journey')}</dt><dd>${r.same_journey_as.map((id) => html`<a href=${href(`/reviews/trips/${id}`)}>${id.slice(0, 8)}</a> `)}</dd>` : null}
        </dl>
        ${fixes.length >= 2 ? html`<${Trace} fixes=${fixes} /><${Speeds} fixes=${fixes} />` : html`<p class="note">${t('reviews.no_trace')}</p>`}
        ${r.review
          ? html`<p class="note">${t('reviews.decided', { decision: label('review_decision', r.review.decision), reason: r.review.reason })}</p>`
          : html`<form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
              <${Field} label=${t('reviews.reason')} name="reason" multiline rows="2" value=${reason} onInput=${setReason} required maxlength="500" problem=${action.problem} />
              <${ProblemNote} problem=${action.problem} />
              <div class="buttons">
                <button type="button" onClick=${() => decide('approve')} disabled=${action.busy}>${t('reviews.approve')}</button>
                <button type="button" class="danger" onClick=${() => decide('reject')} disabled=${action.busy}>${t('reviews.reject')}</button>
              </div>
            </form>`}`
      : null}
  </${Page}>`;
}

const EARTH_M = 6_371_000;

/** Fixes as metres east and north of the first, on a local flat projection (fine at a commute's size). */
function project(/** @type {Fix[]} */ fixes) {
  const lat0 = (fixes.reduce((a, f) => a + f.lat, 0) / fixes.length) * (Math.PI / 180);
  const rad = Math.PI / 180;
  return fixes.map((f) => ({
    x: (f.lon - fixes[0].lon) * rad * EARTH_M * Math.cos(lat0),
    y: (f.lat - fixes[0].lat) * rad * EARTH_M,
  }));
}

/** The largest 1-2-5 length not over `most` metres. */
function niceLength(/** @type {number} */ most) {
  let best = 1;
  for (let p = 1; p <= 1e7; p *= 10) for (const m of [1, 2, 5]) if (m * p <= most) best = m * p;
  return best;
}

function Trace(/** @type {{ fixes: Fix[] }} */ { fixes }) {
  const pts = project(fixes);
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(maxX - minX, maxY - minY, 50);
  const size = 400;
  const pad = 30;
  const k = (size - 2 * pad) / span;
  // The trace centred on its shorter side, one scale for both axes.
  const [cx, cy] = [(span - (maxX - minX)) / 2, (span - (maxY - minY)) / 2];
  const sx = (/** @type {number} */ x) => pad + (x - minX + cx) * k;
  const sy = (/** @type {number} */ y) => size - pad - (y - minY + cy) * k;
  const bar = niceLength(span / 3);
  const line = pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
  const barText = bar >= 1000 ? `${bar / 1000} km` : `${bar} m`;
  return html`<figure class="trace">
    <svg viewBox=${`0 0 ${size} ${size}`} role="img" aria-label=${t('reviews.trace_label', { points: fixes.length })}>
      <rect x="0" y="0" width=${size} height=${size} class="trace-bg" />
      <polyline points=${line} class="trace-line" />
      <circle cx=${sx(pts[0].x)} cy=${sy(pts[0].y)} r="6" class="trace-start" />
      <circle cx=${sx(pts[pts.length - 1].x)} cy=${sy(pts[pts.length - 1].y)} r="6" class="trace-end" />
      <line x1=${pad} y1=${size - 12} x2=${pad + bar * k} y2=${size - 12} class="trace-scale" />
      <text x=${pad} y=${size - 18} class="trace-text">${barText}</text>
      <text x=${size - pad} y="20" class="trace-text" text-anchor="end">N ↑</text>
    </svg>
    <figcaption>${t('reviews.trace_caption', { scale: barText })}</figcaption>
  </figure>`;
}

/** Great-circle metres between two fixes (haversine). */
function metres(/** @type {Fix} */ a, /** @type {Fix} */ b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.sqrt(h));
}

/** Each segment's speed, the fastest first: what a reviewer looks at for a teleport or a car. */
function Speeds(/** @type {{ fixes: Fix[] }} */ { fixes }) {
  const segments = [];
  let total = 0;
  for (let i = 1; i < fixes.length; i++) {
    const m = metres(fixes[i - 1], fixes[i]);
    const s = (Date.parse(fixes[i].t) - Date.parse(fixes[i - 1].t)) / 1000;
    total += m;
    segments.push({ i, m, s, kmh: s > 0 ? (m / s) * 3.6 : Infinity });
  }
  const seconds = (Date.parse(fixes[fixes.length - 1].t) - Date.parse(fixes[0].t)) / 1000;
  const fastest = [...segments].sort((a, b) => b.kmh - a.kmh).slice(0, 5);
  return html`<dl class="facts">
      <dt>${t('reviews.trace_distance')}</dt><dd>${(total / 1000).toFixed(2)} km</dd>
      <dt>${t('reviews.average_speed')}</dt><dd>${seconds > 0 ? ((total / seconds) * 3.6).toFixed(1) : '–'} km/h</dd>
    </dl>
    <${Table} caption=${t('reviews.fastest')} rows=${fastest}
      columns=${[
        [t('reviews.segment'), (/** @type {typeof segments[number]} */ s) => `${s.i} → ${s.i + 1}`],
        [t('reviews.segment_m'), (/** @type {typeof segments[number]} */ s) => s.m.toFixed(0)],
        [t('reviews.segment_s'), (/** @type {typeof segments[number]} */ s) => s.s.toFixed(0)],
        [t('reviews.segment_kmh'), (/** @type {typeof segments[number]} */ s) => (Number.isFinite(s.kmh) ? s.kmh.toFixed(1) : '∞')],
      ]} />`;
}
