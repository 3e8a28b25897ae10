// scripts/serve.mjs (the playground's static server): bad URLs answer 400 and the
// server keeps serving; paths cannot escape a mount; files go out with their MIME
// type. Loopback only, port 0, every request bounded by a timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, defaultMounts } from '../../scripts/serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
let server, port, tmp;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ap-serve-'));
  writeFileSync(join(tmp, 'm.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  server = await startServer({ port: 0, host: '127.0.0.1', mounts: [['/t/', tmp], ...defaultMounts] });
  port = server.address().port;
});

after(() => {
  server?.closeAllConnections();
  server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** GET with the path sent verbatim (fetch() would normalise `..` away before sending). */
function get(path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

test('a malformed URL gets 400 and the server keeps answering', async () => {
  for (const path of ['/%E0%A4', '/%', '/dist/%zz', '/index.html%E0%A4?x=1']) {
    assert.equal((await get(path)).status, 400, path);
  }
  const r = await get('/index.html');
  assert.equal(r.status, 200, 'still serving after bad requests');
});

test('paths that escape a mount get 404', async () => {
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json', '/dist/../package.json',
    '/dist/%2e%2e/package.json', '/t/..%2f..%2fetc%2fpasswd', '/..%5cpackage.json', '/%00', '/nope.html']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.ok(!r.body.toString().includes('"name"'), `${path} leaked a file`);
  }
});

test('real files get 200 with their content type', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.type, 'text/html; charset=utf-8');
  assert.deepEqual(page.body, readFileSync(join(root, 'build/site/index.html')));
  const js = await get('/app/main.mjs?v=1');
  assert.equal(js.status, 200);
  assert.equal(js.type, 'text/javascript');
  const wasm = await get('/t/m.wasm');
  assert.equal(wasm.status, 200);
  assert.equal(wasm.type, 'application/wasm');
  assert.equal(wasm.body.length, 8);
});
