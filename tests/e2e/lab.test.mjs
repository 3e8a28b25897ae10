// The attention lab (web/lab.html) and the positional-encodings page (web/positions.html)
// in real Chromium. The lab: for several rules, masks and selections
// the numbers of every stage on the page equal what the npm package computes in Node for the
// same inputs (computed here with the package's own calls); a fully masked row is explained;
// a link restores the settings; typed matrices with a wrong row get a message. Positions:
// every encoding and map equals the package's sinusoidalTable / applyRope / alibiBias /
// scaledDotProductAttention in Node. Screenshots go to build/screenshots/lab-*.png.
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
const { labParams, splitHeads, mergeHeads } = await import(pathToFileURL(join(site, 'app/lab_math.mjs')).href);
let server, browser, base, ap;
const problems = [];

before(async () => {
  server = await startServer({ port: 0, mounts: [['/', site]] });
  base = `http://127.0.0.1:${server.address().port}/lab.html`;
  browser = await launchChromium();
  ap = await pkg.init();
  mkdirSync(shots, { recursive: true });
});
after(async () => { await browser?.close(); server?.close(); });

async function open(hash) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(base + hash);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && window.__lab.last(), null, { timeout: 30000 });
  return page;
}

const lastOf = (page) => page.evaluate(() => {
  const { settings, inputs, result } = window.__lab.last();
  const arr = (x) => (x instanceof Float32Array || x instanceof Uint8Array ? Array.from(x) : x);
  return { settings, inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, arr(v)])),
    result: Object.fromEntries(Object.entries(result).map(([k, v]) => [k, arr(v)])) };
});

function maxDiff(a, b, what) {
  assert.equal(a.length, b.length, `${what}: length`);
  let m = 0;
  for (let i = 0; i < a.length; ++i) {
    if (a[i] === b[i]) continue;  // equal infinities included
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

// The package in Node, called directly for the page's inputs.
function nodeStages({ settings: s, inputs: x }, keepBits) {
  const made = [];
  const t = (data, shape, dtype) => { const r = ap.tensor(data, shape, dtype); made.push(r); return r; };
  const opts = { steps: true, selection: s.selection, k: s.k, threshold: s.threshold, renormalize: s.renormalize, seed: s.seed };
  if (keepBits) opts.mask = t(Uint8Array.from(keepBits), [s.L, s.S], 'bool');
  let r, m = null;
  try {
    if (s.rule === 'multihead') {
      const h = s.heads, dh = s.d / h, dvh = s.dv / h;
      r = ap.scaledDotProductAttention(t(splitHeads(Float32Array.from(x.q), s.L, h, dh), [h, s.L, dh]),
        t(splitHeads(Float32Array.from(x.k), s.S, h, dh), [h, s.S, dh]), t(splitHeads(Float32Array.from(x.v), s.S, h, dvh), [h, s.S, dvh]), opts);
      r.mergedOutput = mergeHeads(r.output.toArray(), h, s.L, dvh);
    } else if (s.rule === 'scaled' || s.rule === 'dot') {
      const f = s.rule === 'dot' ? 'dotProductAttention' : 'scaledDotProductAttention';
      r = ap[f](t(x.q, [s.L, s.d]), t(x.k, [x.Lk, s.d]), t(x.v, [s.S, s.dv]), opts);
    } else {
      m = s.rule === 'general' ? new ap.GeneralAttention(s.d, s.d) : new ap.AdditiveAttention(s.d, s.d, s.d);
      m.loadStateDict(labParams(s.rule, s.d, s.S, s.dv, s.seed));
      r = m.forward(t(x.q, [s.L, s.d]), t(x.k, [x.Lk, s.d]), t(x.v, [s.S, s.dv]), opts);
    }
    const out = { output: Array.from(r.mergedOutput ?? r.output.toArray()), weights: Array.from(r.weights.toArray()) };
    for (const [k, v] of Object.entries(r.steps)) out[k] = Array.from(v.toArray());
    r.dispose();
    return out;
  } finally {
    for (const x of made) x.dispose();
    m?.dispose();
  }
}

const CASES = [
  ['scaled, causal mask', 'L=4&S=4&d=4&dv=2&seed=2&rule=scaled&selection=soft&mask=1000110011101111'],
  ['multi-head, padding mask, top-2', 'L=4&S=5&d=4&dv=2&seed=3&rule=multihead&heads=2&selection=top_k&k=2&mask=11110111101111011110'],
  ['general, argmax', 'L=3&S=4&d=3&dv=2&seed=5&rule=general&selection=argmax'],
  ['additive, threshold without renormalising', 'L=3&S=5&d=4&dv=3&seed=7&rule=additive&selection=threshold&threshold=0.2&renorm=0'],
  ['dot, a fully masked row', 'L=3&S=3&d=2&dv=2&seed=4&rule=dot&selection=soft&mask=000110111'],
];

for (const [name, hash] of CASES) {
  test(`lab: ${name}: every stage equals the package in Node`, async () => {
    const page = await open(`#${hash}`);
    const got = await lastOf(page);
    const keep = new URLSearchParams(hash).get('mask');
    const want = nodeStages(got, keep && keep.includes('0') ? Array.from(keep, Number) : null);
    for (const stage of ['scores', 'scaled', 'masked', 'softmax', 'weights', 'output']) {
      const err = maxDiff(got.result[stage], want[stage], `${name}: ${stage}`);
      assert.ok(err === 0, `${name}: ${stage} differs by ${err}`);
    }
    if (name.includes('fully masked')) {
      assert.match(await page.textContent('#steps .note'), /Query 1 can see no key/);
      assert.deepEqual(got.result.weights.slice(0, 3), [0, 0, 0]);
    }
    await page.screenshot({ path: join(shots, `lab-${name.split(',')[0].replace(/\W+/g, '-')}.png`), fullPage: true });
    await page.close();
  });
}

test('lab: clicking a mask cell masks that key; typed matrices are checked', async () => {
  const page = await open('#L=3&S=3&d=2&dv=2&seed=1&rule=scaled&selection=soft');
  const before = Number(await page.evaluate(() => document.body.dataset.renders));
  await page.click('.mask-cell[data-i="0"][data-j="2"]');
  await page.waitForFunction((n) => Number(document.body.dataset.renders) > n, before);
  const got = await lastOf(page);
  assert.equal(got.result.masked[2], -Infinity);
  assert.equal(got.result.weights[2], 0);
  assert.match(await page.evaluate(() => location.hash), /mask=110111111/);
  await page.check('#typed');
  await page.fill('#q-text', '1 0\n0 1 2');
  await page.dispatchEvent('#q-text', 'change');
  await page.waitForFunction(() => document.getElementById('lab-message').textContent.length > 0);
  assert.match(await page.textContent('#lab-message'), /Q: row 2 has 3 numbers, row 1 has 2/);
  await page.close();
  assert.deepEqual(problems, []);
});

for (const [name, text, layer, head] of [['induction-2l', '4 9 2 7 4 9', 2, 1], ['dates-transformer', '5 Mar 1998', 3, 2]]) {
  test(`lab: Q, K, V taken from ${name} (layer ${layer}, head ${head}) reproduce its own attention map`, async () => {
    const page = await open('');
    await page.waitForFunction(() => document.getElementById('fm-model').options.length > 0);
    await page.selectOption('#fm-model', name);
    await page.fill('#fm-text', text);
    await page.fill('#fm-layer', String(layer));
    await page.fill('#fm-head', String(head));
    const before = Number(await page.evaluate(() => document.body.dataset.renders));
    await page.click('#fm-load');
    await page.waitForFunction((n) => Number(document.body.dataset.renders) > n && window.__lab.modelWeights(), before, { timeout: 30000 });
    const got = await lastOf(page);
    assert.equal(got.settings.rule, 'scaled');
    // The model in Node: the same map (a seq2seq model's cross-attention over its greedy output).
    const entry = JSON.parse(readFileSync(join(site, 'models/index.json'), 'utf8')).models.find((m) => m.name === name);
    const dir = join(site, entry.path);
    const m = ap.loadModel({ config: readFileSync(join(dir, 'config.json'), 'utf8'), weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))) });
    let out;
    if (entry.type === 'encoder-decoder') {
      const src = m.encode(text, 'source');
      out = m.forward(src, Int32Array.from([m.config.bos_id, ...m.translate(src).ids]), { capture: true });
    } else {
      out = m.forward(text, { capture: true });
    }
    const map = out.attentions.filter((a) => a.layer === layer - 1).at(-1);  // the decoder's cross map comes last
    const [, L, S] = map.weights.shape;
    const want = Array.from(map.weights.toArray().subarray((head - 1) * L * S, head * L * S));
    out.dispose();
    m.dispose();
    assert.equal(got.settings.L, L);
    assert.equal(got.settings.S, S);
    const err = maxDiff(got.result.weights, want, 'lab weights vs the model\'s map');
    console.log(`# lab from ${name} layer ${layer} head ${head}: max |lab - model| = ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `max error ${err}`);
    await page.screenshot({ path: join(shots, `lab-from-${name}.png`), fullPage: true });
    await page.close();
  });
}

test('positions: every encoding and its attention map equal the package in Node', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${base.replace('lab.html', 'positions.html')}#n=12&d=8&seed=3&causal=1`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && window.__positions.last(), null, { timeout: 30000 });
  const r = await page.evaluate(() => {
    const x = window.__positions.last(), arr = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.from(v)]));
    return { encodings: arr(x.encodings), maps: arr(x.maps) };
  });
  const n = 12, d = 8;
  const eq = (got, t, what) => { const want = Array.from(t.toArray()); t.dispose(); assert.deepEqual(got, want, what); };
  eq(r.encodings.sinusoidal, ap.sinusoidalTable(n, d), 'sinusoidal table');
  const ones = ap.tensor(new Float32Array(n * d).fill(1), [n, d]);
  eq(r.encodings.rope, ap.applyRope(ones), 'RoPE of ones');
  const alibi = ap.alibiBias(8, n, n);
  assert.deepEqual(r.encodings.alibi, Array.from(alibi.toArray().subarray(0, n * n)), 'ALiBi head 1 of 8');
  // The map with RoPE: the same seeded q, k, rotated, causal.
  const { rng } = await import(pathToFileURL(join(site, 'app/lab_math.mjs')).href);
  const random = rng(3), rand = () => Float32Array.from({ length: n * d }, () => random() * 2 - 1);
  const q = ap.tensor(rand(), [n, d]), k = ap.tensor(rand(), [n, d]), v = ap.tensor(new Float32Array(n).fill(1), [n, 1]);
  const rq = ap.applyRope(q), rk = ap.applyRope(k);
  const res = ap.scaledDotProductAttention(rq, rk, v, { causal: true });
  assert.deepEqual(r.maps.rope, Array.from(res.weights.toArray()), 'attention map with RoPE');
  const plain = ap.scaledDotProductAttention(q, k, v, { causal: true });
  assert.deepEqual(r.maps.none, Array.from(plain.weights.toArray()), 'attention map without positions');
  for (const t of [ones, alibi, q, k, v, rq, rk]) t.dispose();
  res.dispose(); plain.dispose();
  await page.screenshot({ path: join(shots, 'lab-positions.png'), fullPage: true });
  await page.close();
  assert.deepEqual(problems, []);
});
