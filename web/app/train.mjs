// The Train page's controller: settings from the form (and the URL), a Trainer in the
// worker (worker.mjs trainCreate / trainRun / trainPause / trainStep / trainSave), and the
// views: loss and accuracy curves, throughput, and the probe sequence's attention maps,
// which refresh as training runs. The trained model can be downloaded or opened in the
// model views (handed over through sessionStorage).
import { EngineClient } from './client.mjs';
import { createCurves } from './views/curves.mjs';
import { createModelView } from './views/modelview.mjs';
import { downloadBlob, jsonBlob } from './export.mjs';

const $ = (id) => document.getElementById(id);
const client = new EngineClient();
const FIELDS = ['task', 'length', 'vocab', 'layers', 'heads', 'dModel', 'optimizer', 'lr', 'batch', 'clip', 'clipA', 'clipB', 'seed'];
const CLIP_UI = { norm: ['max norm', null], value: ['clip value', null], clamp: ['min', 'max'], none: [null, null] };
const series = { loss: [], acc: [], evalAcc: [], evalLoss: [] };
let info = null, running = false, lossView, accView, modelView, lastSnapshot = null, throughput = 0;
let frameGap = 0;  // the longest gap between animation frames over the last run: the page's responsiveness

function settings() {
  const v = (id) => $(id).value;
  const num = (id, lo, hi) => Math.max(lo, Math.min(hi, Number(v(id)) || lo));
  const clip = v('clip');
  const clipOpt = clip === 'none' ? null : clip === 'norm' ? { mode: 'norm', maxNorm: num('clipA', 0, 1e6) }
    : clip === 'value' ? { mode: 'value', value: num('clipA', 0, 1e6) } : { mode: 'clamp', min: Number(v('clipA')) || 0, max: Number(v('clipB')) || 0 };
  return {
    task: v('task'), length: Math.round(num('length', 1, 16)), layers: Math.round(num('layers', 1, 6)),
    heads: Math.round(num('heads', 1, 8)), dModel: Math.round(num('dModel', 8, 256)), optimizer: v('optimizer'),
    lr: num('lr', 0, 1), batch: Math.round(num('batch', 1, 128)), clip: clipOpt, seed: Math.round(num('seed', 0, 2 ** 31)),
    ...(v('task') === 'induction' ? { vocab: Math.round(num('vocab', 2, 64)) } : {}),
  };
}

function saveState() {
  const p = new URLSearchParams();
  for (const f of FIELDS) p.set(f, $(f).value);
  window.history.replaceState(null, '', `#${p}`);
}

function restoreState() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const f of FIELDS) {
    if (!p.has(f)) continue;
    const el = $(f), val = p.get(f).slice(0, 40);
    if (el.tagName === 'SELECT' ? [...el.options].some((o) => o.value === val) : Number.isFinite(Number(val))) el.value = val;
  }
}

function syncForm() {
  const [a, b] = CLIP_UI[$('clip').value];
  $('clip-a-wrap').hidden = !a;
  $('clip-b-wrap').hidden = !b;
  if (a) $('clip-a-label').textContent = a;
  $('vocab-wrap').hidden = $('task').value !== 'induction';
}

function setRunning(on) {
  running = on;
  $('play').textContent = on ? '⏸ Pause' : '▶ Train';
  $('play').setAttribute('aria-pressed', String(on));
  for (const id of ['step', 'download', 'open']) $(id).disabled = on;
}

function absorb(snap) {
  for (const s of snap.steps ?? []) {
    series.loss.push([s.step, s.loss]);
    series.acc.push([s.step, s.accuracy]);
    if (Number.isFinite(s.tokensPerSecond)) throughput = throughput ? 0.9 * throughput + 0.1 * s.tokensPerSecond : s.tokensPerSecond;
  }
  if (snap.eval) {
    series.evalLoss.push([snap.total, snap.eval.loss]);
    series.evalAcc.push([snap.total, snap.eval.accuracy]);
    lastSnapshot = snap;
  }
  draw();
}

function draw() {
  const thin = (pts) => (pts.length > 600 ? pts.filter((_, i) => i % Math.ceil(pts.length / 600) === 0 || i === pts.length - 1) : pts);
  lossView.update([{ label: 'training loss', colour: '#0072B2', points: thin(series.loss) },
    { label: 'held-out loss', colour: '#D55E00', points: series.evalLoss, width: 2.5 }]);
  accView.update([{ label: 'training accuracy', colour: '#0072B2', points: thin(series.acc) },
    { label: 'held-out accuracy', colour: '#D55E00', points: series.evalAcc, width: 2.5 }]);
  const last = series.loss.at(-1);
  const evalAcc = series.evalAcc.at(-1);
  $('counters').textContent = `step ${last ? last[0] : 0} · loss ${last ? last[1].toFixed(3) : '–'} · held-out accuracy ${evalAcc ? (100 * evalAcc[1]).toFixed(1) : '–'}%`
    + ` · ${Math.round(throughput).toLocaleString('en')} tokens/s · longest UI frame gap ${Math.round(frameGap)} ms`;
  if (lastSnapshot) {
    const p = lastSnapshot.probe;
    const box = $('probe');
    const caption = box.querySelector('.probe-caption') ?? box.insertBefore(Object.assign(document.createElement('div'), { className: 'probe-caption' }), box.firstChild);
    caption.replaceChildren(
      Object.assign(document.createElement('h2'), { textContent: 'Attention on a fixed held-out example' }),
      tokenRow('input', p.tokens),
      tokenRow({ brackets: 'predicted class', dates: 'output (teacher-forced)' }[info?.task] ?? 'predicted next', p.predicted));
    modelView.update({ layers: p.maps.map((m) => ({ ...m, label: `layer ${m.layer + 1}${m.kind === 'cross' ? ' cross' : ''}` })), selected: null });
  }
  document.body.dataset.renders = String(Number(document.body.dataset.renders ?? 0) + 1);
}

function tokenRow(label, tokens) {
  const row = document.createElement('p');
  row.className = 'token-row';
  row.append(Object.assign(document.createElement('span'), { className: 'label', textContent: label }));
  for (const t of tokens) row.append(Object.assign(document.createElement('code'), { textContent: t }));
  return row;
}

async function create() {
  setRunning(false);
  await client.request('trainPause');
  for (const k of Object.keys(series)) series[k] = [];
  lastSnapshot = null;
  throughput = 0;
  $('train-message').textContent = '';
  syncForm();
  saveState();
  try {
    info = await client.request('trainCreate', { options: settings() });
    const kind = { brackets: 'encoder classifier', dates: 'encoder-decoder' }[info.task] ?? 'GPT';
    $('status').textContent = `A ${info.numParameters.toLocaleString('en')}-parameter ${kind} on “${info.task}”. Press Train.`;
    absorb(info.snapshot);
  } catch (e) {
    info = null;
    $('train-message').textContent = e.message;
  }
}

async function play() {
  if (!info) return;
  if (running) { setRunning(false); await client.request('trainPause'); return; }
  setRunning(true);
  frameGap = 0;
  let t = null;
  const watch = (now) => { if (t !== null) frameGap = Math.max(frameGap, now - t); t = now; if (running) requestAnimationFrame(watch); };
  requestAnimationFrame(watch);
  try {
    absorb(await client.request('trainRun', {}, { onProgress: absorb }));
  } catch (e) {
    $('train-message').textContent = e.message;
  }
  setRunning(false);
}

async function download() {
  const files = await client.request('trainSave', { name: `${info.task}-trained` });
  downloadBlob(jsonBlob(files.config), 'config.json');
  downloadBlob(new Blob([files.weights], { type: 'application/octet-stream' }), 'model.safetensors');
}

async function openInViewer() {
  const files = await client.request('trainSave', { name: `${info.task}-trained` });
  let binary = '';
  for (let i = 0; i < files.weights.length; i += 0x8000) binary += String.fromCharCode(...files.weights.subarray(i, i + 0x8000));
  sessionStorage.setItem('attn-trained-model', JSON.stringify({ config: files.config, weights: btoa(binary), example: lastSnapshot?.probe.tokens.join(' ') ?? '' }));
  location.href = `./#m=trained`;
}

async function main() {
  restoreState();
  syncForm();
  lossView = createCurves($('curves'), { title: 'Loss (log scale)', log: true });
  accView = createCurves($('curves'), { title: 'Accuracy of the answer', yMax: 1 });
  const probeMaps = document.createElement('div');
  $('probe').append(probeMaps);
  modelView = createModelView(probeMaps, {});
  $('train-form').addEventListener('change', create);
  $('train-form').addEventListener('submit', (e) => e.preventDefault());
  $('play').addEventListener('click', play);
  $('step').addEventListener('click', async () => absorb(await client.request('trainStep')));
  $('reset').addEventListener('click', create);
  $('download').addEventListener('click', download);
  $('open').addEventListener('click', openInViewer);
  try {
    const e = await client.request('init');
    $('status').textContent = `Engine ${e.version} (${e.simd ? 'WebAssembly SIMD' : 'scalar'}) ready.`;
    await create();
    document.body.dataset.ready = 'true';
  } catch (e) {
    $('status').textContent = `Could not start: ${e.message}`;
    $('status').classList.add('error');
  }
}

window.__train = { series: () => series, snapshot: () => lastSnapshot, running: () => running };
main();
