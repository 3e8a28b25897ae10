// The positional-encodings page's controller: the worker computes every table with the
// engine (sinusoidalTable, a bundled GPT's wpe, applyRope, alibiBias, matmul,
// scaledDotProductAttention); this module draws them with the heatmap view. Settings in the URL.
import { EngineClient } from './client.mjs';
import { createHeatmap } from './views/heatmap.mjs';

const $ = (id) => document.getElementById(id);
const client = new EngineClient();
const views = [];
let learnedUrl = null;
let last = null;

function settings() {
  const int = (id, lo, hi) => Math.max(lo, Math.min(hi, Math.round(Number($(id).value)) || lo));
  let d = int('d', 2, 128);
  if (d % 2) d += 1;  // RoPE rotates pairs of dimensions
  return { n: int('n', 2, 128), d, seed: int('seed', 0, 2 ** 31), causal: $('causal').checked };
}

function restore() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const k of ['n', 'd', 'seed']) if (p.has(k) && Number.isFinite(Number(p.get(k)))) $(k).value = p.get(k);
  $('causal').checked = p.get('causal') === '1';
}

const labels = (n, prefix = '') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function run() {
  const s = settings();
  history.replaceState(null, '', `#n=${s.n}&d=${s.d}&seed=${s.seed}${s.causal ? '&causal=1' : ''}`);
  $('pe-message').textContent = '';
  let r;
  try {
    r = await client.request('positions', { ...s, learnedUrl });
  } catch (e) {
    $('pe-message').textContent = e.message;
    return;
  }
  for (const v of views.splice(0)) v.destroy();
  for (const col of document.querySelectorAll('.pe-col')) {
    const kind = col.dataset.kind;
    col.querySelectorAll('.pe-panel').forEach((p) => p.remove());
    const panel = (title, matrix) => {
      const box = document.createElement('div');
      box.className = 'pe-panel';
      col.append(box);
      const v = createHeatmap(box, { maxWidth: 200, maxHeight: 200 });
      v.update({ title, ...matrix });
      views.push(v);
    };
    if (!r.encodings[kind]) {
      const p = document.createElement('p');
      p.className = 'pe-panel note';
      p.textContent = 'No bundled GPT with learned positions was found.';
      col.append(p);
      continue;
    }
    const enc = kind === 'alibi'
      ? { weights: r.encodings.alibi, rows: r.n, cols: r.n, rowLabels: labels(r.n), colLabels: labels(r.n), rowName: 'query', colName: 'key', legend: 'bias' }
      : { weights: r.encodings[kind], rows: r.n, cols: r.d, rowLabels: labels(r.n), colLabels: labels(r.d), rowName: 'position', colName: 'dimension', legend: 'value' };
    panel(kind === 'alibi' ? 'The bias −m·|i − j|' : kind === 'rope' ? 'RoPE applied to ones' : 'The encoding (position × dimension)', { ...enc, signed: true });
    if (kind !== 'alibi') {
      panel('Similarity of positions (dot product)', { weights: r.similarity[kind], rows: r.n, cols: r.n, rowLabels: labels(r.n), colLabels: labels(r.n), rowName: 'position', colName: 'position', signed: true, legend: 'dot product' });
    }
    panel('Its effect on one attention map', { weights: r.maps[kind], rows: r.n, cols: r.n, rowLabels: labels(r.n), colLabels: labels(r.n) });
  }
  // The map without any encoding, for comparison, once.
  const none = document.querySelector('.pe-none') ?? Object.assign(document.createElement('section'), { className: 'pe-none' });
  none.replaceChildren(Object.assign(document.createElement('h2'), { textContent: 'The same map without positions' }),
    Object.assign(document.createElement('p'), { textContent: 'The same random q and k with no encoding: without positions, attention treats the sequence as a bag of tokens.' }));
  $('pe-grid').after(none);
  const v = createHeatmap(none, { maxWidth: 200, maxHeight: 200 });
  v.update({ title: 'No encoding', weights: r.maps.none, rows: r.n, cols: r.n, rowLabels: labels(r.n), colLabels: labels(r.n) });
  views.push(v);
  last = r;
  document.body.dataset.renders = String(Number(document.body.dataset.renders ?? 0) + 1);
}

async function main() {
  restore();
  $('pe-form').addEventListener('input', run);
  $('pe-form').addEventListener('submit', (e) => e.preventDefault());
  window.addEventListener('hashchange', () => { restore(); run(); });
  try {
    const [engine, index] = await Promise.all([client.request('init'), fetch('models/index.json').then((res) => res.json())]);
    const gpt = index.models.find((m) => m.name === 'fortunes-char') ?? index.models.find((m) => m.type === 'gpt2' || m.type === 'gpt');
    learnedUrl = gpt ? new URL(gpt.path, document.baseURI).href : null;
    $('status').textContent = `Engine ${engine.version} (${engine.simd ? 'WebAssembly SIMD' : 'scalar'}) ready.`;
    await run();
    document.body.dataset.ready = 'true';
  } catch (e) {
    $('status').textContent = `Could not start: ${e.message}`;
    $('status').classList.add('error');
  }
}

window.__positions = { last: () => last };
main();
