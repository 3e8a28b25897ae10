// Real Chromium (Debian's, driven by playwright-core): the packed package in a
// page, in a Web Worker and behind init({ wasmUrl }), checked against Node; and
// the playground page itself, with a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, root } from '../js/helpers.mjs';
import { startServer, defaultMounts } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

let server, browser, context, base;
const consoleErrors = [];

before(async () => {
  server = await startServer({ port: 0, mounts: [
    ['/pkg/', join(root, 'build/pkg-test/node_modules/attention-playground')],
    ['/e2e/', join(root, 'tests/e2e')],
    ...defaultMounts,
  ] });
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
  context = browser.context;
});

after(async () => {
  await browser?.close();
  server?.close();
});

function sampleCase() {
  const L = 6, S = 6, E = 8;
  const f = (n, s) => Array.from({ length: n }, (_, i) => Math.sin(s + i * 0.7) * 2);
  return { q: f(L * E, 1), k: f(S * E, 2), v: f(S * 3, 3), qShape: [1, L, E], kShape: [1, S, E], vShape: [1, S, 3], causal: true };
}

async function nodeResult(data) {
  const ap = await pkg.init();
  const q = ap.tensor(new Float32Array(data.q), data.qShape), k = ap.tensor(new Float32Array(data.k), data.kShape);
  const v = ap.tensor(new Float32Array(data.v), data.vShape);
  const r = ap.scaledDotProductAttention(q, k, v, { causal: data.causal });
  const out = { output: Array.from(r.output.toArray()), weights: Array.from(r.weights.toArray()) };
  for (const t of [q, k, v, r.output, r.weights]) t.dispose();
  return out;
}

async function openPage(path) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${path}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${path}: ${e.message}`));
  await page.goto(base + path);
  return page;
}

test('the package in a page gives the same numbers as in Node, and its errors', async () => {
  const page = await openPage('/e2e/page.html');
  await page.waitForFunction(() => document.getElementById('out').textContent === 'ready');
  const data = sampleCase();
  const inPage = await page.evaluate((d) => window.runCase(d), data);
  const node = await nodeResult(data);
  assert.equal(inPage.simd, true);
  assert.deepEqual(inPage.output, node.output, 'output identical in Chromium and Node');
  assert.deepEqual(inPage.weights, node.weights);
  assert.equal(inPage.weights[1], 0, 'causal');
  assert.match(inPage.error, /key has 3 features but query has 8/);
  await page.close();
});

test('the package runs in a Web Worker and with an explicit wasmUrl', async () => {
  const page = await openPage('/e2e/page.html');
  await page.waitForFunction(() => document.getElementById('out').textContent === 'ready');
  const data = sampleCase();
  const worker = await page.evaluate((d) => window.runInWorker(d), data);
  assert.deepEqual(worker, await nodeResult(data));
  assert.match(await page.evaluate(() => window.initWithWasmUrl()), /^\d+\.\d+\.\d+$/);
  await page.close();
});

test('the playground page loads the engine and draws attention weights', async () => {
  const page = await openPage('/');
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20000 });
  assert.match(await page.textContent('#status'), /WebAssembly SIMD/);
  const maxWeight = Number(await page.evaluate(() => document.body.dataset.maxWeight));
  assert.ok(maxWeight > 0 && maxWeight <= 1, `max weight ${maxWeight}`);
  // The heatmap is drawn: the canvas holds more than one colour.
  const colours = await page.evaluate(() => {
    const c = document.getElementById('heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return seen.size;
  });
  assert.ok(colours > 3, `heatmap has ${colours} colours`);
  await page.check('#causal');
  await page.waitForFunction(() => document.getElementById('legend').textContent.includes('causal'));
  mkdirSync(join(root, 'build/screenshots'), { recursive: true });
  await page.screenshot({ path: join(root, 'build/screenshots/playground.png'), fullPage: true });
  await page.close();
  assert.deepEqual(consoleErrors, []);
});
