// The playground page as a person uses it, in real Chromium (Debian's, via playwright-core),
// served from the built site (scripts/build_web.mjs) at a sub-path of a local server:
// every bundled model opens; the weights the page shows (its JSON export) equal what the
// npm package computes in Node for the same input; the heatmap's pixels hold the palette's
// colour of those weights; PNG/SVG/JSON exports are valid; a link restores the view; a
// broken model file gets a message and the page keeps working; no request leaves the
// origin and nothing is logged as an error. Screenshots of every view go to
// build/screenshots/page-*.png (look at them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pkg, root } from '../js/helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

const site = join(root, 'build/site');
const shots = join(root, 'build/screenshots');
const { sequential } = await import(pathToFileURL(join(site, 'app/colormap.mjs')).href);
const catalogue = JSON.parse(readFileSync(join(site, 'models/index.json'), 'utf8')).models;
const PREFIX = '/hosted/playground/';
const TOL = 1e-6;  // the same engine in the page and in Node: only float formatting differs

let server, browser, base, origin, ap;
const problems = [];  // console errors, page errors, requests to other origins

before(async () => {
  server = await startServer({ port: 0, mounts: [[PREFIX, site]] });
  origin = `http://127.0.0.1:${server.address().port}`;
  base = origin + PREFIX;
  browser = await launchChromium();
  ap = await pkg.init();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function openPage(hash = '') {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) problems.push(`request left the origin: ${r.url()}`); });
  await page.goto(base + hash);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30000 });
  return page;
}

/** Waits for the next render after `action`. */
async function rendered(page, action) {
  const before = Number(await page.evaluate(() => document.body.dataset.renders ?? 0));
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) > n && document.querySelector('#prediction'), before, { timeout: 30000 });
}

async function exportJson(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  return JSON.parse(readFileSync(await download.path(), 'utf8'));
}

function modelFiles(entry) {
  const dir = join(site, entry.path);
  return { config: readFileSync(join(dir, 'config.json'), 'utf8'), weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))) };
}

/** A map's rows as the page's JSON export gives them ([rows][cols]) from a flat (H, T, S) array. */
function rowsOf(flat, head, T, S) {
  return Array.from({ length: T }, (_, i) => Array.from(flat.subarray((head * T + i) * S, (head * T + i + 1) * S)));
}

function assertRowsClose(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  let max = 0;
  for (let i = 0; i < expected.length; ++i) {
    assert.equal(actual[i].length, expected[i].length, `${what}: row ${i} length`);
    for (let j = 0; j < expected[i].length; ++j) max = Math.max(max, Math.abs(actual[i][j] - expected[i][j]));
  }
  console.log(`# ${what}: max |page - node| = ${max.toExponential(2)} (tolerance ${TOL})`);
  assert.ok(max <= TOL, `${what}: max error ${max}`);
}

/** The heatmap export's weights as rows, whatever nesting it uses. */
function heatmapRows(json) {
  if (Array.isArray(json.weights?.[0])) return json.weights;
  const { rows, cols } = json;
  return rowsOf(Float32Array.from(json.weights), 0, rows, cols);
}

// What the package computes in Node for the page's default view of each kind of model.
function nodeReference(entry, input) {
  const m = ap.loadModel(modelFiles(entry));
  try {
    if (entry.type === 'se-cnn') return null;
    if (entry.type === 'seq2seq-rnn' || entry.type === 'encoder-decoder') {
      const src = m.encode(input, 'source');
      const t = m.translate(src);
      const out = m.forward(src, Int32Array.from([m.config.bos_id ?? 0, ...t.ids]), { capture: true });
      try {
        const cross = out.attentions.filter((a) => a.kind === 'cross').sort((a, b) => a.layer - b.layer)[0];
        const s = cross.weights.shape, [T, S] = s.slice(-2);
        return { rows: rowsOf(cross.weights.toArray(), 0, T, S) };
      } finally { out.dispose(); }
    }
    const out = m.forward(input, { capture: true });
    try {
      const first = out.attentions.sort((a, b) => a.layer - b.layer)[0];
      const [, T, S] = first.weights.shape;
      return { rows: rowsOf(first.weights.toArray(), 0, T, S) };
    } finally { out.dispose(); }
  } finally { m.dispose(); }
}

test('every bundled model opens in the page and shows the weights the package computes', async () => {
  assert.ok(catalogue.length >= 2, `${catalogue.length} models in the gallery`);
  const page = await openPage();
  const t0 = Date.now();
  await page.waitForFunction(() => document.querySelector('#view canvas, #view svg'), null, { timeout: 30000 });
  console.log(`# first attention map on screen ${Date.now() - t0} ms after the engine was ready`);
  for (const entry of catalogue) {
    await rendered(page, () => page.click(`.model-card[data-model="${entry.name}"]`));
    assert.equal(await page.evaluate(() => document.body.dataset.model), entry.name);
    await page.screenshot({ path: join(shots, `page-${entry.name}.png`), fullPage: true });
    if (entry.type === 'se-cnn') {
      const json = await exportJson(page);
      assert.ok(json.blocks.length > 0, 'channel blocks exported');
      for (const b of json.blocks) assert.ok(b.weights.every((w) => w > 0 && w < 1), `${b.label}: sigmoid weights in (0, 1)`);
      continue;
    }
    const input = entry.examples[0];
    assert.ok(input, `${entry.name} has an example input`);
    assert.equal(await page.inputValue('#input'), input);
    const json = await exportJson(page);
    const ref = nodeReference(entry, input);
    assertRowsClose(heatmapRows(json), ref.rows, `${entry.name} first map, head 1`);
  }
  await page.close();
});

test('the heatmap canvas holds the palette colour of each weight', async () => {
  const entry = catalogue.find((e) => e.type === 'gpt2' || e.type === 'gpt');
  const page = await openPage(`#m=${entry.name}`);
  await page.waitForFunction(() => document.querySelector('#view canvas'));
  const json = await exportJson(page);
  const rows = heatmapRows(json);
  const max = rows.flat().reduce((a, b) => Math.max(a, b), 0);
  const cells = [[0, 0], [rows.length - 1, 0], [rows.length - 1, rows.length - 1], [Math.floor(rows.length / 2), 1]];
  for (const [q, k] of cells) {
    const drawn = await page.evaluate(([q, k]) => window.__playground.heatmapPixel(q, k), [q, k]);
    const want = sequential(rows[q][k] / (json.max ?? max));
    for (let c = 0; c < 3; ++c) assert.ok(Math.abs(drawn[c] - want[c]) <= 2, `cell (${q}, ${k}) weight ${rows[q][k]}: drawn ${drawn} vs ${want}`);
  }
  await page.close();
});

test('every view draws, exports a valid PNG, SVG and JSON, and a link restores it', async () => {
  const lm = catalogue.find((e) => e.type === 'gpt2' || e.type === 'gpt');
  const page = await openPage(`#m=${lm.name}`);
  const views = await page.$$eval('#tabs button', (bs) => bs.map((b) => b.dataset.view));
  assert.ok(views.includes('heatmap') && views.includes('heads') && views.includes('model') && views.includes('rollout') && views.includes('generate'));
  for (const view of views) {
    await rendered(page, () => page.click(`#tab-${view}`));
    await page.screenshot({ path: join(shots, `page-view-${view}.png`), fullPage: true });
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
    const bytes = readFileSync(await png.path());
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${view}: PNG signature`);
    assert.ok(bytes.readUInt32BE(16) > 10 && bytes.readUInt32BE(20) > 10, `${view}: PNG size`);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
    const text = readFileSync(await svg.path(), 'utf8');
    const parsed = await page.evaluate((t) => {
      const d = new DOMParser().parseFromString(t, 'image/svg+xml');
      return { error: d.querySelector('parsererror')?.textContent ?? null, root: d.documentElement.nodeName };
    }, text);
    assert.equal(parsed.error, null, `${view}: SVG parses`);
    assert.equal(parsed.root, 'svg');
    const json = await exportJson(page);
    assert.equal(json.view, view);
  }
  // A link with a state: model view -> heatmap of layer 2, head 2, on another input.
  const input = '5 9 1 30 22 5 9 1 30';
  const hash = `#m=${lm.name}&in=${encodeURIComponent(input)}&v=heatmap&l=1&h=1`;
  const again = await openPage(hash);
  await again.waitForFunction(() => document.querySelector('#view canvas'));
  assert.equal(await again.inputValue('#input'), input);
  assert.equal(await again.$eval('#layer', (s) => s.value), '1');
  assert.equal(await again.$eval('#head', (s) => s.value), '1');
  assert.equal(await again.$eval('#tab-heatmap', (b) => b.getAttribute('aria-selected')), 'true');
  const json = await exportJson(again);
  const m = ap.loadModel(modelFiles(lm));
  const out = m.forward(input, { capture: true });
  const layer1 = out.attentions.find((a) => a.layer === 1);
  const [, T, S] = layer1.weights.shape;
  assertRowsClose(heatmapRows(json), rowsOf(layer1.weights.toArray(), 1, T, S), 'linked view: layer 2, head 2');
  out.dispose();
  m.dispose();
  await page.close();
  await again.close();
});

test('the generation stepper adds the engine\'s seeded token', async () => {
  const entry = catalogue.find((e) => e.name === 'fortunes-char') ?? catalogue.find((e) => e.type === 'gpt2' || e.type === 'gpt');
  const page = await openPage(`#m=${entry.name}&v=generate&t=0.8&s=7`);
  await page.waitForFunction(() => document.querySelector('#view canvas'));
  const prompt = await page.inputValue('#input');
  await rendered(page, () => page.click('#step'));
  const after = await page.inputValue('#input');
  const m = ap.loadModel(modelFiles(entry));
  const ids = m.encode(prompt);
  const r = m.generate(ids, { maxNewTokens: 1, temperature: 0.8, seed: (7 + ids.length) >>> 0 });
  assert.equal(after, m.decode([...ids, ...r.ids]));
  m.dispose();
  await page.screenshot({ path: join(shots, 'page-generate-step.png'), fullPage: true });
  await page.close();
});

test('with a head switched off the page shows the probabilities the package\'s ablateHeads gives', async () => {
  const entry = catalogue.find((e) => e.name === 'induction-2l') ?? catalogue.find((e) => e.type === 'gpt2' || e.type === 'gpt');
  const page = await openPage(`#m=${entry.name}&v=ablation`);
  await page.waitForSelector('.head-toggle');
  await rendered(page, () => page.click('.head-toggle[data-layer="1"][data-head="0"]'));
  assert.equal(await page.$eval('.head-toggle[data-layer="1"][data-head="0"]', (b) => b.getAttribute('aria-pressed')), 'true');
  assert.match(await page.evaluate(() => location.hash), /off=1\.0/);
  const json = await exportJson(page);
  const m = ap.loadModel(modelFiles(entry));
  const probs = (out) => {
    const V = m.vocabSize, last = out.logits.toArray().subarray(out.logits.shape[0] * V - V);
    const max = Math.max(...last), e = Array.from(last, (x) => Math.exp(x - max)), z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  const intact = m.forward(entry.examples[0]);
  m.ablateHeads([{ layer: 1, head: 0 }]);
  const off = m.forward(entry.examples[0]);
  const [pOff, pOn] = [probs(off), probs(intact)];
  for (const [list, p, what] of [[json.ablated, pOff, 'with the head off'], [json.intact.next, pOn, 'intact']]) {
    for (const { id, p: shown } of list) assert.ok(Math.abs(shown - p[id]) < 1e-6, `${what}: token ${id} shown ${shown}, package ${p[id]}`);
  }
  console.log(`# ablated head (1, 0): top token ${json.ablated[0].label} ${json.ablated[0].p.toFixed(3)}, intact ${json.intact.next[0].label} ${json.intact.next[0].p.toFixed(3)}`);
  intact.dispose(); off.dispose(); m.dispose();
  await page.screenshot({ path: join(shots, 'page-ablation.png'), fullPage: true });
  await page.close();
});

test('a broken model file gets a clear message and the page keeps working', async () => {
  const page = await openPage();
  await page.waitForFunction(() => document.querySelector('#view canvas'));
  const entry = catalogue[0];
  const { config, weights } = modelFiles(entry);
  await page.setInputFiles('#files', [
    { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(config) },
    { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(weights.subarray(0, 100)) },
  ]);
  await page.waitForFunction(() => document.getElementById('drop-message').textContent.length > 0);
  const message = await page.textContent('#drop-message');
  assert.match(message, /could not be loaded: loadModel: /);
  await page.screenshot({ path: join(shots, 'page-broken-file.png'), fullPage: true });
  // Still working: the loaded model runs a new input.
  await rendered(page, async () => {
    await page.fill('#input', entry.examples[1] ?? entry.examples[0]);
    await page.click('#run');
  });
  assert.equal(await page.textContent('#run-message'), '');
  // The user's own (valid) files load and run.
  await rendered(page, () => page.setInputFiles('#files', [
    { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(config) },
    { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(weights) },
  ]));
  assert.match(await page.textContent('#drop-message'), /Loaded model\.safetensors/);
  await page.close();
});

test('after one visit the page works offline (service worker)', async () => {
  const page = await openPage();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
  // One visit under the worker's control keeps every file the page fetches.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.querySelector('#view canvas'), null, { timeout: 30000 });
  await browser.context.setOffline(true);
  try {
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.querySelector('#view canvas'), null, { timeout: 30000 });
    assert.match(await page.textContent('#status'), /loaded/);
  } finally {
    await browser.context.setOffline(false);
  }
  await page.close();
});

test('no request left the origin and nothing was logged as an error', () => {
  assert.deepEqual(problems, []);
});
