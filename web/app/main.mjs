// The playground's one controller (TF Playground's shape): it owns the state (state.mjs,
// mirrored in the URL), asks the engine's worker (client.mjs -> worker.mjs) for loads and
// forward passes, and hands the numbers to the view modules (views/*.mjs), which only draw.
import { EngineClient } from './client.mjs';
import { DEFAULTS, formatHeads, formatState, parseHeads, parseState } from './state.mjs';
import { renderMarkdown } from './markdown.mjs';
import { headAverage, rollout } from './attention_math.mjs';
import { createHeatmap } from './views/heatmap.mjs';
import { createHeadView } from './views/headview.mjs';
import { createModelView } from './views/modelview.mjs';
import { createBars } from './views/bars.mjs';
import { createChannelView } from './views/channels.mjs';
import { renderTable } from './views/table.mjs';
import { canvasToPngBlob, downloadBlob, jsonBlob, svgBlob } from './export.mjs';

const $ = (id) => document.getElementById(id);

const VIEW_INFO = {
  heatmap: { label: 'Heatmap', kinds: ['lm', 'classifier', 'seq2seq'],
    explain: 'One attention head of one layer. Each row is a query token, each column a key token; a cell is how much that query\'s output draws on that key\'s value. Every row sums to 1 (a softmax). Hover a cell for its exact weight; arrow keys move through the cells.' },
  heads: { label: 'Head view', kinds: ['lm', 'classifier', 'seq2seq'],
    explain: 'All heads of one layer at once: a line from a token on the left to a token on the right is attention from the left (query) to the right (key), its opacity the weight. Each head has its own colour; switch heads on and off, and hover a token to see only its lines.' },
  model: { label: 'Model view', kinds: ['lm', 'classifier', 'seq2seq'],
    explain: 'Every head of every layer as a thumbnail: rows are layers, columns heads. Patterns repeat across models: heads that look at the previous token, at the first token, at the same token, or at matching tokens. Click one to open it as a heatmap.' },
  rollout: { label: 'Rollout', kinds: ['lm', 'classifier', 'seq2seq'],
    explain: 'Attention rollout (Abnar & Zuidema, 2020): the heads of each layer averaged, the residual connection added as ½·(A + I), and the layers multiplied from the first up. It estimates how much each output position depends on each input token through all the layers, where a single layer\'s map shows only one step.' },
  cross: { label: 'Cross-attention', kinds: ['seq2seq'],
    explain: 'The decoder\'s attention to the source while it writes the output: each row is an output step (the token it has just read), each column a source character. A sharp diagonal band is an alignment: the model reads the part of the source it is about to write (the year while writing the year).' },
  generate: { label: 'Generate', kinds: ['lm'],
    explain: 'Generation one token at a time: the model\'s probabilities for the next token (right), then a draw from them with the temperature, top-k and top-p you set (seeded, so a link reproduces it). The heatmap\'s last row is what the newest token attended to.' },
  ablation: { label: 'Head ablation', kinds: ['lm', 'classifier', 'seq2seq'],
    explain: 'Switch heads off and see what they were doing: a switched-off head\'s output is replaced by zeros before the layer mixes the heads (its weights are still computed, and shown in the other views). The bars compare the model with those heads off against the intact model on the same input. Find the heads a prediction depends on: switch them off one at a time, or a whole layer (in the induction model, both heads of layer 1 together lose the repeat).' },
  channels: { label: 'Channel attention', kinds: ['image'],
    explain: 'Squeeze-and-Excitation (seed 002): after each block the network summarises every channel by its average, and a small two-layer network turns those summaries into one weight in (0, 1) per channel that rescales it. Bright cells are channels this image turned up, dark ones channels it turned down.' },
};

// The view a model opens in from the gallery.
const DEFAULT_VIEW = { 'seq2seq-rnn': 'cross', 'encoder-decoder': 'cross', 'se-cnn': 'channels' };

const app = {
  client: null,
  catalogue: [],
  state: { ...DEFAULTS },
  info: null,      // describeModel() of the loaded model
  entry: null,     // its gallery entry (null for the user's own files)
  result: null,    // the last analysis
  samples: null,   // the image model's bundled test images
  views: {},
  running: 0,
};

// ---------------------------------------------------------------------------
// State <-> URL
function saveState() {
  const hash = formatState(app.state);
  if (location.hash !== hash) history.replaceState(null, '', hash === '#' ? location.pathname + location.search : hash);
}

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

// ---------------------------------------------------------------------------
// The gallery
function formatBytes(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} KB`;
}

function heldOut(card) {
  const m = /## Held-out metric\s*\n+([\s\S]*?)(\n## |$)/.exec(card);
  const first = m ? m[1].split('\n').find((l) => l.startsWith('- ')) : null;
  return first ? first.slice(2).replace(/\*\*/g, '') : '';
}

function renderGallery() {
  const cards = $('cards');
  cards.replaceChildren();
  for (const e of app.catalogue) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'model-card';
    b.dataset.model = e.name;
    b.setAttribute('aria-pressed', String(app.entry?.name === e.name));
    const h = document.createElement('strong');
    h.textContent = e.title;
    const t = document.createElement('span');
    t.className = 'task';
    t.textContent = e.task || e.description;
    const m = document.createElement('span');
    m.className = 'metric';
    m.textContent = `${e.type} · ${formatBytes(e.bytes)}${heldOut(e.card) ? ` · ${heldOut(e.card)}` : ''}`;
    b.append(h, t, m);
    b.addEventListener('click', () => {
      app.state.view = DEFAULT_VIEW[e.type] ?? 'heatmap';
      app.state.layer = 0;
      app.state.head = 0;
      app.state.kind = 'self';
      app.state.off = '';
      openBundled(e, { input: '' });
    });
    cards.append(b);
  }
}

function showProgress(loaded, total, what) {
  $('progress').hidden = false;
  $('progress-bar').style.width = `${total ? (100 * loaded) / total : 0}%`;
  $('progress-text').textContent = `Loading ${what}: ${formatBytes(loaded)}${total ? ` of ${formatBytes(total)}` : ''}`;
}

async function openBundled(entry, { input, sample = -1 }) {
  app.entry = entry;
  app.state.model = entry.name;
  app.state.input = input || entry.examples[0] || '';
  app.state.sample = sample;
  renderGallery();
  setStatus(`Loading ${entry.title}…`);
  try {
    const info = await app.client.request('load', { key: 'main', url: new URL(entry.path, document.baseURI).href },
      { onProgress: ({ loaded, total }) => showProgress(loaded, total, entry.title) });
    await modelLoaded(info);
  } catch (e) {
    setStatus(`Could not load ${entry.title}: ${e.message}`, true);
  } finally {
    $('progress').hidden = true;
  }
}

// ---------------------------------------------------------------------------
// Load your own: config.json + .safetensors (+ tokenizer files), checked by the engine.
async function openFiles(fileList) {
  const msg = $('drop-message');
  msg.textContent = '';
  msg.classList.remove('error');
  const files = Array.from(fileList);
  const config = files.find((f) => f.name.endsWith('.json') && !/^(vocab|encoder|tokenizer)\.json$/.test(f.name));
  const weights = files.find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights) {
    msg.textContent = `Need a config .json and a .safetensors file; got ${files.map((f) => f.name).join(', ') || 'nothing'}.`;
    msg.classList.add('error');
    return;
  }
  const tokenizer = {};
  for (const f of files) {
    if (f !== config && f !== weights) tokenizer[f.name] = new Uint8Array(await f.arrayBuffer());
  }
  try {
    const args = { key: 'main', files: { config: await config.text(), weights: new Uint8Array(await weights.arrayBuffer()), tokenizer } };
    const info = await app.client.request('load', args);
    app.entry = null;
    app.state.model = '';
    renderGallery();
    msg.textContent = `Loaded ${weights.name}.`;
    await modelLoaded(info, { title: info.config.name ?? weights.name });
  } catch (e) {
    msg.textContent = `That model could not be loaded: ${e.message}`;
    msg.classList.add('error');
  }
}

// A model trained on the Train page (train.mjs hands it over through sessionStorage).
async function openTrained(state) {
  const saved = JSON.parse(sessionStorage.getItem('attn-trained-model'));
  const weights = Uint8Array.from(atob(saved.weights), (c) => c.charCodeAt(0));
  const info = await app.client.request('load', { key: 'main', files: { config: JSON.stringify(saved.config), weights, tokenizer: {} } }, { transfer: [weights.buffer] });
  app.entry = { name: 'trained', title: saved.config.name, description: saved.config.description, examples: saved.example ? [saved.example] : [], card: '' };
  app.state = state;
  app.state.model = 'trained';
  if (!app.state.input) app.state.input = saved.example ?? '';
  renderGallery();
  await modelLoaded(info);
}

// ---------------------------------------------------------------------------
// A loaded model: its inputs, examples and views.
function viewsFor(info) {
  return Object.keys(VIEW_INFO).filter((v) => VIEW_INFO[v].kinds.includes(info.kind)
    && !(v === 'ablation' && info.type === 'seq2seq-rnn'));  // one attention, no heads to switch off
}

async function modelLoaded(info, { title } = {}) {
  app.info = info;
  app.result = null;
  const e = app.entry;
  $('workspace').hidden = false;
  $('model-title').textContent = title ?? e?.title ?? info.type;
  $('model-summary').textContent = `${e?.description ?? info.config.description ?? ''} ${info.type}, ${info.layers} layer${info.layers === 1 ? '' : 's'}`
    + `${info.heads > 1 ? `, ${info.heads} heads` : ''}, ${info.numParameters.toLocaleString('en')} parameters.`;
  $('card').hidden = !e?.card;
  $('card-body').replaceChildren(...(e?.card ? renderMarkdown(e.card) : []));
  const image = info.kind === 'image';
  $('input-form').hidden = image;
  $('image-input').hidden = !image;
  $('input-label').textContent = { lm: 'Text to continue', classifier: 'Text to classify', seq2seq: 'Source text' }[info.kind] ?? 'Input';
  $('input').value = app.state.input;
  const examples = $('examples');
  examples.replaceChildren();
  for (const x of e?.examples ?? []) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = x.length > 48 ? `${x.slice(0, 46)}…` : x;
    b.title = x;
    b.addEventListener('click', () => { $('input').value = x; app.state.input = x; analyze(); });
    examples.append(b);
  }
  const views = viewsFor(info);
  if (app.state.off && views.includes('ablation')) {
    try {
      await app.client.request('ablate', { key: 'main', heads: parseHeads(app.state.off) });
    } catch (e) {
      app.state.off = '';
      $('run-message').textContent = `The link's switched-off heads do not fit this model: ${e.message}`;
    }
  } else {
    app.state.off = '';
  }
  if (!views.includes(app.state.view)) app.state.view = views[0];
  const tabs = $('tabs');
  tabs.replaceChildren();
  for (const v of views) {
    const b = document.createElement('button');
    b.type = 'button';
    b.role = 'tab';
    b.id = `tab-${v}`;
    b.dataset.view = v;
    b.textContent = VIEW_INFO[v].label;
    b.addEventListener('click', () => { app.state.view = v; render(); });
    tabs.append(b);
  }
  setStatus(`${$('model-title').textContent} loaded.`);
  if (image) await loadSamples();
  else await analyze();
}

async function loadSamples() {
  const box = $('samples');
  box.replaceChildren();
  app.samples = null;
  if (app.entry?.samples) {
    app.samples = await app.client.request('samples', { url: new URL(app.entry.samples, document.baseURI).href });
    const { images, n, height, width, labels } = app.samples;
    for (let i = 0; i < n; ++i) {
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      c.className = 'sample';
      c.tabIndex = 0;
      c.title = `test image ${i}: ${app.info.labels?.[labels[i]] ?? labels[i]}`;
      c.setAttribute('role', 'button');
      c.setAttribute('aria-label', c.title);
      drawGrey(c, images.subarray(i * height * width, (i + 1) * height * width), width, height);
      const pick = () => { app.state.sample = i; classify(images.slice(i * height * width, (i + 1) * height * width), height, width); };
      c.addEventListener('click', pick);
      c.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      box.append(c);
    }
    const i = app.state.sample >= 0 && app.state.sample < n ? app.state.sample : 0;
    app.state.sample = i;
    await classify(images.slice(i * height * width, (i + 1) * height * width), height, width);
  }
}

function drawGrey(canvas, pixels, width, height) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; ++i) {
    const g = Math.round(255 * Math.max(0, Math.min(1, pixels[i])));
    img.data.set([g, g, g, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

// ---------------------------------------------------------------------------
// Running the model
async function guarded(fn) {
  const token = ++app.running;
  $('run-message').textContent = '';
  try {
    const r = await fn();
    if (token === app.running) { app.result = r; render(); }
  } catch (e) {
    if (token === app.running) $('run-message').textContent = e.message;
  }
}

function analyze() {
  app.state.input = $('input').value;
  return guarded(() => app.client.request('analyze', { key: 'main', input: app.state.input }));
}

function classify(pixels, height, width) {
  return guarded(() => app.client.request('analyze', { key: 'main', pixels, height, width }));
}

function step(count) {
  const s = app.state, ids = app.result?.ids;
  if (!ids) return;
  s.temperature = Number($('temperature').value);
  s.topK = Number($('topk').value) | 0;
  s.topP = Number($('topp').value);
  s.seed = Number($('seed').value) >>> 0;
  return guarded(async () => {
    let r = app.result;
    for (let i = 0; i < count; ++i) {
      if (r.ids.length >= app.info.maxPositions) break;
      r = await app.client.request('step', { key: 'main', ids: r.ids, temperature: s.temperature, topK: s.topK, topP: s.topP,
        seed: (s.seed + r.ids.length) >>> 0 });
    }
    s.input = r.text;
    $('input').value = r.text;
    return r;
  });
}

// ---------------------------------------------------------------------------
// Views
function mapsOf(kind) {
  return (app.result?.maps ?? []).filter((m) => m.kind === kind).sort((a, b) => a.layer - b.layer);
}

/** Row and column labels of a map: which tokens are its queries and keys. */
function labelsFor(map) {
  const r = app.result;
  if (r.kind !== 'seq2seq') return { rows: r.tokens, cols: r.tokens };
  if (map.kind === 'cross') return { rows: r.targetTokens, cols: r.tokens };
  const encoder = app.info.type === 'encoder-decoder' && map.layer < app.info.config.num_encoder_layers;
  return encoder ? { rows: r.tokens, cols: r.tokens } : { rows: r.targetTokens, cols: r.targetTokens };
}

function layerName(map) {
  if (app.info.type !== 'encoder-decoder') return `layer ${map.layer + 1}`;
  const E = app.info.config.num_encoder_layers;
  return map.layer < E ? `encoder layer ${map.layer + 1}` : `decoder layer ${map.layer - E + 1}`;
}

function fillSelect(sel, options, value) {
  sel.replaceChildren(...options.map(([v, label]) => new Option(label, String(v))));
  sel.value = String(value);
}

// The maps a view shows: the kind it needs, clamped layer and head.
function selection() {
  const s = app.state, view = s.view;
  const kinds = [...new Set((app.result?.maps ?? []).map((m) => m.kind))];
  let kind = view === 'cross' ? 'cross' : kinds.includes(s.kind) ? s.kind : kinds[0];
  if (view === 'rollout') kind = 'self';
  const maps = mapsOf(kind);
  const index = Math.min(s.layer, Math.max(0, maps.length - 1));
  const map = maps[index];
  const head = map ? Math.min(s.head, map.heads - 1) : 0;
  return { kind, kinds, maps, index, map, head };
}

function clearViews() {
  for (const v of Object.values(app.views)) v.destroy?.();
  app.views = {};
  $('view').replaceChildren();
  $('side').replaceChildren();
}

let currentExport = null;  // { png: () => canvas | null, svg: () => string, json: () => object, name }

let renders = 0;
function render() {
  const s = app.state, r = app.result;
  saveState();
  // For tests and scripts: what is on screen, and a counter that moves on every render.
  Object.assign(document.body.dataset, { model: app.entry?.name ?? 'custom', view: s.view, renders: String(++renders) });
  for (const b of $('tabs').children) b.setAttribute('aria-selected', String(b.dataset.view === s.view));
  $('explain').textContent = VIEW_INFO[s.view]?.explain ?? '';
  $('gen-controls').hidden = s.view !== 'generate';
  Object.assign($('temperature'), { value: s.temperature });
  Object.assign($('topk'), { value: s.topK });
  Object.assign($('topp'), { value: s.topP });
  Object.assign($('seed'), { value: s.seed });
  clearViews();
  renderOutput();
  if (!r) return;
  const sel = selection();
  const perHead = ['heatmap', 'generate', 'cross'].includes(s.view);
  $('kind-wrap').hidden = sel.kinds.length < 2 || ['cross', 'rollout', 'channels'].includes(s.view);
  $('layer-wrap').hidden = ['rollout', 'model', 'channels', 'ablation'].includes(s.view) || sel.maps.length < 2;
  $('head-wrap').hidden = !perHead || !sel.map || sel.map.heads < 2;
  fillSelect($('kind'), sel.kinds.filter((k) => k !== 'channel').map((k) => [k, k === 'self' ? 'self-attention' : 'cross-attention']), sel.kind);
  fillSelect($('layer'), sel.maps.map((m, i) => [i, layerName(m)]), sel.index);
  if (sel.map) fillSelect($('head'), [[-1, 'mean of heads'], ...Array.from({ length: sel.map.heads }, (_, h) => [h, `head ${h + 1}`])], sel.head);
  const view = $('view');
  const base = `${app.entry?.name ?? 'model'}-${s.view}`;

  if (s.view === 'channels') {
    const blocks = mapsOf('channel').map((m) => ({ label: `block ${m.layer + 1} (${m.cols} channels)`, weights: m.weights }));
    const v = app.views.channels = createChannelView(view);
    v.update({ blocks });
    currentExport = { name: base, png: null, svg: () => v.toSvg(), json: () => ({ blocks: blocks.map((b) => ({ label: b.label, weights: Array.from(b.weights) })) }) };
    renderTableOf(null);
    return;
  }
  if (!sel.map) return;
  if (s.view === 'ablation') {
    renderAblation(view);
    renderTableOf(null);
    return;
  }
  if (s.view === 'model') {
    const v = app.views.model = createModelView(view, { onSelect: (layer, head) => { s.layer = layer; s.head = head; s.view = 'heatmap'; render(); } });
    const layers = sel.maps.map((m) => ({ ...m, label: layerName(m) }));
    v.update({ layers, selected: { layer: sel.index, head: sel.head } });
    currentExport = { name: base, png: null, svg: () => v.toSvg?.() ?? '', json: () => ({ kind: sel.kind, layers: layers.map(mapJson) }) };
    renderTableOf(null);
    return;
  }
  if (s.view === 'heads') {
    const v = app.views.heads = createHeadView(view);
    const { rows, cols } = labelsFor(sel.map);
    v.update({ maps: sel.map.weights, heads: sel.map.heads, queryLabels: rows, keyLabels: cols, layer: sel.index });
    currentExport = { name: base, png: null, svg: () => v.toSvg(), json: () => mapJson(sel.map) };
    renderTableOf(null);
    return;
  }
  // heatmap, cross, generate, rollout: one matrix
  let weights, title, rows, cols;
  if (s.view === 'rollout') {
    const T = sel.map.rows;
    weights = rollout(sel.maps.map((m) => m.weights), T);
    ({ rows, cols } = labelsFor(sel.map));
    title = `Attention rollout over ${sel.maps.length} layer${sel.maps.length === 1 ? '' : 's'}`;
  } else {
    const m = sel.map;
    weights = sel.head < 0 ? headAverage(m.weights, m.heads, m.rows, m.cols) : m.weights.subarray(sel.head * m.rows * m.cols, (sel.head + 1) * m.rows * m.cols);
    ({ rows, cols } = labelsFor(m));
    title = `${m.kind === 'cross' ? 'Cross-attention' : 'Self-attention'}, ${layerName(m)}, ${sel.head < 0 ? 'mean of heads' : `head ${sel.head + 1}`}`;
  }
  const v = app.views.heatmap = createHeatmap(view);
  const matrix = { weights, rows: rows.length, cols: cols.length, rowLabels: rows, colLabels: cols, title };
  v.update(matrix);
  currentExport = { name: base, png: () => v.canvas, svg: () => v.toSvg(), json: () => v.toJson() };
  renderTableOf(matrix);
}

function mapJson(m) {
  const { rows, cols } = labelsFor(m);
  const heads = [];
  for (let h = 0; h < m.heads; ++h) {
    const rowsOut = [];
    for (let i = 0; i < m.rows; ++i) rowsOut.push(Array.from(m.weights.subarray((h * m.rows + i) * m.cols, (h * m.rows + i + 1) * m.cols)));
    heads.push(rowsOut);
  }
  return { layer: m.layer, kind: m.kind, queries: rows, keys: cols, weights: heads };
}

// The head switches: one row per attention (layer, kind), one toggle per head.
function renderAblation(view) {
  const r = app.result, off = parseHeads(app.state.off);
  const isOff = (m, h) => off.some((o) => o.layer === m.layer && o.kind === m.kind && o.head === h);
  const grid = document.createElement('div');
  grid.className = 'ablation-grid';
  grid.setAttribute('role', 'group');
  grid.setAttribute('aria-label', 'Attention heads: press to switch off or on');
  for (const m of r.maps.filter((x) => x.kind !== 'channel').sort((a, b) => a.layer - b.layer || a.kind.localeCompare(b.kind))) {
    const row = document.createElement('div');
    row.className = 'ablation-row';
    const label = document.createElement('span');
    label.textContent = `${layerName(m)}${m.kind === 'cross' ? ' (cross)' : ''}`;
    row.append(label);
    for (let h = 0; h < m.heads; ++h) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'head-toggle';
      b.dataset.layer = m.layer;
      b.dataset.head = h;
      b.dataset.kind = m.kind;
      b.textContent = `head ${h + 1}`;
      b.setAttribute('aria-pressed', String(isOff(m, h)));
      b.title = isOff(m, h) ? 'switched off: press to switch on' : 'on: press to switch off';
      b.addEventListener('click', () => toggleHead(m.layer, h, m.kind));
      row.append(b);
    }
    grid.append(row);
  }
  view.append(grid);
  const note = document.createElement('p');
  note.className = 'ablation-note';
  note.textContent = off.length ? `${off.length} head${off.length === 1 ? '' : 's'} switched off.` : 'All heads on: press a head to switch it off.';
  view.append(note);
  currentExport = { name: `${app.entry?.name ?? 'model'}-ablation`, png: null,
    svg: () => app.views.bars?.toSvg() ?? '<svg xmlns="http://www.w3.org/2000/svg"/>',
    json: () => ({ off, ablated: r.next ?? r.probs ?? r.output, intact: r.intact ?? null }) };
}

async function toggleHead(layer, head, kind) {
  const off = parseHeads(app.state.off);
  const i = off.findIndex((o) => o.layer === layer && o.head === head && o.kind === kind);
  if (i >= 0) off.splice(i, 1);
  else off.push({ layer, head, kind });
  try {
    await app.client.request('ablate', { key: 'main', heads: off });
    app.state.off = formatHeads(off);
  } catch (e) {
    $('run-message').textContent = e.message;
    return;
  }
  await (app.info.kind === 'image' ? null : analyze());
}

function renderTableOf(matrix) {
  const box = $('table');
  box.replaceChildren();
  if (!$('show-table').checked || !matrix) return;
  renderTable(box, { ...matrix, caption: matrix.title });
}

function renderOutput() {
  const r = app.result, out = $('output'), side = $('side');
  out.replaceChildren();
  if (!r) return;
  const p = document.createElement('p');
  if (r.kind === 'seq2seq') {
    p.innerHTML = '<span class="label">Output</span> ';
    const o = document.createElement('output');
    o.id = 'prediction';
    o.textContent = r.output;
    p.append(o);
    if (r.intact) p.append(document.createTextNode(`  (all heads on: ${r.intact.output})`));
  } else if (r.kind === 'classifier' || r.kind === 'image') {
    const best = r.probs.reduce((a, b) => (b.p > a.p ? b : a));
    p.innerHTML = '<span class="label">Prediction</span> ';
    const o = document.createElement('output');
    o.id = 'prediction';
    o.textContent = `${best.label} (${(100 * best.p).toFixed(1)}%)`;
    p.append(o);
  } else {
    p.innerHTML = `<span class="label">Tokens</span> ${r.ids.length} · <span class="label">Most likely next</span> `;
    const o = document.createElement('output');
    o.id = 'prediction';
    o.textContent = `${r.next[0].label} (${(100 * r.next[0].p).toFixed(1)}%)`;
    p.append(o);
  }
  out.append(p);
  queueMicrotask(() => {
    if (r.kind === 'seq2seq') return;
    const off = r.ablated?.length ? ' with the switched-off heads' : '';
    const bars = app.views.bars = createBars(side);
    if (r.kind === 'lm') bars.update({ title: `Next-token probabilities (top 10)${off}`, items: r.next.map((n) => ({ label: n.label, value: n.p })) });
    else bars.update({ title: `Class probabilities${off}`, items: r.probs.map((c) => ({ label: c.label, value: c.p, highlight: c.p === Math.max(...r.probs.map((q) => q.p)) })) });
    if (r.intact) {
      const box = document.createElement('div');
      side.append(box);
      const intact = app.views.intact = createBars(box);
      const items = r.kind === 'lm' ? r.intact.next.map((n) => ({ label: n.label, value: n.p })) : r.intact.probs.map((c) => ({ label: c.label, value: c.p }));
      intact.update({ title: r.kind === 'lm' ? 'Next-token probabilities, all heads on' : 'Class probabilities, all heads on', items });
    }
  });
}

// ---------------------------------------------------------------------------
// Exports
async function exportAs(what) {
  const e = currentExport;
  if (!e) return;
  if (what === 'png') {
    const canvas = e.png?.();
    if (canvas) downloadBlob(await canvasToPngBlob(canvas), `${e.name}.png`);
    else downloadBlob(await svgToPng(e.svg()), `${e.name}.png`);
  } else if (what === 'svg') {
    downloadBlob(svgBlob(e.svg()), `${e.name}.svg`);
  } else {
    downloadBlob(jsonBlob({ model: app.entry?.name ?? app.info?.config?.name ?? null, input: app.state.input, view: app.state.view, ...e.json() }), `${e.name}.json`);
  }
}

// SVG-only views become PNGs through an <img> and a canvas.
async function svgToPng(svg) {
  const img = new Image();
  const url = URL.createObjectURL(svgBlob(svg));
  try {
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth || 800;
    c.height = img.naturalHeight || 600;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(img, 0, 0);
    return await canvasToPngBlob(c);
  } finally { URL.revokeObjectURL(url); }
}

// ---------------------------------------------------------------------------
// Drawing pad (28 x 28, white on black as Fashion-MNIST)
function setupDrawing() {
  const c = $('draw'), ctx = c.getContext('2d');
  const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, c.width, c.height); };
  clear();
  let down = false;
  const at = (ev) => { const r = c.getBoundingClientRect(); return [(ev.clientX - r.left) * (c.width / r.width), (ev.clientY - r.top) * (c.height / r.height)]; };
  c.addEventListener('pointerdown', (ev) => { down = true; c.setPointerCapture(ev.pointerId); const [x, y] = at(ev); ctx.beginPath(); ctx.moveTo(x, y); });
  c.addEventListener('pointermove', (ev) => {
    if (!down) return;
    const [x, y] = at(ev);
    Object.assign(ctx, { strokeStyle: '#fff', lineWidth: 14, lineCap: 'round', lineJoin: 'round' });
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  c.addEventListener('pointerup', () => { down = false; });
  $('clear-draw').addEventListener('click', clear);
  $('run-draw').addEventListener('click', () => {
    const small = new OffscreenCanvas(28, 28), sctx = small.getContext('2d');
    sctx.drawImage(c, 0, 0, 28, 28);
    const d = sctx.getImageData(0, 0, 28, 28).data;
    const pixels = new Float32Array(28 * 28);
    for (let i = 0; i < pixels.length; ++i) pixels[i] = d[i * 4] / 255;
    app.state.sample = -1;
    classify(pixels, 28, 28);
  });
}

// ---------------------------------------------------------------------------
function wire() {
  $('input-form').addEventListener('submit', (ev) => { ev.preventDefault(); analyze(); });
  $('input').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); analyze(); }
  });
  $('kind').addEventListener('change', () => { app.state.kind = $('kind').value; app.state.layer = 0; render(); });
  $('layer').addEventListener('change', () => { app.state.layer = Number($('layer').value); render(); });
  $('head').addEventListener('change', () => { app.state.head = Number($('head').value); render(); });
  $('step').addEventListener('click', () => step(1));
  $('step10').addEventListener('click', () => step(10));
  $('show-table').addEventListener('change', render);
  $('export-png').addEventListener('click', () => exportAs('png'));
  $('export-svg').addEventListener('click', () => exportAs('svg'));
  $('export-json').addEventListener('click', () => exportAs('json'));
  $('copy-link').addEventListener('click', async () => {
    saveState();
    try { await navigator.clipboard.writeText(location.href); setStatus('Link copied.'); } catch { setStatus(`Link: ${location.href}`); }
  });
  $('files').addEventListener('change', (ev) => openFiles(ev.target.files));
  const dz = $('dropzone');
  dz.addEventListener('dragover', (ev) => { ev.preventDefault(); dz.classList.add('over'); });
  dz.addEventListener('dragleave', () => dz.classList.remove('over'));
  dz.addEventListener('drop', (ev) => { ev.preventDefault(); dz.classList.remove('over'); openFiles(ev.dataTransfer.files); });
  window.addEventListener('hashchange', () => restore(parseState(location.hash)));
  setupDrawing();
}

async function restore(state) {
  const sameModel = state.model && state.model === app.entry?.name;
  app.state = state;
  if (sameModel) {
    if (!state.input) state.input = app.entry.examples[0] ?? '';
    $('input').value = state.input;
    if (app.info.kind === 'image') await loadSamples();
    else await analyze();
    return;
  }
  if (state.model === 'trained' && sessionStorage.getItem('attn-trained-model')) {
    await openTrained(state);
    return;
  }
  const entry = app.catalogue.find((e) => e.name === state.model) ?? app.catalogue[0];
  const same = state.model === entry?.name;
  if (entry) await openBundled(entry, { input: same ? state.input : '', sample: same ? state.sample : -1 });
}

async function main() {
  wire();
  try {
    app.client = new EngineClient();
    const [engine, index] = await Promise.all([
      app.client.request('init'),
      fetch(new URL('models/index.json', document.baseURI)).then((r) => {
        if (!r.ok) throw new Error(`models/index.json: HTTP ${r.status}`);
        return r.json();
      }),
    ]);
    app.catalogue = index.models;
    setStatus(`Engine ${engine.version} (${engine.simd ? 'WebAssembly SIMD' : 'scalar'}) ready.`);
    renderGallery();
    await restore(parseState(location.hash));
    document.body.dataset.ready = 'true';
  } catch (e) {
    setStatus(`Could not start: ${e.message}`, true);
  }
}

// For tests and scripts: the colour the heatmap drew at cell (q, k), read from its canvas.
window.__playground = {
  heatmapPixel(q, k) {
    const v = app.views.heatmap;
    if (!v) return null;
    const [x, y] = v.cellCentre(q, k);
    return Array.from(v.canvas.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3));
  },
};

main();
