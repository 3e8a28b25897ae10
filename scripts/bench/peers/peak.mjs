// The measured wasm SIMD ceiling: scripts/bench/peak.wat (f32x4 mul + add chains) compiled by
// wat2wasm into build/bench/peak.wasm; GFLOP/s = 8 FLOP x 12 chains x iterations / time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, timeLoop } from './common.mjs';

const CHAINS = 12, ITERS = 1 << 22;

export async function measure({ warmupS, measureS }) {
  const file = join(root, 'build/bench/peak.wasm');
  const { instance } = await WebAssembly.instantiate(readFileSync(file));
  const madd = instance.exports.madd;
  let sink = 0;
  // m < 1 and c small keep every chain finite (no denormal or overflow slow paths).
  const ms = await timeLoop(() => { const t0 = performance.now(); sink += madd(ITERS, 0.999, 0.001); return performance.now() - t0; },
    { warmupS, measureS, minIters: 5 });
  if (!Number.isFinite(sink)) throw new Error('peak: non-finite result');
  const best = Math.min(...ms);
  return { gflops: (8 * CHAINS * ITERS) / (best * 1e6), ms: best };
}
