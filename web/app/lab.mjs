// The attention lab's controller: Q, K, V (seeded or typed), a rule, a selection and a mask
// from the form; the worker runs the engine with { steps: true } and every stage comes back;
// this module lays the stages out as small matrices with their formulas and links a hovered
// cell to the numbers it came from. The settings live in the URL fragment.
import { EngineClient } from './client.mjs';
import { cssColour, sequential } from './colormap.mjs';
import { formatMatrix, maskPreset, parseMatrix, randomMatrix, rng } from './lab_math.mjs';

const $ = (id) => document.getElementById(id);
const client = new EngineClient();
let keep = null;  // the mask (L x S, 1 = allowed)
let last = null;  // the last result, for exports and tests

const FORMULAS = {
  dot: { scores: 's_ij = q_i · k_j', scale: '× 1 (no scaling)' },
  scaled: { scores: 's_ij = q_i · k_j', scale: '× 1/√d' },
  general: { scores: 's_ij = q_iᵀ W k_j   (W learned; here seeded)', scale: '× 1' },
  additive: { scores: 's_ij = vᵀ tanh(W_q q_i + W_k k_j)   (W_q, W_k, v learned; here seeded)', scale: '× 1' },
  concat: { scores: 's_ij = [attn(cat(q_i, k_i))]_j   (seed 003: one score per row of V)', scale: '× 1' },
  multihead: { scores: 's^h_ij = q^h_i · k^h_j   (q^h: head h\'s slice of the features)', scale: '× 1/√(d/h)' },
};

function settings() {
  const int = (id, lo, hi) => Math.max(lo, Math.min(hi, Math.round(Number($(id).value)) || lo));
  return {
    L: int('L', 1, 12), S: int('S', 1, 12), d: int('d', 1, 16), dv: int('dv', 1, 16), seed: int('seed', 0, 2 ** 31),
    rule: $('rule').value, heads: int('heads', 1, 8), selection: $('selection').value, k: int('k', 1, 12),
    threshold: Number($('threshold').value) || 0, renormalize: $('renorm').checked, typed: $('typed').checked,
  };
}

// ---------------------------------------------------------------------------- URL state
function saveState(s) {
  const p = new URLSearchParams();
  for (const key of ['L', 'S', 'd', 'dv', 'seed', 'rule', 'heads', 'selection', 'k', 'threshold']) p.set(key, String(s[key]));
  if (!s.renormalize) p.set('renorm', '0');
  p.set('mask', Array.from(keep).join(''));
  if (s.typed) for (const m of ['q', 'k', 'v']) p.set(m, $(`${m}-text`).value);
  history.replaceState(null, '', `#${p}`);
}

function restoreState() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const key of ['L', 'S', 'd', 'dv', 'seed', 'heads', 'k', 'threshold']) if (p.has(key) && Number.isFinite(Number(p.get(key)))) $(key).value = p.get(key);
  if ([...$('rule').options].some((o) => o.value === p.get('rule'))) $('rule').value = p.get('rule');
  if ([...$('selection').options].some((o) => o.value === p.get('selection'))) $('selection').value = p.get('selection');
  $('renorm').checked = p.get('renorm') !== '0';
  const s = settings();
  const bits = p.get('mask');
  keep = bits && bits.length === s.L * s.S && /^[01]+$/.test(bits) ? Uint8Array.from(bits, Number) : maskPreset('none', s.L, s.S);
  if (p.has('q') && p.has('k') && p.has('v')) {
    $('typed').checked = true;
    for (const m of ['q', 'k', 'v']) $(`${m}-text`).value = p.get(m).slice(0, 20000);
  }
}

// ---------------------------------------------------------------------------- inputs
function keyRows(s) { return s.rule === 'concat' ? s.L : s.S; }  // seed 003 pairs K's rows with Q's

function randomInputs(s) {
  const r = rng(s.seed);
  return {
    q: randomMatrix(r, s.L, s.d), k: randomMatrix(r, keyRows(s), s.d), v: randomMatrix(r, s.S, s.dv),
  };
}

function inputs(s) {
  if (!s.typed) {
    const x = randomInputs(s);
    $('q-text').value = formatMatrix(x.q, s.L, s.d);
    $('k-text').value = formatMatrix(x.k, keyRows(s), s.d);
    $('v-text').value = formatMatrix(x.v, s.S, s.dv);
    return { ...x, Lk: keyRows(s) };
  }
  const q = parseMatrix($('q-text').value, 'Q'), k = parseMatrix($('k-text').value, 'K'), v = parseMatrix($('v-text').value, 'V');
  // Typed matrices set the sizes.
  Object.assign(s, { L: q.rows, d: q.cols, S: v.rows, dv: v.cols });
  $('L').value = s.L; $('d').value = s.d; $('S').value = s.S; $('dv').value = s.dv;
  if (k.cols !== q.cols) throw new Error(`K has ${k.cols} columns but Q has ${q.cols}: query and key features must match`);
  if (k.rows !== keyRows(s)) throw new Error(`K has ${k.rows} rows; this rule needs ${keyRows(s)} (${s.rule === 'concat' ? 'one per query' : 'one per row of V'})`);
  return { q: q.data, k: k.data, v: v.data, Lk: k.rows };
}

// ---------------------------------------------------------------------------- mask editor
function drawMask(s) {
  const grid = $('mask-grid');
  grid.replaceChildren();
  grid.style.setProperty('--cols', s.S);
  for (let i = 0; i < s.L; ++i) {
    for (let j = 0; j < s.S; ++j) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'mask-cell';
      b.dataset.i = i;
      b.dataset.j = j;
      const on = keep[i * s.S + j] === 1;
      b.setAttribute('aria-pressed', String(on));
      b.setAttribute('aria-label', `query ${i + 1}, key ${j + 1}: ${on ? 'allowed' : 'masked'}`);
      b.textContent = on ? '' : '×';
      b.addEventListener('click', () => { keep[i * s.S + j] ^= 1; run(); });
      grid.append(b);
    }
  }
}

// ---------------------------------------------------------------------------- rendering
function fmt(x) {
  if (x === -Infinity) return '−∞';
  if (x === Infinity) return '∞';
  if (Number.isNaN(x)) return 'NaN';
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2);
}

/** One stage as a small table; `weights` colours cells in the sequential palette. */
function matrix({ id, title, formula, data, rows, cols, weights = false, rowName = 'q', colName = 'k' }) {
  const fig = document.createElement('figure');
  fig.className = 'lab-stage';
  fig.dataset.stage = id;
  const cap = document.createElement('figcaption');
  const h = document.createElement('strong');
  h.textContent = title;
  const f = document.createElement('code');
  f.textContent = formula;
  cap.append(h, document.createElement('br'), f);
  const table = document.createElement('table');
  table.className = 'matrix';
  const head = document.createElement('tr');
  head.append(document.createElement('th'));
  for (let j = 0; j < cols; ++j) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = `${colName}${j + 1}`;
    head.append(th);
  }
  table.append(head);
  for (let i = 0; i < rows; ++i) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = `${rowName}${i + 1}`;
    tr.append(th);
    for (let j = 0; j < cols; ++j) {
      const td = document.createElement('td');
      const x = data[i * cols + j];
      td.textContent = fmt(x);
      td.dataset.r = i;
      td.dataset.c = j;
      td.dataset.v = String(x);
      if (weights) {
        const c = sequential(x);
        td.style.background = cssColour(c);
        if (x > 0.55) td.style.color = '#fff';
      } else if (x === -Infinity) {
        td.classList.add('masked');
      }
      tr.append(td);
    }
    table.append(tr);
  }
  fig.append(cap, table);
  return fig;
}

function render(s, x, r) {
  const inputs = $('inputs');
  inputs.replaceChildren(
    matrix({ id: 'Q', title: 'Q (queries)', formula: `${s.L} × ${s.d}`, data: x.q, rows: s.L, cols: s.d, rowName: 'q', colName: 'f' }),
    matrix({ id: 'K', title: 'K (keys)', formula: `${x.Lk} × ${s.d}`, data: x.k, rows: x.Lk, cols: s.d, rowName: 'k', colName: 'f' }),
    matrix({ id: 'V', title: 'V (values)', formula: `${s.S} × ${s.dv}`, data: x.v, rows: s.S, cols: s.dv, rowName: 'k', colName: 'v' }));
  const H = r.heads, L = s.L, S = s.S;
  const tabs = $('head-tabs');
  tabs.hidden = H === 1;
  const head = Math.min(Number(tabs.dataset.head ?? 0), H - 1);
  tabs.replaceChildren(...Array.from({ length: H }, (_, h) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.role = 'tab';
    b.textContent = `head ${h + 1}`;
    b.setAttribute('aria-selected', String(h === head));
    b.addEventListener('click', () => { tabs.dataset.head = h; render(s, x, r); });
    return b;
  }));
  const slice = (a) => a.subarray(head * L * S, (head + 1) * L * S);
  const f = FORMULAS[s.rule];
  const sel = s.selection === 'soft' ? 'soft: the softmax itself'
    : `${s.selection.replace('_', '-')}${s.selection === 'top_k' ? ` (k = ${s.k})` : s.selection === 'threshold' ? ` (≥ ${s.threshold})` : ''}, ${s.renormalize ? 'kept weights renormalised' : 'others set to 0, kept weights unchanged'}`;
  const empty = [];
  const w = slice(r.weights);
  for (let i = 0; i < L; ++i) if (w.subarray(i * S, (i + 1) * S).every((v) => v === 0)) empty.push(i + 1);
  const steps = $('steps');
  steps.replaceChildren(
    matrix({ id: 'scores', title: '1. Scores', formula: f.scores, data: slice(r.scores), rows: L, cols: S }),
    matrix({ id: 'scaled', title: '2. Scaled', formula: f.scale, data: slice(r.scaled), rows: L, cols: S }),
    matrix({ id: 'masked', title: '3. Masked', formula: 'masked key → −∞ (float masks are added)', data: slice(r.masked), rows: L, cols: S }),
    matrix({ id: 'softmax', title: '4. Softmax', formula: 'a_ij = exp(s_ij) / Σ_j exp(s_ij)   (each row sums to 1)', data: slice(r.softmax), rows: L, cols: S, weights: true }),
    matrix({ id: 'weights', title: '5. Weights', formula: sel, data: w, rows: L, cols: S, weights: true }),
    matrix({ id: 'output', title: `6. Output${H > 1 ? ' (all heads, side by side)' : ''}`, formula: s.rule === 'concat' ? 'attn_combine(cat(q_i, Σ_j a_ij v_j))' : 'o_i = Σ_j a_ij v_j', data: r.output, rows: L, cols: s.dv, colName: 'o' }));
  if (empty.length) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = `Query ${empty.join(', ')} can see no key: every score in its row is −∞, so the softmax has nothing to normalise. `
      + 'The engine follows PyTorch ≥ 2.5 (scaled_dot_product_attention): such a row gets zero weights and a zero output rather than NaN.';
    steps.append(p);
  }
  last = { settings: s, inputs: x, result: r, head };
  document.body.dataset.renders = String(Number(document.body.dataset.renders ?? 0) + 1);
}

// Hover: a stage cell (i, j) lights up the same cell in every stage, row i of Q and row j of
// K (row i for concat's paired key); an output cell (i, c) lights up row i of the weights and
// column c of V.
function linkHover(ev) {
  for (const el of document.querySelectorAll('.lit')) el.classList.remove('lit');
  const td = ev.target.closest?.('td');
  if (!td || !last) return;
  const stage = td.closest('figure').dataset.stage, i = td.dataset.r, c = td.dataset.c;
  const light = (sel) => document.querySelectorAll(sel).forEach((e) => e.classList.add('lit'));
  if (['scores', 'scaled', 'masked', 'softmax', 'weights'].includes(stage)) {
    light(`#steps figure td[data-r="${i}"][data-c="${c}"]`);
    light(`figure[data-stage="Q"] td[data-r="${i}"]`);
    light(`figure[data-stage="K"] td[data-r="${last.settings.rule === 'concat' ? i : c}"]`);
    if (last.settings.rule === 'concat') light(`figure[data-stage="V"] td[data-r="${c}"]`);
  } else if (stage === 'output') {
    light(`figure[data-stage="weights"] td[data-r="${i}"]`);
    if (last.settings.rule !== 'concat') light(`figure[data-stage="V"] td[data-c="${c}"]`);
    td.classList.add('lit');
  }
}

// ---------------------------------------------------------------------------- run
let running = 0;
async function run() {
  const token = ++running;
  $('lab-message').textContent = '';
  const s = settings();
  if (!keep || keep.length !== s.L * s.S) keep = maskPreset($('mask-preset').value, s.L, s.S);
  $('heads-wrap').hidden = s.rule !== 'multihead';
  $('k-wrap').hidden = s.selection !== 'top_k';
  $('thr-wrap').hidden = s.selection !== 'threshold';
  $('renorm-wrap').hidden = s.selection === 'soft';
  $('typed-inputs').hidden = !s.typed;
  try {
    const x = inputs(s);
    if (keep.length !== s.L * s.S) keep = maskPreset($('mask-preset').value, s.L, s.S);
    drawMask(s);
    saveState(s);
    const selection = { selection: s.selection, k: s.k, threshold: s.threshold, renormalize: s.renormalize, seed: s.seed };
    const anyMasked = keep.some((b) => b === 0);
    const r = await client.request('lab', {
      q: x.q, k: x.k, v: x.v, L: s.L, Lk: x.Lk, S: s.S, d: s.d, dv: s.dv, rule: s.rule, heads: s.heads,
      mask: anyMasked ? keep : null, selection, seed: s.seed,
    });
    if (token === running) render(s, x, r);
  } catch (e) {
    if (token === running) $('lab-message').textContent = e.message;
  }
}

// Q, K, V of one head of a bundled language model on a short text: typed into the inputs with
// the scaled rule and the causal mask, so step 5 reproduces the model's own weights for that head.
let catalogue = [];
async function loadCatalogue() {
  try {
    catalogue = (await (await fetch('models/index.json')).json()).models
      .filter((m) => ['gpt2', 'gpt', 'encoder-classifier', 'encoder-decoder'].includes(m.type));
  } catch { catalogue = []; }
  const sel = $('fm-model');
  sel.replaceChildren(...catalogue.map((m) => new Option(m.title, m.name)));
  $('from-model').hidden = catalogue.length === 0;
  const short = { 'induction-2l': '4 9 2 7 4 9', 'fortunes-char': 'the cat sat', 'brackets-encoder': '([]{()})',
    'dates-transformer': '5 Mar 1998' };
  const setText = () => { $('fm-text').value = short[sel.value] ?? ''; };
  sel.addEventListener('change', setText);
  setText();
}

async function fromModel() {
  const entry = catalogue.find((m) => m.name === $('fm-model').value);
  if (!entry) return;
  $('fm-note').textContent = 'Running the model…';
  try {
    const r = await client.request('labFromModel', { url: new URL(entry.path, document.baseURI).href, input: $('fm-text').value,
      layer: Number($('fm-layer').value) - 1, head: Number($('fm-head').value) - 1 });
    const fmt7 = (a, rows, cols) => Array.from({ length: rows }, (_, i) => Array.from(a.slice(i * cols, (i + 1) * cols), (x) => x.toPrecision(7)).join(' ')).join('\n');
    $('typed').checked = true;
    $('q-text').value = fmt7(r.q, r.L, r.hs);
    $('k-text').value = fmt7(r.k, r.S, r.hs);
    $('v-text').value = fmt7(r.v, r.S, r.hs);
    $('rule').value = 'scaled';
    $('selection').value = 'soft';
    // A GPT's self-attention is causal; the encoders' and the decoder's cross-attention see every key.
    const preset = r.causal ? 'causal' : 'none';
    keep = maskPreset(preset, r.L, r.S);
    $('mask-preset').value = preset;
    modelWeights = r.weights;
    $('fm-note').textContent = `${entry.title}, layer ${$('fm-layer').value} (${r.kind === 'cross' ? 'cross-attention: queries from the output, keys from the source' : 'self-attention'}), head ${$('fm-head').value}: tokens ${r.tokens.join(' ')}.`
      + ' Step 5 below is computed from these Q, K, V; it equals the model\'s own map for this head.';
    await run();
  } catch (e) {
    $('fm-note').textContent = e.message;
  }
}
let modelWeights = null;  // the model's own weights for the head taken, for the tests

function main() {
  restoreState();
  $('lab-form').addEventListener('input', (ev) => {
    if (ev.target.id.startsWith('fm-')) return;  // "from a model" runs on its button
    if (ev.target.id === 'mask-preset') {
      const s = settings();
      keep = maskPreset(ev.target.value, s.L, s.S);
    }
    if (['L', 'S'].includes(ev.target.id)) keep = null;
    if (['q-text', 'k-text', 'v-text'].includes(ev.target.id)) return;  // typed inputs run on change
    run();
  });
  $('lab-form').addEventListener('change', (ev) => { if (['q-text', 'k-text', 'v-text'].includes(ev.target.id)) run(); });
  $('fm-text').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); fromModel(); } });
  $('lab-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('fm-load').addEventListener('click', fromModel);
  loadCatalogue();
  $('randomise').addEventListener('click', () => { $('seed').value = String((Number($('seed').value) || 0) + 1); $('typed').checked = false; run(); });
  window.addEventListener('hashchange', () => { restoreState(); run(); });
  document.addEventListener('mouseover', linkHover);
  document.addEventListener('focusin', linkHover);
  client.request('init').then((e) => {
    $('status').textContent = `Engine ${e.version} (${e.simd ? 'WebAssembly SIMD' : 'scalar'}) ready.`;
    return run();
  }).then(() => { document.body.dataset.ready = 'true'; })
    .catch((e) => { $('status').textContent = `Could not start: ${e.message}`; $('status').classList.add('error'); });
}

// For tests and scripts: the last inputs and stages.
window.__lab = { last: () => last, modelWeights: () => modelWeights };

main();
