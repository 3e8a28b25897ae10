// The packed package through a bundler: a tiny Vite app imports it by name and
// its .wasm through the package's "exports" map (?url), is built with
// `vite build`, served statically and run in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../js/helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

test('a Vite build of an app that imports the package runs in Chromium', async () => {
  const app = mkdtempSync(join(tmpdir(), 'attn-vite-'));
  let server, browser;
  try {
    mkdirSync(join(app, 'src'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(join(root, 'build/pkg-test/node_modules/attention-playground'), join(app, 'node_modules/attention-playground'));
    writeFileSync(join(app, 'package.json'), '{ "name": "vite-app", "private": true, "type": "module" }');
    writeFileSync(join(app, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>'
      + '<body><p id="out">loading</p><script type="module" src="/src/main.js"></script></body></html>');
    writeFileSync(join(app, 'src/main.js'), `
      import { init } from 'attention-playground';
      import wasmUrl from 'attention-playground/attention_playground.wasm?url';
      const ap = await init({ wasmUrl });
      const q = ap.tensor([1, 0, 0, 1], [1, 2, 2]);
      const r = ap.scaledDotProductAttention(q, q, q, { scale: 1 });
      document.getElementById('out').textContent = JSON.stringify(Array.from(r.weights.toArray()));
    `);
    const log = execFileSync(join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.doesNotMatch(log, /externalized|error/i);
    server = await startServer({ port: 0, mounts: [['/', join(app, 'dist')]] });
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading', null, { timeout: 20000 });
    const weights = JSON.parse(await page.textContent('#out'));
    // softmax([1, 0]) = [e/(e+1), 1/(e+1)], computed here independently.
    const a = Math.E / (Math.E + 1), b = 1 / (Math.E + 1);
    [a, b, b, a].forEach((w, i) => assert.ok(Math.abs(weights[i] - w) < 1e-6, `weight ${i}: ${weights[i]} vs ${w}`));
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    server?.close();
    rmSync(app, { recursive: true, force: true });
  }
});
