// The Train page (web/train.html) in real Chromium: a short live run in the Worker lowers
// the loss and updates the probe maps; the page stays responsive while it trains (the
// longest gap between animation frames is measured and printed, not asserted: tests never
// assert timings); the step losses equal the package's Trainer in Node for the same
// settings; the downloaded model is a valid config + safetensors that loads in Node and gives
// the probe's maps; "open in the model views" reopens it on the main page with the same maps.
// Screenshots: build/screenshots/train-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, root } from '../js/helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

const site = join(root, 'build/site');
const shots = join(root, 'build/screenshots');
let server, browser, base, ap;
const problems = [];

before(async () => {
  server = await startServer({ port: 0, mounts: [['/', site]] });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchChromium();
  ap = await pkg.init();
  mkdirSync(shots, { recursive: true });
});
after(async () => { await browser?.close(); server?.close(); });

test('live training lowers the loss, updates the probe maps, and matches the package', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  const hash = '#task=copy&length=4&layers=2&heads=2&dModel=32&optimizer=adamw&lr=0.003&batch=16&clip=norm&clipA=1&seed=7';
  await page.goto(`${base}train.html${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && window.__train.snapshot(), null, { timeout: 30000 });
  const mapsBefore = await page.evaluate(() => Array.from(window.__train.snapshot().probe.maps[0].weights));
  await page.click('#play');
  await page.waitForFunction(() => window.__train.series().loss.length >= 200 && window.__train.series().evalAcc.length >= 2, null, { timeout: 60000 });
  await page.click('#play');  // pause
  await page.waitForFunction(() => !window.__train.running());
  const s = await page.evaluate(() => ({ ...window.__train.series(), maps: Array.from(window.__train.snapshot().probe.maps[0].weights),
    counters: document.getElementById('counters').textContent }));
  console.log(`# ${s.counters}`);
  const first = s.loss.slice(0, 10).reduce((a, [, l]) => a + l, 0) / 10, last = s.loss.slice(-10).reduce((a, [, l]) => a + l, 0) / 10;
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  assert.ok(s.evalAcc.at(-1)[1] > s.evalAcc[0][1], 'held-out accuracy rose');
  assert.notDeepEqual(s.maps, mapsBefore, 'the probe maps changed as the model trained');
  // The same settings through the package in Node: the same losses, step by step.
  const t = ap.createTrainer({ task: 'copy', length: 4, layers: 2, heads: 2, dModel: 32, optimizer: 'adamw', lr: 0.003, batch: 16,
    clip: { mode: 'norm', maxNorm: 1 }, seed: 7 });
  for (let i = 0; i < 20; ++i) assert.equal(t.step().loss, s.loss[i][1], `step ${i + 1}`);
  t.dispose();
  await page.screenshot({ path: join(shots, 'train-page.png'), fullPage: true });

  // Download: config.json + model.safetensors that load in Node and give the page's probe maps.
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('#download');
  await page.waitForFunction(() => true);
  for (let i = 0; i < 50 && downloads.length < 2; ++i) await page.waitForTimeout(100);
  assert.equal(downloads.length, 2);
  const byName = Object.fromEntries(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync(await d.path())])));
  const config = JSON.parse(byName['config.json'].toString('utf8'));
  assert.equal(config.model_type, 'gpt2');
  const m = ap.loadModel({ config, weights: new Uint8Array(byName['model.safetensors']) });
  const probe = await page.evaluate(() => ({ tokens: window.__train.snapshot().probe.tokens, maps: Array.from(window.__train.snapshot().probe.maps[1].weights) }));
  const out = m.forward(probe.tokens.join(' '), { capture: true });
  assert.deepEqual(Array.from(out.attentions[1].weights.toArray()), probe.maps, 'the downloaded model gives the page\'s probe maps');
  out.dispose();
  m.dispose();

  // Open in the model views: the main page loads it and shows the same layer-2 head-1 map.
  await page.click('#open');
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.body.dataset.model === 'trained', null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#view canvas'));
  assert.equal(await page.inputValue('#input'), probe.tokens.join(' '));
  await page.screenshot({ path: join(shots, 'train-opened.png'), fullPage: true });
  await page.close();
  assert.deepEqual(problems, []);
});
