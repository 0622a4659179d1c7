// @ts-check
// What every page uses: loading and acting on the API with progress and
// problems shown in words, labelled fields that the problem's `param`
// highlights, tables, cursor pages, and numbers formatted without floats.
import { useCallback, useEffect, useRef, useState } from '../vendor/preact-hooks.js';
import { html } from './html.js';
import { ApiProblem } from './api.js';
import { locale, problemText, t } from './i18n.js';

/** @typedef {import('./api.js').Problem} Problem */

/** @param {unknown} e @returns {Problem} */
export function asProblem(e) {
  if (e instanceof ApiProblem) return e.problem;
  return {
    type: 'about:blank', title: 'Error', status: 0, code: 'client',
    detail: e instanceof Error ? e.message : String(e),
  };
}

/**
 * Loads once per change of `deps`; `reload()` loads again.
 * @template T
 * @param {() => Promise<T>} load
 * @param {unknown[]} deps
 */
export function useLoad(load, deps) {
  const [state, setState] = useState(
    /** @type {{ data: T | undefined, problem: Problem | null, loading: boolean }} */ ({ data: undefined, problem: null, loading: true }),
  );
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, problem: null, loading: false }),
      (e) => mine === seq.current && setState({ data: undefined, problem: asProblem(e), loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** An action's progress and outcome; `run(fn)` runs it once at a time. */
export function useAction() {
  const [state, setState] = useState(
    /** @type {{ busy: boolean, problem: Problem | null, done: unknown }} */ ({ busy: false, problem: null, done: null }),
  );
  const busy = useRef(false);
  /** @template T @param {() => Promise<T>} fn @returns {Promise<T | undefined>} */
  const run = async (fn) => {
    if (busy.current) return undefined;
    busy.current = true;
    setState({ busy: true, problem: null, done: null });
    try {
      const done = await fn();
      setState({ busy: false, problem: null, done });
      return done;
    } catch (e) {
      setState({ busy: false, problem: asProblem(e), done: null });
      return undefined;
    } finally {
      busy.current = false;
    }
  };
  return { ...state, run };
}

/** A cursor-paged list (`has_more`, `starting_after` = the last id). */
/**
 * @template {{ id: string }} T
 * @param {(after: string | undefined) => Promise<{ data: T[], has_more: boolean }>} page
 * @param {unknown[]} deps
 */
export function usePages(page, deps) {
  const [rows, setRows] = useState(/** @type {T[]} */ ([]));
  const [more, setMore] = useState(false);
  const [state, setState] = useState(/** @type {{ loading: boolean, problem: Problem | null }} */ ({ loading: true, problem: null }));
  const seq = useRef(0);
  const fetchPage = (/** @type {string | undefined} */ after, /** @type {T[]} */ before) => {
    const mine = ++seq.current;
    setState({ loading: true, problem: null });
    page(after).then(
      (p) => {
        if (mine !== seq.current) return;
        setRows([...before, ...p.data]);
        setMore(p.has_more);
        setState({ loading: false, problem: null });
      },
      (e) => mine === seq.current && setState({ loading: false, problem: asProblem(e) }),
    );
  };
  useEffect(() => fetchPage(undefined, []), deps);
  return {
    rows, more, ...state,
    loadMore: () => fetchPage(rows[rows.length - 1]?.id, rows),
    reload: () => fetchPage(undefined, []),
  };
}

/** A problem in words: the console's text for its code when it has one, the API's detail always. */
export function ProblemNote(/** @type {{ problem: Problem | null }} */ { problem }) {
  if (!problem) return null;
  const words = problemText(problem.code);
  return html`<div class="problem" role="alert" data-code=${problem.code}>
    <strong>${words ?? t('problem.generic')}</strong>
    <span>${problem.detail}</span>
    ${problem.param ? html`<span class="param">${t('problem.field', { field: problem.param })}</span>` : null}
  </div>`;
}

/** Progress of a load or action, announced to screen readers. */
export function Busy(/** @type {{ label?: string }} */ { label }) {
  return html`<p class="busy" role="status" aria-live="polite"><progress aria-label=${label ?? t('ui.loading')}></progress> ${label ?? t('ui.loading')}</p>`;
}

let fieldSeq = 0;

/**
 * A labelled input, select or textarea. When the problem names this field
 * (`param`), the field is marked invalid and says why.
 * @param {{ label: string, name: string, value?: string | number, onInput?: (v: string) => void,
 *   problem?: Problem | null, type?: string, options?: Array<[string, string]>, hint?: string,
 *   required?: boolean, multiline?: boolean, [attr: string]: unknown }} props
 */
export function Field({ label, name, value, onInput, problem, type = 'text', options, hint, multiline, ...rest }) {
  const id = useRef(`f${++fieldSeq}`).current;
  const invalid = !!problem && problemNames(problem, name);
  const described = [hint ? `${id}-hint` : null, invalid ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id, name, 'aria-invalid': invalid ? 'true' : undefined, 'aria-describedby': described,
    onInput: (/** @type {Event} */ e) => onInput?.(/** @type {HTMLInputElement} */ (e.currentTarget).value),
    ...rest,
  };
  let control;
  if (options) {
    control = html`<select ...${common} value=${value}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${String(value) === v}>${text}</option>`)}
    </select>`;
  } else if (multiline) {
    control = html`<textarea ...${common} value=${value}></textarea>`;
  } else {
    control = html`<input ...${common} type=${type} value=${value} />`;
  }
  return html`<div class=${invalid ? 'field invalid' : 'field'}>
    <label for=${id}>${label}</label>
    ${control}
    ${hint ? html`<small id=${`${id}-hint`}>${hint}</small>` : null}
    ${invalid ? html`<small class="error" id=${`${id}-error`}>${problemText(problem.code) ?? problem.detail}</small>` : null}
  </div>`;
}

/** Whether a problem's `param` names the field (`legs[0].mode` names `legs`). */
function problemNames(/** @type {Problem} */ problem, /** @type {string} */ name) {
  const param = problem.param ?? '';
  return param === name || param.startsWith(`${name}.`) || param.startsWith(`${name}[`);
}

/**
 * A table with a caption and one row per item.
 * @template T
 * @param {{ caption: string, columns: Array<[string, (row: T) => unknown]>, rows: T[], empty?: string, rowKey?: (row: T) => string }} props
 */
export function Table({ caption, columns, rows, empty, rowKey }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table>
      <caption>${caption}</caption>
      <thead><tr>${columns.map(([head]) => html`<th scope="col">${head}</th>`)}</tr></thead>
      <tbody>
        ${rows.length === 0
          ? html`<tr><td colspan=${columns.length} class="empty">${empty ?? t('ui.empty')}</td></tr>`
          : rows.map((row, i) => html`<tr key=${rowKey ? rowKey(row) : i}>${columns.map(([, cell]) => html`<td>${cell(row)}</td>`)}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

/** The end of a paged list: a button for more, progress, or the problem. */
export function More(/** @type {{ pages: { more: boolean, loading: boolean, problem: Problem | null, loadMore: () => void } }} */ { pages }) {
  return html`${pages.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${pages.problem} />
    ${pages.more && !pages.loading ? html`<button type="button" onClick=${pages.loadMore}>${t('ui.more')}</button>` : null}`;
}

// ---- numbers, from the API's integer strings, never through floats ----

/** `digits` decimal places of an integer string scaled by 10^scale. */
function scaled(/** @type {string} */ integer, /** @type {number} */ scale, /** @type {number} */ keep) {
  let v;
  try {
    v = BigInt(integer);
  } catch {
    return integer;
  }
  const neg = v < 0n;
  if (neg) v = -v;
  const unit = 10n ** BigInt(scale);
  const whole = (v / unit).toLocaleString(locale());
  let frac = (v % unit).toString().padStart(scale, '0');
  frac = frac.replace(/0+$/, '');
  if (frac.length < keep) frac = frac.padEnd(keep, '0');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Grams (integer string) as tonnes CO2e, exact. */
export const tonnes = (/** @type {string} */ g) => scaled(g, 6, 0);
/** Fen (integer string) as yuan with two decimals. */
export const yuan = (/** @type {string} */ fen) => scaled(fen, 2, 2);
/** A count or quantity (an integer string, or a decimal one: land trades in hundredths of a mu) with its whole part grouped. */
export const count = (/** @type {string | number} */ n) => {
  const [whole, frac] = String(n).split('.');
  return frac === undefined ? scaled(whole, 0, 0) : `${scaled(whole, 0, 0)}.${frac}`;
};

/** Quantities (decimal strings, at most two places: land's hundredths of a mu) added exactly, never as floats. */
export function sumQuantities(/** @type {string[]} */ quantities) {
  const hundredths = quantities.reduce((a, q) => a + (fenOf(q) ?? 0n), 0n);
  return scaled(String(hundredths), 2, 0);
}

/** Yuan (a decimal string, at most two places) as integer fen, or null. */
export function fenOf(/** @type {string} */ text) {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.trim());
  return m ? BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0')) : null;
}

/** Tonnes (a decimal string, at most six places: one gram) as an integer string of grams, or null. */
export function gramsOf(/** @type {string} */ text) {
  const m = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(text.trim());
  return m ? String(BigInt(m[1]) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'))) : null;
}

/** A check a page makes before sending, in the API's problem shape, so fields show it the same way. */
export function localProblem(/** @type {string} */ param, /** @type {string} */ detail) {
  return /** @type {Problem} */ ({ type: 'about:blank', title: 'Invalid', status: 422, code: 'local', detail, param });
}

/** A time in China time, to the minute. */
export function when(/** @type {string | null | undefined} */ iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

/** A time of day in China time, to the second (the tape's times). */
export function clock(/** @type {string} */ iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
}

/** A page's heading and its content. */
export function Page(/** @type {{ title: string, children?: unknown, actions?: unknown }} */ { title, children, actions }) {
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title]);
  return html`<section class="page" aria-labelledby="page-title">
    <header class="page-head"><h1 id="page-title" tabindex="-1">${title}</h1>${actions ?? null}</header>
    ${children}
  </section>`;
}
