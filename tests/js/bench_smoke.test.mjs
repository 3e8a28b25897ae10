// Smoke test of `npm run bench` (scripts/bench/run.mjs): the smallest workload (MHA L=64 D=128
// H=4), one round, no warm-up, on the committed inputs in scripts/bench/data (weights, ONNX graph
// and reference outputs written by scripts/bench/export_onnx.py from PyTorch). Asserts only that
// every engine produced outputs within the benchmark's tolerance of the reference and that the
// report files were written; never a timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './helpers.mjs';

test('npm run bench, smallest shape, one round: every engine matches the PyTorch reference', () => {
  const out = join(root, 'build/bench/smoke');
  execFileSync(process.execPath, [join(root, 'scripts/bench/run.mjs'), '--filter', 'mha_64_128_4', '--rounds', '1',
    '--warmup', '0', '--measure', '0', '--no-native', '--out', out], {
    env: { ...process.env, ATTN_BENCH_DATA: join(root, 'scripts/bench/data'),
      ATTN_BENCH_PACKAGE: join(root, 'build/pkg-test/node_modules/attention-playground') },
    stdio: ['ignore', 'pipe', 'inherit'], timeout: 50_000,
  });
  const result = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  assert.equal(result.rows.length, 1);
  const [row] = result.rows;
  assert.equal(row.workload, 'mha_64_128_4');
  assert.deepEqual(Object.keys(row.engines).sort(), ['ort', 'package', 'tfjs']);
  for (const [engine, r] of Object.entries(row.engines)) {
    assert.equal(r.failed, undefined, `${engine}: ${r.failed}`);
    assert.deepEqual(Object.keys(r.maxAbsError).sort(), ['out', 'weights'], engine);
    for (const [name, e] of Object.entries(r.maxAbsError)) {
      assert.ok(e.ok && e.maxAbs <= result.method.tolerance.mha.atol + result.method.tolerance.mha.rtol, `${engine} ${name}: max abs error ${e.maxAbs}`);
      console.log(`bench smoke: ${engine} ${name} max abs error ${e.maxAbs.toExponential(2)}`);
    }
  }
  assert.match(readFileSync(`${out}.svg`, 'utf8'), /^<svg [^>]*>[\s\S]*MHA L=64 D=128 H=4[\s\S]*<\/svg>\n$/);
});
