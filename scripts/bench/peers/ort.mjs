// onnxruntime-web, wasm execution provider, one thread, on the graphs export_onnx.py exported from
// the PyTorch twins. GPT decode feeds each step's present key/values back as past_key_values,
// as transformers.js decodes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { GPT, dataDir } from './common.mjs';

const require = createRequire(import.meta.url);
const main = require.resolve('onnxruntime-web');  // its exports map hides package.json
const dist = main.slice(0, main.lastIndexOf('/dist/'));
export const wasmFiles = [join(dist, 'dist/ort-wasm-simd-threaded.wasm')];
export const version = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')).version;

export async function load() {
  ort.env.wasm.numThreads = 1;
  return { name: 'ort', version, setup };
}

const session = (file) => ort.InferenceSession.create(readFileSync(join(dataDir, file)),
  { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const ids = (a) => new ort.Tensor('int64', BigInt64Array.from(a, BigInt), [1, a.length]);

async function setup(w, data) {
  if (w.kind === 'train') return null;  // onnxruntime-web has no training API (its on-device training was removed)
  if (w.kind === 'mha' || w.kind === 'enc') {
    const s = await session(`${w.name}.onnx`);
    const x = data.tensors['in.x'];
    const feeds = { x: new ort.Tensor('float32', x.data, x.shape) };
    return {
      async iterate() { const t0 = performance.now(); await s.run(feeds); return performance.now() - t0; },
      async outputs() { const r = await s.run(feeds); return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data])); },
      dispose: () => s.release(),
    };
  }
  const pre = await session('gpt_prefill.onnx');
  const { prompt, tokens } = data;
  const promptIds = ids(prompt);
  if (w.kind === 'gpt_prefill') {
    return {
      async iterate() { const t0 = performance.now(); await pre.run({ input_ids: promptIds }); return performance.now() - t0; },
      async outputs() { return { logits: (await pre.run({ input_ids: promptIds })).logits.data }; },
      dispose: () => pre.release(),
    };
  }
  const dec = await session('gpt_decode.onnx');
  const pastNames = dec.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const decode = async (sink) => {
    let r = await pre.run({ input_ids: promptIds });
    const t0 = performance.now();
    for (let j = 0; j < tokens.length; ++j) {
      const feeds = { input_ids: ids(tokens.subarray(j, j + 1)), position_ids: ids([prompt.length + j]) };
      for (const n of pastNames) feeds[n] = r[n.replace('past_key_values', 'present')];
      r = await dec.run(feeds);
      if (sink) sink.set(r.logits.data, j * r.logits.data.length);
    }
    return performance.now() - t0;
  };
  return {
    iterate: () => decode(null),
    async outputs() { const all = new Float32Array(tokens.length * GPT.V); await decode(all); return { logits: all }; },
    dispose: () => { pre.release(); dec.release(); },
  };
}
