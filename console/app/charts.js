// @ts-check
// Charts through uPlot (vendored), each with its numbers as a table for
// people who cannot see it: the chart is an image with a label, the table
// says the same.
import { useEffect, useRef } from '../vendor/preact-hooks.js';
import uPlot from '../vendor/uplot.js';
import { html } from './html.js';
import { t } from './i18n.js';

/** Colours with at least 3:1 contrast on white, told apart without hue too (dashes). */
const COLOURS = ['#1b6b3a', '#b3261e', '#1f4e8c', '#7a4f01'];

/**
 * @typedef {{ label: string, values: Array<number | null> }} Series
 * @param {{ title: string, x: number[], xLabels?: string[], series: Series[], bars?: boolean, time?: boolean, height?: number }} props
 */
export function Chart({ title, x, xLabels, series, bars = false, time = false, height = 260 }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    const el = box.current;
    if (!el || x.length === 0) return undefined;
    const width = Math.max(280, Math.min(el.clientWidth || 640, 900));
    const n = series.length;
    // Side by side bars: each series its share of the slot, aligned left or right of the tick.
    const barPaths = (/** @type {number} */ i) => (bars
      ? uPlot.paths.bars?.({ size: [n > 1 ? 0.8 / n : 0.6, 48], align: n > 1 ? (i < n / 2 ? -1 : 1) : 0 })
      : undefined);
    const categories = !time && xLabels;
    const labelOf = (/** @type {number} */ v) => xLabels?.[x.indexOf(v)] ?? '';
    /** @type {uPlot.Options} */
    const opts = {
      width, height, title,
      scales: {
        x: categories
          ? { time: false, range: () => [Math.min(...x) - 0.5, Math.max(...x) + 0.5] }
          : { time },
      },
      axes: [
        categories ? { splits: () => x, values: (/** @type {unknown} */ _u, /** @type {number[]} */ ticks) => ticks.map(labelOf) } : {},
        { size: 70 },
      ],
      series: [
        { label: t('chart.x'), value: (/** @type {unknown} */ _u, /** @type {number | null} */ v) => (v === null ? '–' : categories || time ? labelOf(v) || String(v) : String(v)) },
        ...series.map((s, i) => ({
          label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2,
          fill: bars ? `${COLOURS[i % COLOURS.length]}99` : undefined,
          dash: i % 2 ? [6, 3] : undefined, paths: barPaths(i),
        })),
      ],
    };
    const plot = new uPlot(opts, /** @type {uPlot.AlignedData} */ ([x, ...series.map((s) => s.values)]), el);
    return () => plot.destroy();
  }, [title, x.join(','), JSON.stringify(series), bars, time, height]);
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${title}></div>
    <details>
      <summary>${t('chart.as_table')}</summary>
      <table>
        <caption>${title}</caption>
        <thead><tr><th scope="col">${t('chart.x')}</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
        <tbody>${x.map((v, i) => html`<tr><th scope="row">${xLabels?.[i] ?? String(v)}</th>${series.map((s) => html`<td>${s.values[i] ?? ''}</td>`)}</tr>`)}</tbody>
      </table>
    </details>
  </figure>`;
}
