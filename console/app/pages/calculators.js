// @ts-check
// carbon-calc's calculators in the browser (WebAssembly): the same code and
// tables the server and the phones compute with. A bad input is shown on
// its field, as the calculator's error names it (`legs[1].distance_km`).
import { useEffect, useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { label, t } from '../i18n.js';
import { carbonCalc } from '../wasm.js';
import { Busy, Field, Page, ProblemNote, asProblem, count } from '../ui.js';

/** @typedef {import('../api.js').Problem} Problem */
/** @typedef {Awaited<ReturnType<typeof carbonCalc>>} Calc */

/** A calculator's thrown error as a problem naming its field. */
function calcProblem(/** @type {unknown} */ e) {
  const err = /** @type {{ code?: string, field?: string, message?: string }} */ (e);
  if (err && typeof err.code === 'string') {
    return /** @type {Problem} */ ({ type: 'about:blank', title: err.code, status: 422, code: err.code, detail: err.message ?? '', param: err.field ?? null });
  }
  return asProblem(e);
}

/**
 * Runs `compute` on every change of `inputs`.
 * @template R
 * @param {Calc | null} calc @param {(c: Calc) => R} compute @param {unknown[]} inputs
 */
function useEstimate(calc, compute, inputs) {
  const [out, setOut] = useState(/** @type {{ result: R | null, problem: Problem | null }} */ ({ result: null, problem: null }));
  useEffect(() => {
    if (!calc) return;
    try {
      setOut({ result: compute(calc), problem: null });
    } catch (e) {
      setOut({ result: null, problem: calcProblem(e) });
    }
  }, [calc, ...inputs]);
  return out;
}

export function Calculators() {
  const [calc, setCalc] = useState(/** @type {Calc | null} */ (null));
  const [problem, setProblem] = useState(/** @type {Problem | null} */ (null));
  useEffect(() => {
    carbonCalc().then(setCalc, (e) => setProblem(asProblem(e)));
  }, []);
  return html`<${Page} title=${t('calc.title')}>
    <p>${t('calc.lead')}</p>
    <${ProblemNote} problem=${problem} />
    ${calc
      ? html`<${Commute} calc=${calc} /><${Grid} calc=${calc} /><${Methane} calc=${calc} /><${Forest} calc=${calc} />`
      : problem ? null : html`<${Busy} label=${t('calc.loading')} />`}
  </${Page}>`;
}

/** @param {{ problem: Problem | null, children?: unknown }} props */
function Outcome({ problem, children }) {
  return html`<div class="outcome" aria-live="polite">${problem ? html`<${ProblemNote} problem=${problem} />` : children}</div>`;
}

function Commute(/** @type {{ calc: Calc }} */ { calc }) {
  const catalog = calc.listPresets();
  const presets = catalog.commute_presets ?? [];
  const [preset, setPreset] = useState(catalog.default_preset ?? presets[0]?.id ?? '');
  const [legs, setLegs] = useState([{ mode: 'metro', km: '7.35' }, { mode: 'bus', km: '' }]);
  const modes = (presets.find((p) => p.id === preset)?.factors ?? []).map((f) => f.mode);
  const out = useEstimate(calc, (c) => c.estimateCommute({
    preset, legs: legs.map((l) => (l.km.trim() ? { mode: l.mode, distance_km: l.km.trim() } : { mode: l.mode })),
  }), [preset, JSON.stringify(legs)]);
  const setLeg = (/** @type {number} */ i, /** @type {Partial<{mode: string, km: string}>} */ change) => setLegs(legs.map((l, j) => (j === i ? { ...l, ...change } : l)));
  return html`<section class="calc" aria-labelledby="calc-commute"><h2 id="calc-commute">${t('calc.commute')}</h2>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('calc.preset')} name="preset" value=${preset} onInput=${setPreset} options=${presets.map((p) => /** @type {[string, string]} */ ([p.id, `${p.title} (v${p.version})`]))} problem=${out.problem} />
      ${legs.map((l, i) => html`<fieldset class="leg" key=${i}>
        <legend>${t('calc.leg', { n: i + 1 })}</legend>
        <${Field} label=${t('calc.mode')} name=${`legs[${i}].mode`} value=${l.mode} onInput=${(/** @type {string} */ v) => setLeg(i, { mode: v })}
          options=${(modes.includes(l.mode) ? modes : [l.mode, ...modes]).map((m) => /** @type {[string, string]} */ ([m, label('mode', m)]))} problem=${out.problem} />
        <${Field} label=${t('calc.distance_km')} name=${`legs[${i}].distance_km`} inputmode="decimal" value=${l.km} onInput=${(/** @type {string} */ v) => setLeg(i, { km: v })} problem=${out.problem} />
        ${legs.length > 1 ? html`<button type="button" class="secondary" onClick=${() => setLegs(legs.filter((_, j) => j !== i))}>${t('calc.remove_leg')}</button>` : null}
      </fieldset>`)}
      <button type="button" class="secondary" onClick=${() => setLegs([...legs, { mode: modes[0] ?? 'bus', km: '' }])} disabled=${legs.length >= 10}>${t('calc.add_leg')}</button>
    </form>
    <${Outcome} problem=${out.problem}>
      ${out.result ? html`<p class="result">${t('calc.credited')}: <strong data-testid="commute-credited">${count(out.result.credited_g)}</strong> g CO₂e
        <small>(${t('calc.exact')} ${out.result.reduction_g} g, ${out.result.preset} v${out.result.preset_version})</small></p>` : null}
    </${Outcome}>
  </section>`;
}

function Grid(/** @type {{ calc: Calc }} */ { calc }) {
  const grids = calc.listPresets().grid_factors ?? [];
  const [grid, setGrid] = useState(grids[0]?.id ?? '');
  const [mwh, setMwh] = useState('100');
  const out = useEstimate(calc, (c) => c.estimateGridElectricity({ grid, electricity_mwh: mwh.trim() }), [grid, mwh]);
  return html`<section class="calc" aria-labelledby="calc-grid"><h2 id="calc-grid">${t('calc.grid')}</h2>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('calc.grid_table')} name="grid" value=${grid} onInput=${setGrid} options=${grids.map((g) => /** @type {[string, string]} */ ([g.id, `${g.name} ${g.year}`]))} problem=${out.problem} />
      <${Field} label=${t('calc.electricity_mwh')} name="electricity_mwh" inputmode="decimal" value=${mwh} onInput=${setMwh} problem=${out.problem} />
    </form>
    <${Outcome} problem=${out.problem}>
      ${out.result ? html`<p class="result">${t('calc.reduction')}: <strong>${out.result.reduction_t}</strong> t CO₂e <small>(${out.result.factor_t_per_mwh} t/MWh)</small></p>` : null}
    </${Outcome}>
  </section>`;
}

function Methane(/** @type {{ calc: Calc }} */ { calc }) {
  const sets = calc.listPresets().gwp_sets ?? [];
  const [gwp, setGwp] = useState(sets[0]?.id ?? '');
  const [ch4, setCh4] = useState('10');
  const out = useEstimate(calc, (c) => c.estimateMethane({ gwp, ch4_t: ch4.trim() }), [gwp, ch4]);
  return html`<section class="calc" aria-labelledby="calc-methane"><h2 id="calc-methane">${t('calc.methane')}</h2>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('calc.gwp')} name="gwp" value=${gwp} onInput=${setGwp} options=${sets.map((s) => /** @type {[string, string]} */ ([s.id, s.title]))} problem=${out.problem} />
      <${Field} label=${t('calc.ch4_t')} name="ch4_t" inputmode="decimal" value=${ch4} onInput=${setCh4} problem=${out.problem} />
    </form>
    <${Outcome} problem=${out.problem}>
      ${out.result ? html`<p class="result">${t('calc.reduction')}: <strong>${out.result.reduction_t}</strong> t CO₂e <small>(GWP ${out.result.gwp_ch4})</small></p>` : null}
    </${Outcome}>
  </section>`;
}

const FOREST_FIELDS = /** @type {const} */ (['area_ha', 'volume_m3_per_ha_start', 'volume_m3_per_ha_end', 'wood_density', 'bef', 'root_shoot_ratio']);

function Forest(/** @type {{ calc: Calc }} */ { calc }) {
  const methods = calc.listPresets().forest_methodologies ?? [];
  const [methodology, setMethodology] = useState(methods[0]?.id ?? '');
  const [v, setV] = useState(/** @type {Record<typeof FOREST_FIELDS[number], string>} */ ({
    area_ha: '100', volume_m3_per_ha_start: '50', volume_m3_per_ha_end: '60', wood_density: '0.45', bef: '1.4', root_shoot_ratio: '0.26',
  }));
  const out = useEstimate(calc, (c) => c.estimateForestSink({
    methodology, area_ha: v.area_ha.trim(), volume_m3_per_ha_start: v.volume_m3_per_ha_start.trim(),
    volume_m3_per_ha_end: v.volume_m3_per_ha_end.trim(), wood_density: v.wood_density.trim(), bef: v.bef.trim(),
    root_shoot_ratio: v.root_shoot_ratio.trim(),
  }), [methodology, JSON.stringify(v)]);
  return html`<section class="calc" aria-labelledby="calc-forest"><h2 id="calc-forest">${t('calc.forest')}</h2>
    <form class="form" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${Field} label=${t('calc.forest_methodology')} name="methodology" value=${methodology} onInput=${setMethodology} options=${methods.map((m) => /** @type {[string, string]} */ ([m.id, m.title]))} problem=${out.problem} />
      ${FOREST_FIELDS.map((f) => html`<${Field} label=${t(/** @type {const} */ (`calc.${f}`))} name=${f} inputmode="decimal" value=${v[f]} onInput=${(/** @type {string} */ x) => setV({ ...v, [f]: x })} problem=${out.problem} />`)}
    </form>
    <${Outcome} problem=${out.problem}>
      ${out.result ? html`<p class="result">${t('calc.credited')}: <strong>${out.result.reduction_t}</strong> t CO₂e
        <small>(${t('calc.gross')} ${out.result.gross_t} t, ${t('calc.buffer')} ${out.result.buffer_t} t)</small></p>` : null}
    </${Outcome}>
  </section>`;
}
