// This package: its dist/ (what `npm pack` ships; scripts/bench.sh builds it), or the package
// directory in ATTN_BENCH_PACKAGE (e.g. build/pkg-test/node_modules/attention-playground).
// MHA: ap.MultiheadAttention with per-head weights; GPT: ap.loadModel (Hugging Face layout),
// forward(ids, { position }) over the KV cache. There is no JS encoder-layer API yet.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TRAIN, root } from './common.mjs';

export const dir = process.env.ATTN_BENCH_PACKAGE ?? root;
export const wasmFiles = [join(dir, 'dist/attention_playground.wasm')];
export const version = (await import(pathToFileURL(join(dir, 'package.json')).href, { with: { type: 'json' } })).default.version;

export async function load() {
  const pkg = await import(pathToFileURL(join(dir, 'dist/index.mjs')).href);
  const ap = await pkg.init({ maxCallWork: Infinity });
  return { name: 'package', version: `${version} (${ap.simdArch})`, setup: (w, data) => setup(ap, w, data) };
}

function setup(ap, w, data) {
  if (w.kind === 'enc') return null;  // no JS encoder-layer API
  if (w.kind === 'train') {
    const { task, length, layers, heads, dModel, batch } = TRAIN;
    const t = ap.createTrainer({ task, length, layers, heads, dModel, batch, seed: 1 });
    return {
      iterate() { const t0 = performance.now(); t.step(); return performance.now() - t0; },
      outputs() { return {}; },
      dispose() { t.dispose(); },
    };
  }
  if (w.kind === 'mha') {
    const t = data.tensors;
    const mha = new ap.MultiheadAttention({ embedDim: w.D, numHeads: w.H });
    const dict = {};
    for (const [k, v] of Object.entries(t)) if (k.startsWith('w.')) dict[k.slice(2)] = ap.tensor(v.data, v.shape);
    mha.eval().loadStateDict(dict);
    Object.values(dict).forEach((x) => x.dispose());
    const x = ap.tensor(t['in.x'].data, t['in.x'].shape);
    const opts = { needWeights: true, averageAttnWeights: false };
    const run = () => mha.forward(x, x, x, opts);
    return {
      iterate() {
        const t0 = performance.now();
        const r = run();
        r.output.view(); r.weights.view();  // the outputs in JS's hands (views: no copy)
        const ms = performance.now() - t0;
        r.dispose();
        return ms;
      },
      outputs() { const r = run(); try { return { out: r.output.toArray(), weights: r.weights.toArray() }; } finally { r.dispose(); } },
      dispose() { x.dispose(); mha.dispose(); },
    };
  }
  const lm = ap.loadModel({ config: data.config, weights: new Uint8Array(data.weightsBytes) });
  const { prompt, tokens } = data;
  const prefill = () => lm.forward(prompt, { position: 0 });
  if (w.kind === 'gpt_prefill') {
    return {
      iterate() { const t0 = performance.now(); const o = prefill(); o.logits.view(); const ms = performance.now() - t0; o.dispose(); return ms; },
      outputs() { const o = prefill(); try { return { logits: o.logits.toArray() }; } finally { o.dispose(); } },
      dispose() { lm.dispose(); },
    };
  }
  // Decode: the prompt untimed, then one token per step (teacher forced, so every engine does
  // the same work and the logits can be checked), each step's logits read in JS.
  const decode = (sink) => {
    prefill().dispose();
    const t0 = performance.now();
    for (let j = 0; j < tokens.length; ++j) {
      const o = lm.forward(tokens.subarray(j, j + 1), { position: prompt.length + j });
      const logits = o.logits.view();
      if (sink) sink.set(logits, j * logits.length);
      o.dispose();
    }
    return performance.now() - t0;
  };
  return {
    iterate: () => decode(null),
    outputs() { const all = new Float32Array(tokens.length * lm.vocabSize); decode(all); return { logits: all }; },
    dispose() { lm.dispose(); },
  };
}
