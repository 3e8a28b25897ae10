// Regression tests for the findings of the core-hardening issue, through the
// packed package: each reported hostile call gets a named Error of the right
// class at once, the engine stays usable and its heap flat; the semantics the
// issue corrected (torch >= 2.5 fully masked rows, renormalize, explicit dtype,
// fresh dropout randomness, stateDict copies); init() leaves `process` alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkg } from './helpers.mjs';

const { AttentionError, MultiheadAttention, Tensor, AttentionResult } = pkg;
const ap = await pkg.init();

const rand = (shape, seed = 1) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return ap.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 0.7)), shape);
};

function usable() {
  const q = rand([1, 3, 4]);
  const r = ap.scaledDotProductAttention(q, q, q);
  const ok = r.output.shape.join() === '1,3,4';
  r.dispose();
  q.dispose();
  return ok;
}

/** Runs fn, which must throw `Class` with a message matching `re`; the heap must not grow. */
function rejects(fn, Class, re) {
  const before = ap.heapBytesInUse();
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e?.name}: ${e?.message}`);
    assert.match(e.message, re);
    return true;
  });
  assert.equal(ap.heapBytesInUse(), before, `heap grew after: ${re}`);
}

test('oversized results fail at once with an AttentionError naming the function (wasm32 byte counts)', () => {
  const tiny = (shape) => ap.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  rejects(() => ap.sinusoidalTable(32768, 32768), AttentionError, /^sinusoidalTable: .*would need 4\.0 GiB, more than the per-tensor limit of 256\.0 MiB/);
  rejects(() => ap.alibiBias(1, 32768, 32768), AttentionError, /^alibiBias: .*would need 4\.0 GiB/);
  const col = tiny([32768, 1]), row = tiny([1, 32768]);
  rejects(() => ap.matmul(col, row), AttentionError, /^matmul: .*\[32768, 32768\] would need 4\.0 GiB/);
  const e0 = tiny([1, 0]), e1 = tiny([0, 2 ** 30]);
  rejects(() => ap.matmul(e0, e1), AttentionError, /^matmul: .*would need 4\.0 GiB/);
  const empty = tiny([32768, 0]);
  rejects(() => ap.scaledDotProductAttention(empty, empty, empty), AttentionError, /^scaledDotProductAttention: .*would need 4\.0 GiB/);
  const huge = tiny([2 ** 30, 0]);
  rejects(() => ap.attentionEntropy(huge), AttentionError, /^attentionEntropy: .*would need 4\.0 GiB/);
  rejects(() => new ap.MultiheadAttention({ embedDim: 18919, numHeads: 1 }), AttentionError, /^MultiheadAttention: .*would need/);
  rejects(() => new ap.AdditiveAttention(2 ** 31 - 1, 3, 1), AttentionError, /^AdditiveAttention: .*would need 8\.0 GiB/);
  rejects(() => new ap.BasicAttention(32768), AttentionError, /^BasicAttention: .*would need 4\.0 GiB/);
  rejects(() => new ap.SqueezeExcitation(30000, 2), AttentionError, /^SqueezeExcitation: .*would need/);
  rejects(() => ap.alibiBias(2 ** 32, 1, 1), RangeError, /^alibiBias: heads must be an integer in \[1, 16777216\], got 4294967296/);
  rejects(() => ap.tensor([], [0, 3, 2 ** 31 - 1, 2 ** 31 - 1]), AttentionError, /^tensor: shape \[0, 3, 2147483647, 2147483647\] is too large/);
  for (const t of [col, row, e0, e1, empty, huge]) t.dispose();
  assert.ok(usable());
});

test('empty feature dims and empty work return at once', () => {
  const x = ap.tensor([], [3, 0]);
  const r = ap.applyRope(x);  // was a division by zero: a wasm trap
  assert.deepEqual(r.shape, [3, 0]);
  assert.ok(ap.heapBytesInUse() > 0, 'heapBytesInUse still answers');
  const a = ap.tensor([], [2 ** 31 - 1, 0, 1]), b = ap.tensor([1], [1, 1]);
  const m = ap.matmul(a, b);  // was 22 s of nothing
  assert.deepEqual(m.shape, [2 ** 31 - 1, 0, 1]);
  const q = rand([2, 3, 4]), k = ap.tensor([], [2, 0, 4]), v = ap.tensor([], [2, 0, 5]);
  const s = ap.scaledDotProductAttention(q, k, v);  // was "internal: scores must be contiguous"
  assert.deepEqual(s.weights.shape, [2, 3, 0]);
  assert.deepEqual(Array.from(s.output.toArray()), new Array(30).fill(0));
  for (const t of [x, r, a, b, m, q, k, v, s]) t.dispose();
});

test('arguments are checked in JS: types, ranges and option keys, with the function and argument named', () => {
  const q = rand([1, 2, 4]);
  rejects(() => ap.sinusoidalTable(1e300, 4), RangeError, /^sinusoidalTable: maxLen must be an integer in \[0, 2147483647\], got 1e\+300/);
  rejects(() => ap.sinusoidalTable(Symbol('x'), 4), TypeError, /^sinusoidalTable: maxLen must be an integer, got a Symbol/);
  rejects(() => ap.alibiBias(10n, 1, 1), TypeError, /^alibiBias: heads must be an integer, got 10n/);
  rejects(() => ap.applyRope(q, { style: 3 }), TypeError, /^applyRope: style must be one of 'interleaved', 'half_split'; got 3/);
  rejects(() => ap.scaledDotProductAttention(q, q, q, { casual: true }), TypeError,
    /^scaledDotProductAttention: unknown option 'casual' \(valid options: mask, causal, isCausal, steps, selection, k, threshold, renormalize, seed, scale, dropoutP\)/);
  rejects(() => ap.scaledDotProductAttention(q, q, q, { seed: 'abc' }), TypeError, /^scaledDotProductAttention: seed must be an integer, got "abc"/);
  rejects(() => ap.scaledDotProductAttention(q, q, q, { dropoutP: '0.5' }), TypeError, /^scaledDotProductAttention: dropoutP must be a number/);
  rejects(() => new ap.MultiheadAttention({ embedDim: 4, numHeads: 2, dropout: '0.5' }), TypeError, /^MultiheadAttention: dropout must be a number/);
  rejects(() => new ap.MultiheadAttention(null), TypeError, /^MultiheadAttention: options .* are required/);
  rejects(() => ap.scaledDotProductAttention(q, q, q, 'causal'), TypeError, /^scaledDotProductAttention: options must be an object/);
  rejects(() => ap.softmax(q, q), TypeError, /^softmax: expected at most 1 arguments, got 2/);
  // null options are fine: they mean "no options".
  const r = ap.scaledDotProductAttention(q, q, q, null);
  assert.deepEqual(r.output.shape, [1, 2, 4]);
  r.dispose();
  q.dispose();
  assert.ok(usable());
});

test('a tensor from another init() is a TypeError, not an Embind BindingError', async () => {
  const other = await pkg.init();
  const foreign = other.tensor([1, 2, 3, 4], [1, 1, 4]);
  const q = rand([1, 1, 4]);
  rejects(() => ap.scaledDotProductAttention(q, foreign, q), TypeError, /^scaledDotProductAttention: key belongs to another engine/);
  const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  rejects(() => mha.loadStateDict({ 'out_proj.weight': foreign }, { strict: false }), TypeError, /^MultiheadAttention\.loadStateDict: 'out_proj\.weight' belongs to another engine/);
  assert.ok(mha instanceof MultiheadAttention && mha instanceof ap.MultiheadAttention);
  assert.ok(q instanceof Tensor && foreign instanceof Tensor);
  assert.throws(() => new MultiheadAttention({ embedDim: 4, numHeads: 1 }), { name: 'TypeError', message: /^MultiheadAttention: the first argument must be the engine/ });
  for (const t of [foreign, q, mha]) t.dispose();
});

test('init() leaves process-wide handlers alone and validates its options', async () => {
  const events = ['uncaughtException', 'unhandledRejection', 'exit'];
  const before = events.map((e) => process.listenerCount(e));
  const engines = [await pkg.init(), await pkg.init()];
  assert.deepEqual(events.map((e) => process.listenerCount(e)), before);
  await assert.rejects(pkg.init({ wasmURL: 'x' }), { name: 'TypeError', message: /^init: unknown option 'wasmURL' \(valid options: wasmUrl, wasmBinary, maxTensorBytes, maxCallWork, seed\)/ });
  await assert.rejects(pkg.init({ maxTensorBytes: 2 ** 40 }), { name: 'RangeError', message: /^init: maxTensorBytes must be an integer/ });
  const small = await pkg.init({ maxTensorBytes: 1 << 20 });
  assert.equal(small.maxTensorBytes, 1 << 20);
  assert.throws(() => small.tensor(new Float32Array(1 << 19), [1 << 19]), { name: 'AttentionError', message: /^tensor: shape \[524288\] would need 2\.0 MiB, more than the per-tensor limit of 1\.0 MiB/ });
  assert.ok(engines.length === 2);
});

test('fully masked rows: zeros in SDPA (torch >= 2.5), NaN in MultiheadAttention with weights (as torch)', () => {
  const q = rand([1, 3, 4], 2), k = rand([1, 5, 4], 3), v = rand([1, 5, 2], 4);
  const keep = new Uint8Array(15).fill(1);
  keep.fill(0, 5, 10);  // query 1 sees no key
  const mask = ap.tensor(keep, [3, 5], 'bool');
  const r = ap.scaledDotProductAttention(q, k, v, { mask });
  const w = r.weights.toArray(), o = r.output.toArray();
  assert.deepEqual(Array.from(w.subarray(5, 10)), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(o.subarray(2, 4)), [0, 0]);
  assert.ok(Math.abs(w.subarray(0, 5).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 2, batchFirst: true });
  const kpm = ap.tensor([true, true, true], [1, 3], 'bool');
  const x = rand([1, 3, 4], 5);
  const m = mha.forward(x, x, x, { keyPaddingMask: kpm });
  assert.ok(Array.from(m.weights.toArray()).every(Number.isNaN));
  const n = mha.forward(x, x, x, { keyPaddingMask: kpm, needWeights: false });
  assert.equal(n.weights, null);
  assert.ok(Array.from(n.output.toArray()).every((z) => z === 0), 'zero attention, zero out_proj bias');
  for (const t of [q, k, v, mask, mha, kpm, x, r, m, n]) t.dispose();
});

test('hard selection: renormalize (default) vs seed 001 literal rule', () => {
  const q = ap.tensor([1], [1, 1]), k = ap.tensor([0.3, -1.2, 2.0, 0.9, 0.1], [5, 1]), v = ap.tensor([1, 2, 3, 4, 5], [5, 1]);
  const z = [0.3, -1.2, 2.0, 0.9, 0.1], m = Math.max(...z), e = z.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b);
  const soft = e.map((x) => x / s);
  const lit = ap.scaledDotProductAttention(q, k, v, { scale: 1, selection: 'top_k', k: 2, renormalize: false });
  const ren = ap.scaledDotProductAttention(q, k, v, { scale: 1, selection: 'top_k', k: 2 });
  const want = [0, 0, soft[2], soft[3], 0];
  lit.weights.toArray().forEach((w, j) => assert.ok(Math.abs(w - want[j]) < 1e-6, `literal ${j}: ${w} vs ${want[j]}`));
  ren.weights.toArray().forEach((w, j) => assert.ok(Math.abs(w - want[j] / (soft[2] + soft[3])) < 1e-6, `renormalised ${j}`));
  for (const t of [q, k, v, lit, ren]) t.dispose();
});

test('dropout and sampling: fresh randomness per call without a seed, reproducible with one', () => {
  const q = rand([1, 8, 4]), k = rand([1, 16, 4], 2), v = rand([1, 16, 4], 3);
  const run = (opts) => { const r = ap.scaledDotProductAttention(q, k, v, opts); try { return Array.from(r.weights.toArray()).join(); } finally { r.dispose(); } };
  assert.notEqual(run({ dropoutP: 0.5 }), run({ dropoutP: 0.5 }), 'two unseeded calls draw different masks');
  assert.equal(run({ dropoutP: 0.5, seed: 3 }), run({ dropoutP: 0.5, seed: 3 }));
  assert.notEqual(run({ selection: 'sample' }), run({ selection: 'sample' }));
  assert.equal(run({ selection: 'sample', seed: 9 }), run({ selection: 'sample', seed: 9 }));
  // Separate streams: with one seed, adding sampling does not shift dropout's draws. Where the
  // sample picks key j, the sampled row survives dropout exactly when dropout alone kept j.
  const rows = (opts) => { const r = ap.scaledDotProductAttention(q, k, v, opts); try { return r.weights.toArray(); } finally { r.dispose(); } };
  const drop = rows({ dropoutP: 0.5, seed: 4 }), pick = rows({ selection: 'sample', seed: 4 }), both = rows({ dropoutP: 0.5, selection: 'sample', seed: 4 });
  let kept = 0;
  for (let i = 0; i < 8; ++i) {
    const j = pick.subarray(i * 16, i * 16 + 16).indexOf(1);
    assert.equal(both[i * 16 + j] !== 0, drop[i * 16 + j] !== 0, `row ${i}, key ${j}`);
    kept += both[i * 16 + j] !== 0;
  }
  assert.ok(kept > 0 && kept < 8, 'dropout both kept and dropped sampled keys');
  for (const t of [q, k, v]) t.dispose();
});

test('stateDict() returns copies; AttentionResult disposes as one unit', () => {
  const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  const sd = mha.stateDict();
  const before = sd.in_proj_weight.toArray();
  mha.loadStateDict({ in_proj_weight: new Float32Array(48).fill(7) }, { strict: false });
  assert.deepEqual(sd.in_proj_weight.toArray(), before, 'the earlier copy is unchanged');
  const now = mha.stateDict();
  assert.equal(now.in_proj_weight.toArray()[0], 7);
  Object.values(now).forEach((t) => t.dispose());
  const x = rand([2, 1, 4]);
  const r = mha.forward(x, x, x);
  assert.ok(r instanceof AttentionResult);
  r.dispose();
  assert.ok(r.output.disposed && r.weights.disposed);
  for (const t of [...Object.values(sd), mha, x]) t.dispose();
});

// --- Findings of a hostile review of the packed package.
function safetensorsFile(header, dataBytes = 0) {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const file = new Uint8Array(8 + json.length + dataBytes);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  return file;
}

test('a tensor named "__proto__" in a file is an ordinary key, and disposing the result frees it', () => {
  const base = ap.heapBytesInUse();
  // (an object literal's __proto__ would set its prototype, so the header is written as text)
  const out = ap.loadSafetensors(safetensorsFile('{"__proto__":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 16));
  assert.deepEqual(Object.keys(out), ['__proto__']);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__').value.shape, [4]);
  for (const t of Object.values(out)) t.dispose();
  assert.equal(ap.heapBytesInUse(), base);
  rejects(() => ap.loadSafetensors(safetensorsFile({ pad: 'x'.repeat(1 << 20) })), AttentionError, /^loadSafetensors: header length \d+ exceeds the limit of 1048576 bytes/);
});

test('calls whose work dwarfs their inputs fail at once over the per-call budget', async () => {
  const big = ap.tensor(new Float32Array(4096 * 4096), [4096, 4096]);
  rejects(() => ap.matmul(big, big), AttentionError, /^matmul: this call would take about 6\.9e10 units of work \(1 unit ~ one SIMD multiply-add\), more than the per-call limit of 1\.7e10/);
  const x = ap.tensor(new Float32Array(4096 * 4096), [1, 4096, 4096]);
  rejects(() => ap.scaledDotProductAttention(x, x, x), AttentionError, /^scaledDotProductAttention: this call would take about/);
  const gen = new ap.GeneralAttention(4096, 4096);
  rejects(() => gen.forward(x, x, x), AttentionError, /^GeneralAttention\.forward: this call would take about/);
  for (const t of [big, x, gen]) t.dispose();
  const small = await pkg.init({ maxCallWork: 10000 });
  const q = small.tensor(new Float32Array(16 * 16), [16, 16]);
  assert.throws(() => small.scaledDotProductAttention(q, q, q), { name: 'AttentionError', message: /per-call limit of 1\.0e4/ });
  const t = small.tensor(new Float32Array(4), [2, 2]);
  small.matmul(t, t).dispose();  // 8 multiply-adds and one matrix: fine
  await assert.rejects(pkg.init({ maxCallWork: -1 }), { name: 'RangeError', message: /^init: maxCallWork/ });
});

test('getters that dispose arguments mid-call get a named Error, never an Embind BindingError', () => {
  const run = (fn) => assert.throws(fn, (e) => e instanceof Error && e.name !== 'BindingError' && /^[\w.]+: .*(dispose|disposed)/.test(e.message));
  let q = rand([1, 2, 4]);
  run(() => ap.scaledDotProductAttention(q, q, q, { get mask() { q.dispose(); return null; } }));
  q = rand([1, 2, 4]);
  const b = new ap.BasicAttention(4);
  run(() => b.forward(q, q, q, { get mask() { b.dispose(); return null; } }));
  const m = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  const x = rand([2, 1, 4]);
  run(() => m.forward(x, x, x, { get keyPaddingMask() { m.dispose(); return null; } }));
  const m2 = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  run(() => m2.loadStateDict({ get zzz() { m2.dispose(); return new Float32Array(1); } }, { strict: false }));
  for (const t of [q, x]) t.dispose();
  assert.ok(usable());
});

test('Object.prototype pollution neither breaks calls nor sets options; inherited options mean nothing', () => {
  const q = rand([1, 3, 4]);
  const plain = ap.scaledDotProductAttention(q, q, q);
  Object.prototype.causal = true;  // eslint-disable-line no-extend-native
  Object.prototype.foo = 1;        // eslint-disable-line no-extend-native
  try {
    const r = ap.scaledDotProductAttention(q, q, q);
    assert.deepEqual(r.weights.toArray(), plain.weights.toArray(), 'an inherited causal is not an option');
    const m = new ap.MultiheadAttention({ embedDim: 4, numHeads: 2 });
    m.forward(q, q, q).dispose();
    for (const t of [r, m]) t.dispose();
  } finally {
    delete Object.prototype.causal;
    delete Object.prototype.foo;
  }
  const hidden = Object.defineProperty({}, 'causal', { value: true, enumerable: false });
  const viaSdpa = ap.scaledDotProductAttention(q, q, q, { causal: true, scale: 1 });
  const viaDot = ap.dotProductAttention(q, q, q, hidden);  // an own non-enumerable key is an option too
  assert.deepEqual(viaDot.weights.toArray(), viaSdpa.weights.toArray());
  for (const t of [q, plain, viaSdpa, viaDot]) t.dispose();
});

test('shapes and data are read once; hidden parameters and forged objects are refused', async () => {
  let reads = 0;
  const shape = [2];
  Object.defineProperty(shape, 0, { get() { return reads++ ? 1024 : 2; }, enumerable: true });
  const t = ap.tensor([7, 8], shape);
  assert.deepEqual(t.shape, [2]);
  t.dispose();
  rejects(() => ap.tensor([1], [1], 'float32', 'matmul'), TypeError, /^tensor: expected at most 3 arguments, got 4/);
  rejects(() => new pkg.AttentionPlayground(), TypeError, /^AttentionPlayground: create the engine with `await init\(\)`/);
  rejects(() => new MultiheadAttention(Object.create(pkg.AttentionPlayground.prototype), { embedDim: 4, numHeads: 1 }), TypeError, /^MultiheadAttention: the first argument must be the engine/);
  await assert.rejects(pkg.init({ wasmBinary: new Uint8Array(10) }), { name: 'AttentionError', message: /^init: could not load the WebAssembly engine/ });
  class Mine extends ap.MultiheadAttention { hello() { return 'hi'; } }
  const mine = new Mine({ embedDim: 4, numHeads: 1 });
  assert.ok(mine instanceof Mine && mine instanceof MultiheadAttention);
  assert.equal(mine.hello(), 'hi');
  mine.dispose();
  const r = new AttentionResult(null, null);
  r.output = 'not a tensor';
  r.dispose();  // ignores what is not a tensor
});

test('numbers the engine would refuse are RangeErrors in JS, and messages name the JS call', async () => {
  rejects(() => ap.alibiBias(2 ** 26, 1, 1), RangeError, /^alibiBias: heads must be an integer in \[1, 16777216\]/);
  const q = rand([1, 2, 4]);
  rejects(() => ap.scaledDotProductAttention(q, q, q, { dropoutP: 0.9999999999999 }), RangeError, /^scaledDotProductAttention: dropoutP must be below 1 in float32/);
  const tiny = await pkg.init({ maxTensorBytes: 1024 });
  const tm = new tiny.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  assert.throws(() => tm.loadStateDict({ zz: new Float32Array(257) }, { strict: false }),
    { name: 'AttentionError', message: /^MultiheadAttention\.loadStateDict: 'zz': shape \[257\] would need 1\.0 KiB/ });
  tm.dispose();
  const m = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  const x = rand([2, 1, 4]);
  const kpm = ap.tensor([Infinity, 0], [1, 2]), am = ap.tensor([-Infinity, 0, 0, 0], [2, 2]);
  rejects(() => m.forward(x, x, x, { keyPaddingMask: kpm, attnMask: am }), AttentionError, /^MultiheadAttention\.forward: attn_mask \+ key_padding_mask \(\+inf meets -inf\) contains NaN/);
  for (const t of [q, m, x, kpm, am]) t.dispose();
});

// --- Findings of a second hostile review.
test('the work estimate counts per-matrix and per-row costs, and covers SqueezeExcitation', async () => {
  const small = await pkg.init({ maxCallWork: 2 ** 20 });
  // 1024 batches of 1 x 1 attention: ~10^4 multiply-adds, but ~2.6e6 units of per-matrix work.
  const x = small.tensor(new Float32Array(1024), [1024, 1, 1]);
  assert.throws(() => small.scaledDotProductAttention(x, x, x), { name: 'AttentionError', message: /^scaledDotProductAttention: this call would take about 2\.\de6/ });
  assert.throws(() => small.softmax(small.tensor(new Float32Array(4096), [4096, 1])), { name: 'AttentionError', message: /^softmax: this call would take/ });
  const se = new small.SqueezeExcitation(64, 1);
  const img = small.tensor(new Float32Array(256 * 64), [256, 64, 1, 1]);
  assert.throws(() => se.forward(img), { name: 'AttentionError', message: /^SqueezeExcitation\.forward: this call would take/ });
  assert.throws(() => small.sinusoidalTable(4096, 4), { name: 'AttentionError', message: /^sinusoidalTable: this call would take/ });
});

test('values that throw or are revoked when read give a TypeError naming the call', () => {
  const q = rand([1, 2, 4]);
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  rejects(() => ap.scaledDotProductAttention(q, q, q, proxy), TypeError, /^scaledDotProductAttention: reading options failed: /);
  rejects(() => ap.scaledDotProductAttention(q, q, q, { get causal() { throw 42; } }), TypeError, /^scaledDotProductAttention: reading option 'causal' failed: 42/);
  rejects(() => ap.tensor(proxy), TypeError, /^tensor: reading data failed/);
  rejects(() => ap.loadSafetensors(proxy), TypeError, /^loadSafetensors: bytes must be a Uint8Array or ArrayBuffer/);
  const m = new ap.MultiheadAttention({ embedDim: 4, numHeads: 1 });
  rejects(() => m.loadStateDict({ get w() { throw new Error('boom'); } }), TypeError, /^MultiheadAttention\.loadStateDict: reading 'w' failed: boom/);
  const sparse = [];
  sparse.length = 1e8;
  rejects(() => ap.tensor([], sparse), RangeError, /^tensor: shape has length 100000000 \(at most 16\)/);
  const long = [];
  long.length = 2 ** 32 - 1;
  rejects(() => ap.tensor(long), RangeError, /^tensor: data has length 4294967295/);
  rejects(() => Tensor.prototype.toArray.call({}), TypeError, /^Tensor\.toArray: called on an object/);
  rejects(() => ap.matmul.call({}, q, q), TypeError, /^matmul: called on an object \(Object\), not an engine from init\(\)/);
  for (const t of [q, m]) t.dispose();
  assert.ok(usable());
});

test('a U8 tensor in a file keeps its values (only BOOL is a mask)', () => {
  const file = safetensorsFile({ u: { dtype: 'U8', shape: [5], data_offsets: [0, 5] }, b: { dtype: 'BOOL', shape: [2], data_offsets: [5, 7] } }, 7);
  file.set([0, 1, 2, 200, 255, 1, 0], file.length - 7);
  const out = ap.loadSafetensors(file);
  assert.equal(out.u.dtype, 'float32');
  assert.deepEqual(Array.from(out.u.toArray()), [0, 1, 2, 200, 255]);
  assert.equal(out.b.dtype, 'bool');
  assert.deepEqual(Array.from(out.b.toArray()), [1, 0]);
  Object.values(out).forEach((t) => t.dispose());
});

test('review findings: empty tables allocate nothing; an empty value dim still counts as work', async () => {
  const base = ap.heapBytesInUse();
  const t = ap.sinusoidalTable(0, 2 ** 31 - 1);  // used to build a column table of 2^30 doubles first
  assert.deepEqual(t.shape, [0, 2 ** 31 - 1]);
  t.dispose();
  assert.equal(ap.heapBytesInUse(), base);
  const small = await pkg.init({ maxCallWork: 10000 });
  const q = small.tensor(new Float32Array(256), [16, 16]), v = small.tensor([], [16, 0]);
  assert.throws(() => small.scaledDotProductAttention(q, q, v), { name: 'AttentionError', message: /^scaledDotProductAttention: this call would take/ });
  const m = small.tensor([NaN, 0, 1], [3], 'bool');
  assert.deepEqual(Array.from(m.toArray()), [1, 0, 1], 'NaN is true, as torch .bool()');
});
