// The live example of carbon-calc in a browser or app webview. Query
// parameters prefill the form, e.g.
// ?preset=shanghai-2024&legs=metro:2.5,bus
import init, { listPresets, estimateCommute } from '../pkg/carbon_calc.js';

const $ = (id) => document.getElementById(id);

function addLeg(modes, mode = modes[0], km = '') {
  const row = document.createElement('div');
  row.className = 'leg';
  const select = document.createElement('select');
  select.setAttribute('aria-label', 'mode');
  for (const m of modes) select.add(new Option(m, m, false, m === mode));
  const input = document.createElement('input');
  input.setAttribute('aria-label', 'distance in km');
  input.inputMode = 'decimal';
  input.placeholder = 'km';
  input.value = km;
  row.append(select, input);
  $('legs').append(row);
}

function request() {
  const legs = [...document.querySelectorAll('.leg')].map((row) => {
    const [select, input] = row.children;
    const leg = { mode: select.value };
    if (input.value.trim() !== '') leg.distance_km = input.value.trim();
    return leg;
  });
  return { preset: $('preset').value, legs };
}

function show() {
  $('error').textContent = '';
  try {
    const r = estimateCommute(request());
    $('credited').textContent = String(r.credited_g);
    $('credited').dataset.creditedG = String(r.credited_g);
    $('exact').textContent = r.reduction_g;
    $('used').textContent = `${r.preset} v${r.preset_version}`;
    $('leg-results').replaceChildren(...r.legs.map((l) => {
      const li = document.createElement('li');
      li.textContent = `${l.mode}${l.distance_km ? ` ${l.distance_km} km` : ''}: ${l.reduction_g} g (${l.factor_g} ${l.unit})`;
      return li;
    }));
  } catch (err) {
    // err.field names the input, e.g. "legs[1].distance_km".
    $('credited').textContent = '—';
    delete $('credited').dataset.creditedG;
    $('error').textContent = err.message;
  }
}

await init();
const catalog = listPresets();
const params = new URLSearchParams(location.search);
const presetId = params.get('preset') ?? 'wuhan-2024';
for (const p of catalog.commute_presets) $('preset').add(new Option(`${p.id} — ${p.title}`, p.id, false, p.id === presetId));
const modesOf = () => catalog.commute_presets.find((p) => p.id === $('preset').value).factors.map((f) => f.mode);
const describe = () => {
  const p = catalog.commute_presets.find((q) => q.id === $('preset').value);
  $('preset-source').textContent = `${p.reliability.replace('_', '-')}: ${p.source}`;
};
const legs = params.get('legs') ?? 'metro:7.35,bus,bike:1.2';
for (const part of legs.split(',')) {
  const [mode, km = ''] = part.split(':');
  addLeg(modesOf(), mode, km);
}
describe();
$('preset').addEventListener('change', () => { describe(); show(); });
$('add-leg').addEventListener('click', () => addLeg(modesOf()));
$('form').addEventListener('submit', (e) => { e.preventDefault(); show(); });
$('form').addEventListener('input', show);
show();
document.body.dataset.ready = 'true';
