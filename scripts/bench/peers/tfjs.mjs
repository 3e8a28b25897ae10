// @tensorflow/tfjs with @tensorflow/tfjs-backend-wasm (SIMD, one thread): the same computations in
// tfjs ops. Only plain 2-D matMuls with pre-transposed weights: tfjs-wasm 4.22 falls back to a naive
// kernel for transposed or batched operands (and tf.fused.matMul with transposeB + bias returned
// wrong results), so K is kept transposed (Kᵀ = W_k Xᵀ, a (D, L) matrix whose head slices are rows)
// and heads are 2-D slices. Outputs are read with dataSync (a copy into JS).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GPT } from './common.mjs';

const require = createRequire(import.meta.url);
const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
export const wasmFiles = [join(dist, 'tfjs-backend-wasm-simd.wasm')];
export const version = JSON.parse(readFileSync(join(dist, '../package.json'), 'utf8')).version;

export async function load() {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  setWasmPaths(`${dist}/`);
  await tf.setBackend('wasm');
  await tf.ready();
  if (tf.getBackend() !== 'wasm' || !(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('tfjs: no SIMD wasm backend');
  return { name: 'tfjs', version, setup };
}

const T2 = (t) => tf.tensor2d(t.data, t.shape);

/** nn.MultiheadAttention's self-attention on x (L, D): { out (L, D), weights (H, L, L) }. */
function attention(x, p, H) {
  const [L, D] = x.shape, hs = D / H;
  const q = tf.mul(tf.add(tf.matMul(x, p.wqT), p.bq), 1 / Math.sqrt(hs));
  const kT = tf.add(tf.matMul(p.wk, tf.transpose(x)), p.bkCol);     // (D, L)
  const v = tf.add(tf.matMul(x, p.wvT), p.bv);
  const probs = [], heads = [];
  for (let h = 0; h < H; ++h) {
    const pr = tf.softmax(tf.matMul(tf.slice(q, [0, h * hs], [L, hs]), tf.slice(kT, [h * hs, 0], [hs, L])));
    probs.push(pr);
    heads.push(tf.matMul(pr, tf.slice(v, [0, h * hs], [L, hs])));
  }
  return { out: tf.add(tf.matMul(tf.concat(heads, 1), p.woT), p.bo), weights: tf.stack(probs) };
}

/** The in_proj/out_proj weights of a torch MultiheadAttention state dict, pre-transposed. */
function mhaParams(t, prefix, D) {
  const w = t[`${prefix}in_proj_weight`].data, b = t[`${prefix}in_proj_bias`].data;
  const rows = (i) => tf.tensor2d(w.subarray(i * D * D, (i + 1) * D * D), [D, D]);
  return tf.tidy(() => ({
    wqT: tf.transpose(rows(0)), wk: rows(1), wvT: tf.transpose(rows(2)),
    bq: tf.tensor1d(b.subarray(0, D)), bkCol: tf.tensor2d(b.subarray(D, 2 * D), [D, 1]), bv: tf.tensor1d(b.subarray(2 * D)),
    woT: tf.transpose(T2(t[`${prefix}out_proj.weight`])), bo: tf.tensor1d(t[`${prefix}out_proj.bias`].data),
  }));
}

function layerNorm(x, g, b, eps = 1e-5) {
  const { mean, variance } = tf.moments(x, 1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
}
const geluErf = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
const geluTanh = (x) => tf.mul(tf.mul(x, 0.5),
  tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));

function timed(run, names) {
  return {
    iterate() {
      const t0 = performance.now();
      const r = run();
      for (const n of names) r[n].dataSync();
      const ms = performance.now() - t0;
      tf.dispose(r);
      return ms;
    },
    outputs() { const r = run(); const o = Object.fromEntries(names.map((n) => [n, r[n].dataSync()])); tf.dispose(r); return o; },
  };
}

function setup(w, data) {
  if (w.kind === 'train') return null;  // not ported: the GPT's training step would need its own tfjs model (README)
  if (w.kind === 'mha' || w.kind === 'enc') {
    const t = data.tensors, { L, D, H } = w;
    const x = tf.tensor2d(t['in.x'].data, [L, D]);
    const p = mhaParams(t, w.kind === 'mha' ? 'w.' : 'w.self_attn.', D);
    let run, names;
    if (w.kind === 'mha') {
      run = () => tf.tidy(() => attention(x, p, H));
      names = ['out', 'weights'];
    } else {
      const f = tf.tidy(() => ({
        g1: tf.tensor1d(t['w.norm1.weight'].data), b1: tf.tensor1d(t['w.norm1.bias'].data),
        g2: tf.tensor1d(t['w.norm2.weight'].data), b2: tf.tensor1d(t['w.norm2.bias'].data),
        w1T: tf.transpose(T2(t['w.linear1.weight'])), c1: tf.tensor1d(t['w.linear1.bias'].data),
        w2T: tf.transpose(T2(t['w.linear2.weight'])), c2: tf.tensor1d(t['w.linear2.bias'].data),
      }));
      Object.assign(p, f);
      run = () => tf.tidy(() => {
        const h = tf.add(x, attention(layerNorm(x, f.g1, f.b1), p, H).out);
        const m = tf.add(tf.matMul(geluErf(tf.add(tf.matMul(layerNorm(h, f.g2, f.b2), f.w1T), f.c1)), f.w2T), f.c2);
        return { out: tf.add(h, m) };
      });
      names = ['out'];
    }
    return { ...timed(run, names), dispose: () => tf.dispose([x, p]) };
  }
  return gptSetup(w, data);
}

function gptSetup(w, data) {
  const { NL, NH, C } = GPT, hs = C / NH;
  const t = data.weights, key = (k) => t[`transformer.${k}`] ?? t[k];
  const vec = (k) => tf.tensor1d(key(k).data), mat = (k) => T2(key(k));  // HF Conv1D weights are (in, out) already
  const p = tf.tidy(() => ({
    wte: mat('wte.weight'), wpe: mat('wpe.weight'), wteT: tf.transpose(mat('wte.weight')),
    lnfG: vec('ln_f.weight'), lnfB: vec('ln_f.bias'),
    layers: Array.from({ length: NL }, (_, i) => Object.fromEntries(
      ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
        'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']
        .map((k) => [k, k.endsWith('weight') && !k.startsWith('ln') ? mat(`h.${i}.${k}`) : vec(`h.${i}.${k}`)]))),
  }));
  // ids at positions pos0.. over the caches (per layer: kT (C, S), v (S, C)); returns logits and the new caches.
  const forward = (ids, pos0, cache) => tf.tidy(() => {
    const T = ids.length;
    const idx = tf.tensor1d(ids, 'int32');
    let x = tf.add(tf.gather(p.wte, idx), tf.gather(p.wpe, tf.range(pos0, pos0 + T, 1, 'int32')));
    const S = pos0 + T;
    const mask = T > 1 ? tf.tensor2d(Float32Array.from({ length: T * S }, (_, e) => (e % S <= Math.floor(e / S) + pos0 ? 0 : -Infinity)), [T, S]) : null;
    const next = [];
    p.layers.forEach((l, i) => {
      const a = layerNorm(x, l['ln_1.weight'], l['ln_1.bias']);
      const qkv = tf.add(tf.matMul(a, l['attn.c_attn.weight']), l['attn.c_attn.bias']);
      const q = tf.mul(tf.slice(qkv, [0, 0], [T, C]), 1 / Math.sqrt(hs));
      const kNewT = tf.transpose(tf.slice(qkv, [0, C], [T, C]));
      const vNew = tf.slice(qkv, [0, 2 * C], [T, C]);
      const kT = cache ? tf.concat([cache[i].kT, kNewT], 1) : kNewT;
      const v = cache ? tf.concat([cache[i].v, vNew], 0) : vNew;
      next.push({ kT, v });
      const heads = [];
      for (let h = 0; h < NH; ++h) {
        let s = tf.matMul(tf.slice(q, [0, h * hs], [T, hs]), tf.slice(kT, [h * hs, 0], [hs, S]));
        if (mask) s = tf.add(s, mask);
        heads.push(tf.matMul(tf.softmax(s), tf.slice(v, [0, h * hs], [S, hs])));
      }
      x = tf.add(x, tf.add(tf.matMul(tf.concat(heads, 1), l['attn.c_proj.weight']), l['attn.c_proj.bias']));
      const m = geluTanh(tf.add(tf.matMul(layerNorm(x, l['ln_2.weight'], l['ln_2.bias']), l['mlp.c_fc.weight']), l['mlp.c_fc.bias']));
      x = tf.add(x, tf.add(tf.matMul(m, l['mlp.c_proj.weight']), l['mlp.c_proj.bias']));
    });
    return { logits: tf.matMul(layerNorm(x, p.lnfG, p.lnfB), p.wteT), cache: next };
  });
  const { prompt, tokens } = data;
  if (w.kind === 'gpt_prefill') {
    return { ...timed(() => forward(prompt, 0, null), ['logits']), dispose: () => tf.dispose(p) };
  }
  const decode = (sink) => {
    let r = forward(prompt, 0, null);
    tf.dispose(r.logits);
    const t0 = performance.now();
    for (let j = 0; j < tokens.length; ++j) {
      const n = forward(tokens.subarray(j, j + 1), prompt.length + j, r.cache);
      tf.dispose(r.cache);
      const logits = n.logits.dataSync();
      if (sink) sink.set(logits, j * logits.length);
      tf.dispose(n.logits);
      r = n;
    }
    const ms = performance.now() - t0;
    tf.dispose(r.cache);
    return ms;
  };
  return {
    iterate: () => decode(null),
    outputs() { const all = new Float32Array(tokens.length * GPT.V); decode(all); return { logits: all }; },
    dispose: () => tf.dispose(p),
  };
}
