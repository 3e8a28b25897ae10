// Real Chromium (Debian's, driven by playwright-core): the packed package in a
// page, in a Web Worker and behind init({ wasmUrl }), checked against Node (the
// playground page itself: page.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pkg, root } from '../js/helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

let server, browser, context, base;
const consoleErrors = [];

before(async () => {
  server = await startServer({ port: 0, mounts: [
    ['/pkg/', join(root, 'build/pkg-test/node_modules/attention-playground')],
    ['/e2e/', join(root, 'tests/e2e')],
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

test('those pages logged no console error', () => {
  assert.deepEqual(consoleErrors, []);
});
