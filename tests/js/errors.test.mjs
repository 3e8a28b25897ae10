// Bad input throws an Error naming the argument and the problem, and the engine
// stays usable afterwards; dispose() semantics; no leaks over 10,000 cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkg } from './helpers.mjs';

const ap = await pkg.init();
const rand = (shape, seed = 1) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return ap.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i)), shape);
};

function usable() {
  const q = rand([1, 3, 4]);
  const r = ap.scaledDotProductAttention(q, q, q);
  const ok = r.output.shape.join() === '1,3,4';
  r.output.dispose(); r.weights.dispose(); q.dispose();
  return ok;
}

test('wrong shapes name the argument and both shapes', () => {
  const q = rand([2, 5, 32]), k = rand([2, 7, 64]), v = rand([2, 7, 8]);
  assert.throws(() => ap.scaledDotProductAttention(q, k, v), { message: /key has 64 features but query has 32/ });
  assert.ok(usable());
  const mha = new ap.MultiheadAttention({ embedDim: 8, numHeads: 2 });
  assert.throws(() => mha.forward(q, q, q), { message: /query has 32 features but embed_dim is 8/ });
  const q8 = rand([5, 2, 8]);
  const badAttnMask = ap.tensor(new Uint8Array(6), [2, 3], 'bool'), badKpm = ap.tensor(new Uint8Array(5), [5], 'bool');
  assert.throws(() => mha.forward(q8, q8, q8, { attnMask: badAttnMask }), { message: /attn_mask should have shape \[5, 5\]/ });
  assert.throws(() => mha.forward(q8, q8, q8, { keyPaddingMask: badKpm }), { message: /key_padding_mask should have shape \[2, 5\]/ });
  assert.ok(usable());
  for (const t of [q, k, v, mha, q8, badAttnMask, badKpm]) t.dispose();
});

test('wrong dtypes, NaN and non-tensors', () => {
  const q = rand([1, 3, 4]);
  const nanQ = ap.tensor(new Float32Array(12).fill(NaN), [1, 3, 4]);
  assert.throws(() => ap.scaledDotProductAttention(nanQ, q, q), { message: /query contains NaN/ });
  const boolQ = ap.tensor(new Uint8Array(12), [1, 3, 4], 'bool');
  assert.throws(() => ap.scaledDotProductAttention(boolQ, q, q), { message: /query must be float32 but is bool/ });
  assert.throws(() => ap.scaledDotProductAttention(q, new Float32Array(12), q), { message: /key must be a Tensor/ });
  const nanMask = ap.tensor(new Float32Array(9).fill(NaN), [3, 3]);
  assert.throws(() => ap.scaledDotProductAttention(q, q, q, { mask: nanMask }), { message: /attn_mask contains NaN/ });
  const wideMask = ap.tensor(new Uint8Array(12), [3, 4], 'bool');
  assert.throws(() => ap.scaledDotProductAttention(q, q, q, { mask: wideMask }), { message: /attn_mask has shape \[3, 4\], which does not broadcast to the attention scores \[1, 3, 3\]/ });
  nanMask.dispose(); wideMask.dispose();
  assert.throws(() => ap.scaledDotProductAttention(q, q, q, { selection: 'hardest' }), { message: /selection must be one of/ });
  assert.throws(() => ap.scaledDotProductAttention(q, q, q, { selection: 'top_k', k: 0 }), { name: 'RangeError', message: /scaledDotProductAttention: k must be an integer in \[1, / });
  assert.ok(usable());
  for (const t of [q, nanQ, boolQ]) t.dispose();
});

test('non-integer, negative and absurd sizes', () => {
  assert.throws(() => ap.tensor([1, 2], [2.5]), { message: /invalid dimension 2.5/ });
  assert.throws(() => ap.tensor([1, 2], [-2]), { message: /invalid dimension -2/ });
  assert.throws(() => ap.tensor([1, 2, 3], [2, 2]), { message: /3 values do not fill shape \[2, 2\]/ });
  assert.throws(() => ap.tensor('abc', [3]), { message: /data must be/ });
  assert.throws(() => new ap.MultiheadAttention({ embedDim: 10, numHeads: 3 }), { message: /embed_dim \(10\) must be divisible by num_heads \(3\)/ });
  assert.throws(() => new ap.MultiheadAttention({ embedDim: 8.5, numHeads: 2 }), { name: 'RangeError', message: /MultiheadAttention: embedDim must be an integer in \[1, /});
  assert.throws(() => new ap.MultiheadAttention({ embedDim: -8, numHeads: 2 }), { name: 'RangeError', message: /MultiheadAttention: embedDim must be an integer in \[1, /});
  assert.throws(() => ap.sinusoidalTable(1e6, 1e6), { message: /too large/ });
  assert.throws(() => ap.alibiBias(2 ** 20, 2 ** 20, 2 ** 20), { message: /too large/ });
  assert.ok(usable());
});

test('missing or misshapen state_dict entries', () => {
  const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 2 });
  const good = mha.stateDict();
  const dict = Object.fromEntries(Object.entries(good).map(([k, t]) => [k, t.toArray()]));
  const { in_proj_bias: _, ...missing } = dict;
  assert.throws(() => mha.loadStateDict(missing), { message: /missing key 'in_proj_bias'/ });
  assert.throws(() => mha.loadStateDict({ ...dict, in_proj_weight: new Float32Array(5) }), { message: /'in_proj_weight': 5 values do not fill shape \[12, 4\]/ });
  const wrong = ap.tensor(new Float32Array(48), [4, 12]);
  assert.throws(() => mha.loadStateDict({ ...dict, in_proj_weight: wrong }), { message: /'in_proj_weight' has shape \[4, 12\] but the module expects \[12, 4\]/ });
  assert.throws(() => mha.loadStateDict({ ...dict, extra: new Float32Array(1) }), { message: /unexpected key 'extra'/ });
  mha.loadStateDict(dict);
  mha.loadStateDict({ in_proj_bias: dict.in_proj_bias }, { strict: false });
  Object.values(good).forEach((t) => t.dispose());
  wrong.dispose(); mha.dispose();
  assert.ok(usable());
});

test('hostile safetensors bytes get errors, not crashes', () => {
  assert.throws(() => ap.loadSafetensors(new Uint8Array([1, 2, 3])), { message: /too short/ });
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setBigUint64(0, 2n ** 60n, true);
  assert.throws(() => ap.loadSafetensors(bad), { message: /header length/ });
  const json = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}');
  const file = new Uint8Array(8 + json.length + 4);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  assert.throws(() => ap.loadSafetensors(file), { message: /'w'.*outside/ });
  assert.ok(usable());
});

test('dispose is idempotent, Symbol.dispose works, use after dispose throws', () => {
  const t = rand([2, 2]);
  t.dispose();
  t.dispose();
  assert.equal(t.disposed, true);
  assert.throws(() => t.toArray(), { message: /Tensor: used after dispose\(\)/ });
  const q = rand([1, 2, 2]);
  assert.throws(() => ap.scaledDotProductAttention(q, t, q), { message: /used after dispose/ });
  const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  mha[Symbol.dispose]();
  assert.throws(() => mha.forward(q, q, q), { message: /MultiheadAttention\.forward: used after dispose/ });
  q.dispose();
});

test('the heap returns to its baseline after 10,000 create/forward/dispose cycles', () => {
  const cycle = (i) => {
    const x = rand([2, 4, 8], i);
    const mha = new ap.MultiheadAttention({ embedDim: 8, numHeads: 2, batchFirst: true });
    const r = mha.forward(x, x, x, { averageAttnWeights: i % 2 === 0 });
    const s = ap.scaledDotProductAttention(x, x, x, { causal: true });
    if (i % 100 === 0) {  // errors must not leak either
      const bad = rand([2, 4, 3]);
      assert.throws(() => ap.scaledDotProductAttention(x, bad, x));
      bad.dispose();
    }
    for (const t of [r.output, r.weights, s.output, s.weights, mha, x]) t.dispose();
  };
  for (let i = 0; i < 50; ++i) cycle(i);  // warm-up: kernels' pack buffers are allocated once
  const baseline = ap.heapBytesInUse();
  for (let i = 0; i < 10000; ++i) cycle(i);
  const after = ap.heapBytesInUse();
  console.log(`  heap in use: baseline ${baseline} bytes, after 10,000 cycles ${after} bytes`);
  assert.ok(after <= baseline, `heap grew from ${baseline} to ${after} bytes`);
});
