// The npm package from its packed tarball, in Node: the documented API,
// PyTorch parity through it, bit parity with the native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, loadCases, assertClose, root } from './helpers.mjs';

const ap = await pkg.init();

test('init reports version and SIMD', () => {
  const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(ap.version, meta.version);
  assert.equal(ap.simd, true);
  assert.equal(ap.simdArch, 'sse4.1');
  assert.equal(typeof pkg.default, 'function');
});

test('tensors copy in and out; dtype is explicit for Uint8Array', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const t = ap.tensor(data, [2, 3, 4]);
  assert.deepEqual(t.shape, [2, 3, 4]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.toArray(), data);
  data[0] = 99;
  assert.equal(t.toArray()[0], -3, 'tensor() copies');
  assert.throws(() => ap.tensor(new Uint8Array([1, 0]), [2]), { name: 'TypeError', message: /tensor: a Uint8Array needs an explicit dtype/ });
  const m = ap.tensor(new Uint8Array([1, 0, 5, 0]), [2, 2], 'bool');
  const f = ap.tensor(new Uint8Array([1, 0, 5, 0]), [2, 2], 'float32');
  assert.deepEqual(Array.from(f.toArray()), [1, 0, 5, 0]);
  f.dispose();
  assert.equal(m.dtype, 'bool');
  assert.deepEqual(Array.from(m.toArray()), [1, 0, 1, 0]);
  const n = ap.tensor([1, 2, 3]);
  assert.deepEqual(n.shape, [3]);
  for (const x of [t, m, n]) x.dispose();
});

test('scaled dot-product attention matches PyTorch for every fixture case', () => {
  const { cases, dispose } = loadCases(ap);
  try {
    let n = 0;
    for (const c of cases.filter((c) => c.meta.kind === 'sdpa')) {
      const r = ap.scaledDotProductAttention(c.tensors.q, c.tensors.k, c.tensors.v,
        { mask: c.tensors.mask ?? null, causal: !!c.meta.is_causal, scale: c.meta.scale });
      const e1 = assertClose(r.output.toArray(), c.tensors.out.toArray(), `${c.name}.out`);
      const e2 = assertClose(r.weights.toArray(), c.tensors.weights.toArray(), `${c.name}.weights`);
      console.log(`  ${c.name}: max abs error output ${e1.toExponential(2)}, weights ${e2.toExponential(2)}`);
      r.output.dispose(); r.weights.dispose();
      n++;
    }
    assert.ok(n >= 8);
  } finally { dispose(); }
});

test('MultiheadAttention matches torch.nn.MultiheadAttention (state_dict by PyTorch keys)', () => {
  const { cases, dispose } = loadCases(ap);
  try {
    for (const c of cases.filter((c) => c.meta.kind === 'mha')) {
      const k = c.meta.ctor;
      const mha = new ap.MultiheadAttention({ embedDim: k.embed_dim, numHeads: k.num_heads, bias: k.bias ?? true,
        addBiasKV: !!k.add_bias_kv, addZeroAttn: !!k.add_zero_attn, kdim: k.kdim ?? null, vdim: k.vdim ?? null, batchFirst: !!k.batch_first });
      // Half the cases load Float32Arrays (shapes from the module), half load Tensors.
      const dict = {};
      for (const [name, t] of Object.entries(c.params)) dict[name] = c.name.length % 2 ? t : t.toArray();
      mha.loadStateDict(dict);
      const r = mha.forward(c.tensors.q, c.tensors.k, c.tensors.v, { keyPaddingMask: c.tensors.kpm ?? null, attnMask: c.tensors.attn_mask ?? null,
        needWeights: c.meta.need_weights, averageAttnWeights: c.meta.average_attn_weights });
      assertClose(r.output.toArray(), c.tensors.out.toArray(), `${c.name}.out`);
      if (c.meta.need_weights) assertClose(r.weights.toArray(), c.tensors.weights.toArray(), `${c.name}.weights`);
      else assert.equal(r.weights, null);
      r.output.dispose(); r.weights?.dispose(); mha.dispose();
    }
  } finally { dispose(); }
});

test('every other attention rule matches PyTorch through the package', () => {
  const { cases, dispose } = loadCases(ap);
  const make = {
    basic: (m) => new ap.BasicAttention(m.hidden_size),
    general: (m) => new ap.GeneralAttention(m.query_size, m.key_size),
    additive: (m) => new ap.AdditiveAttention(m.key_size, m.query_size, m.num_hiddens),
    concat: (m) => new ap.ConcatAttention(...m.sizes),
    seed004: (m) => new ap.SimpleMultiHeadAttention(m.embed_dim, m.num_heads),
    se: (m) => new ap.SqueezeExcitation(m.channels, m.reduction),
  };
  try {
    let n = 0;
    for (const c of cases.filter((c) => make[c.meta.kind])) {
      const m = make[c.meta.kind](c.meta).loadStateDict(c.params);
      const t = c.tensors;
      const r = c.meta.kind === 'se' ? m.forward(t.x) : m.forward(t.q, t.k, t.v, { mask: t.mask ?? null });
      assertClose(r.output.toArray(), t.out.toArray(), `${c.name}.out`);
      assertClose(r.weights.toArray(), t.weights.toArray(), `${c.name}.weights`);
      r.output.dispose(); r.weights.dispose(); m.dispose();
      n++;
    }
    assert.ok(n >= 8);
    for (const c of cases.filter((c) => ['sinusoidal', 'rope', 'alibi', 'entropy', 'hard'].includes(c.meta.kind))) {
      const m = c.meta;
      let got;
      if (m.kind === 'sinusoidal') got = ap.sinusoidalTable(m.max_len, m.d);
      else if (m.kind === 'rope') got = ap.applyRope(c.tensors.x, { style: m.style, offset: m.offset });
      else if (m.kind === 'alibi') got = ap.alibiBias(m.heads, m.L, m.S);
      else if (m.kind === 'entropy') got = ap.attentionEntropy(c.tensors.weights);
      else {
        const r = ap.scaledDotProductAttention(c.tensors.q, c.tensors.k, c.tensors.v, { selection: m.selection, k: m.k, threshold: m.threshold });
        assertClose(r.weights.toArray(), c.tensors.weights.toArray(), `${c.name}.weights`);
        r.weights.dispose();
        got = r.output;
      }
      assertClose(got.toArray(), c.tensors.out.toArray(), c.name);
      got.dispose();
    }
  } finally { dispose(); }
});

test('results are bit-for-bit those of the native build', () => {
  // build/native/parity.safetensors (tests/native/parity_test.cpp, written by the native ctest): the
  // portable native build's results for every exported function and module, with the inputs, each
  // module's initial state_dict and each call (JSON metadata). Replayed here through the package:
  // exact cases must match bit for bit (any NaN matches any NaN); cases through libm sin/cos/exp/
  // log/pow (exact: false; glibc and musl may round differently) within LIBM_TOL.
  const LIBM_TOL = 1e-6;
  const path = process.env.ATTN_PARITY_FILE || join(root, 'build/native/parity.safetensors');
  assert.ok(existsSync(path), `${path} is missing: run the native ctest first (npm test does)`);
  const bytes = readFileSync(path);
  const calls = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()).__metadata__;
  const native = ap.loadSafetensors(new Uint8Array(bytes));
  const unused = new Set(Object.keys(native)), made = [];
  const take = (key) => { assert.ok(native[key], `parity file lacks ${key}`); unused.delete(key); return native[key]; };
  const same = (got, want, what, exact) => {
    assert.deepEqual(got.shape, want.shape, `${what} shape`);
    const a = got.toArray(), b = want.toArray();
    if (!exact) return assertClose(a, b, what, LIBM_TOL, LIBM_TOL);
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < a.length; ++i) {
      if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
        assert.fail(`${what}: element ${i} is ${a[i]} (0x${ua[i].toString(16)}) in wasm, ${b[i]} (0x${ub[i].toString(16)}) natively`);
      }
    }
  };
  try {
    for (const [name, json] of Object.entries(calls)) {
      const call = JSON.parse(json);
      const arg = (v) => (typeof v === 'string' && v.startsWith('$') ? take(`${name}.in.${v.slice(1)}`) : v);
      const args = call.args.map(arg);
      if (call.opts) args.push(Object.fromEntries(Object.entries(call.opts).map(([k, v]) => [k, arg(v)])));
      let r;
      if (call.module) {
        const m = new ap[call.module](...call.ctor);
        made.push(m);
        const params = {};
        for (const [key, got] of Object.entries(m.stateDict())) {
          made.push(got);
          params[key] = take(`${name}.p.${key}`);
          same(got, params[key], `${name} initial ${key}`, !call.inexactInit?.includes(key));
        }
        r = m.loadStateDict(params).forward(...args);
      } else {
        r = ap[call.fn](...args);
      }
      made.push(r);
      const outs = r instanceof pkg.Tensor ? { out: r } : { out: r.output, weights: r.weights };
      for (const [k, got] of Object.entries(outs)) if (got) same(got, take(`${name}.out.${k}`), `${name}.${k}`, call.exact);
    }
    assert.deepEqual([...unused], [], 'every tensor of the parity file is compared');
    assert.ok(Object.keys(calls).length >= 30, `only ${Object.keys(calls).length} parity cases`);
  } finally {
    made.forEach((x) => x.dispose());
    Object.values(native).forEach((x) => x.dispose());
  }
});

test('self- and cross-attention conveniences, per-head weights, isCausal', () => {
  const mha = new ap.MultiheadAttention({ embedDim: 8, numHeads: 2, batchFirst: true });
  const x = ap.tensor(Float32Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.cos(i)), [2, 5, 8]);
  const mem = ap.tensor(Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => Math.sin(i)), [2, 3, 8]);
  const a = mha.selfAttention(x, { isCausal: true, averageAttnWeights: false });
  assert.deepEqual(a.weights.shape, [2, 2, 5, 5]);
  assert.equal(a.weights.toArray()[1], 0, 'future key masked');
  const b = mha.crossAttention(x, mem, { needWeights: false });
  assert.equal(b.weights, null);
  const last = mha.lastWeights();
  assert.deepEqual(last.shape, [2, 2, 5, 3]);
  for (const t of [a.output, a.weights, b.output, last, x, mem, mha]) t.dispose();
});

test('learned positional embedding loads by key "weight" and adds rows at the offset', () => {
  const pe = new ap.LearnedPositionalEmbedding(4, 2).loadStateDict({ weight: [0, 1, 2, 3, 4, 5, 6, 7] });
  const x = ap.tensor([10, 10, 20, 20], [2, 2]);
  const y = pe.forward(x, 1);
  assert.deepEqual(Array.from(y.toArray()), [12, 13, 24, 25]);
  assert.throws(() => pe.forward(x, 3), { message: /positions \[3, 5\) exceed max_len 4/ });
  for (const t of [pe, x, y]) t.dispose();
});

test("causal 'lower-right' is torch's causal_lower_right mask (tril(diagonal = S - L))", () => {
  const fixture = JSON.parse(readFileSync(join(root, 'tests/fixtures/modules.json'), 'utf8'));
  const E = 4;
  for (const { L, S, bottom_right: lowerRight, top_left: upperLeft } of fixture.causal) {
    const q = ap.tensor(Float32Array.from({ length: L * E }, (_, i) => Math.sin(i + 1)), [L, E]);
    const k = ap.tensor(Float32Array.from({ length: S * E }, (_, i) => Math.cos(i * 0.7)), [S, E]);
    for (const [variant, bits] of [['lower-right', lowerRight], ['upper-left', upperLeft], [true, upperLeft]]) {
      const mask = ap.tensor(Uint8Array.from(bits), [L, S], 'bool');
      const a = ap.scaledDotProductAttention(q, k, k, { causal: variant });
      const b = ap.scaledDotProductAttention(q, k, k, { mask });
      assert.deepEqual(a.weights.toArray(), b.weights.toArray(), `${variant} L=${L} S=${S}`);
      assert.deepEqual(a.output.toArray(), b.output.toArray(), `${variant} L=${L} S=${S}`);
      a.dispose(); b.dispose(); mask.dispose();
    }
    q.dispose(); k.dispose();
  }
  const x = ap.tensor(new Float32Array(8), [2, 4]);
  assert.throws(() => ap.scaledDotProductAttention(x, x, x, { causal: 'lower_right' }),
    { name: 'RangeError', message: /^scaledDotProductAttention: causal must be a boolean, 'upper-left' or 'lower-right'; got/ });
  assert.throws(() => ap.scaledDotProductAttention(x, x, x, { causal: 1 }), { name: 'TypeError', message: /causal must be a boolean/ });
  x.dispose();
});

test('Tensor.view() reads the data in place, without a copy', () => {
  const t = ap.tensor([1, 2, 3, 4], [2, 2]);
  const v = t.view();
  assert.deepEqual(Array.from(v), [1, 2, 3, 4]);
  const before = ap.heapBytesInUse();
  const again = t.view();
  assert.equal(ap.heapBytesInUse(), before, 'no allocation');
  assert.equal(again.buffer, v.buffer, 'the wasm memory itself');
  assert.equal(again.byteOffset, v.byteOffset);
  t.dispose();
  assert.throws(() => t.view(), /Tensor: used after dispose\(\)/);
});
