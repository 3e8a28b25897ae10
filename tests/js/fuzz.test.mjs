// A seeded hostile campaign through the packed package: thousands of calls over
// every exported function and class with wrong types, NaN/Infinity, negative,
// huge and fractional sizes, zero-size dims, unknown options, disposed objects,
// tensors from another engine and mutated model files. The contract, for every
// call: it returns, or it throws an Error (TypeError, RangeError, AttentionError,
// or Error for use after dispose) whose message starts with the name of the
// function; never a wasm trap, a BindingError or a non-Error. The engine stays
// usable (a probe call keeps giving the same numbers) and, once everything the
// campaign created is disposed, the heap is back at its baseline.
//   ATTN_FUZZ_SEED=n ATTN_FUZZ_CALLS=m  pick another campaign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkg, fixtureBytes } from './helpers.mjs';

const SEED = Number(process.env.ATTN_FUZZ_SEED ?? 20261123);
const CALLS = Number(process.env.ATTN_FUZZ_CALLS ?? 6000);

// mulberry32: a small seeded generator, so a failing campaign can be replayed.
function makeRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`hostile campaign (seed ${SEED}, ${CALLS} calls): only named Errors, usable engine, flat heap`, async () => {
  const rnd = makeRandom(SEED);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const chance = (p) => rnd() < p;
  // A small budget keeps legal-but-huge sizes fast; the default is covered in hardening.test.mjs.
  const ap = await pkg.init({ maxTensorBytes: 8 << 20, seed: 1 });
  const other = await pkg.init();
  const foreign = other.tensor([1, 2, 3, 4], [1, 1, 4]);

  const hostileNumbers = [0, 1, 2, 3, 4, 5, 7, 8, 16, -1, -0, 2.5, 0.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31,
    2 ** 32, 2 ** 53, 2 ** 30, 32768, 1e300, -1e300, Number.MIN_VALUE];
  const hostileValues = [...hostileNumbers, '3', 'abc', '', null, undefined, true, false, {}, [], [1, 2], Symbol('s'), 10n,
    () => 1, new Float32Array(3), new Uint8Array(2), Object.create(null)];
  const size = () => (chance(0.75) ? pick([0, 1, 2, 3, 4, 5, 8]) : pick(hostileValues));
  const small = () => pick([1, 2, 3, 4, 8]);

  const live = [];  // everything the campaign created, disposed at the end
  const keep = (x) => {
    if (x && typeof x === 'object') {
      if (typeof x.dispose === 'function') live.push(x);
      else for (const v of Object.values(x)) if (v && typeof v.dispose === 'function') live.push(v);
    }
    return x;
  };
  const randTensor = (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => rnd() * 4 - 2);
    if (chance(0.05) && n) data[Math.floor(rnd() * n)] = pick([NaN, Infinity, -Infinity]);
    return keep(ap.tensor(data, shape));
  };
  const randShape = () => Array.from({ length: pick([1, 2, 3, 3, 4]) }, () => pick([0, 1, 2, 3, 4, 5]));
  const disposed = ap.tensor([1, 2], [2]);
  disposed.dispose();
  const tensorArg = () => {
    const r = rnd();
    if (r < 0.7) return randTensor(randShape());
    if (r < 0.78) return keep(ap.tensor(new Uint8Array(4).map(() => (rnd() < 0.5 ? 1 : 0)), [2, 2], 'bool'));
    if (r < 0.84) return disposed;
    if (r < 0.9) return foreign;
    return pick(hostileValues);
  };
  const qkv = () => {
    const L = small(), S = pick([0, 1, 3, 5]), E = small(), B = pick([1, 2]);
    if (chance(0.7)) return [randTensor([B, L, E]), randTensor([B, S, E]), randTensor([B, S, small()])];
    return [tensorArg(), tensorArg(), tensorArg()];
  };
  const optionValue = () => (chance(0.5) ? pick([true, false, 0, 1, 2, 0.5, 'soft', 'top_k', 'sample', 'argmax', 'threshold', 'half_split']) : pick(hostileValues));
  const options = (keys) => {
    const r = rnd();
    if (r < 0.1) return pick([null, undefined, 'abc', 3, [], Symbol('o'), new Map()]);
    const o = {};
    for (const k of keys) if (chance(0.3)) o[k] = k.toLowerCase().includes('mask') ? tensorArg() : optionValue();
    if (chance(0.1)) o[pick(['casual', 'Causal', 'dropout_p', 'need_weights', 'selectoin', '__proto__x'])] = true;
    return o;
  };
  const modules = [];
  const makeModule = () => {
    const kind = pick(['MultiheadAttention', 'SimpleMultiHeadAttention', 'BasicAttention', 'GeneralAttention',
      'AdditiveAttention', 'ConcatAttention', 'SqueezeExcitation', 'LearnedPositionalEmbedding']);
    if (kind === 'MultiheadAttention') {
      const m = new ap.MultiheadAttention(chance(0.8)
        ? { embedDim: pick([4, 8, 6]), numHeads: pick([1, 2, 3]), batchFirst: chance(0.5), addBiasKV: chance(0.2), addZeroAttn: chance(0.2), dropout: chance(0.2) ? 0.3 : 0, ...options(['kdim', 'vdim', 'bias']) }
        : options(['embedDim', 'numHeads', 'dropout', 'bias', 'kdim', 'vdim', 'seed', 'batchFirst']));
      return m;
    }
    const arity = { SimpleMultiHeadAttention: 2, BasicAttention: 1, GeneralAttention: 2, AdditiveAttention: 3, ConcatAttention: 5, SqueezeExcitation: 2, LearnedPositionalEmbedding: 2 }[kind];
    const n = chance(0.9) ? arity : pick([0, arity - 1, arity + 1]);
    return new ap[kind](...Array.from({ length: n }, () => (chance(0.85) ? small() : pick(hostileValues))));
  };
  const realFile = new Uint8Array(fixtureBytes('attention.safetensors'));
  const mutatedFile = () => {  // the real fixture file, maybe truncated, with a few random bytes changed
    const b = realFile;
    const cut = chance(0.5) ? b.subarray(0, Math.floor(rnd() * b.length)) : b.slice();
    for (let i = 0, n = Math.floor(rnd() * 8); i < n && cut.length; ++i) cut[Math.floor(rnd() * cut.length)] = Math.floor(rnd() * 256);
    return cut;
  };

  const ops = [
    () => ap.tensor(chance(0.7) ? new Float32Array(Math.floor(rnd() * 6)) : pick(hostileValues), chance(0.8) ? randShape() : pick(hostileValues), chance(0.8) ? undefined : optionValue()),
    () => ap.tensor(Array.from({ length: 4 }, () => pick(hostileValues)), [4], pick(['float32', 'bool', undefined, 'int8'])),
    () => ap.scaledDotProductAttention(...qkv(), options(['mask', 'causal', 'isCausal', 'scale', 'dropoutP', 'seed', 'selection', 'k', 'threshold', 'renormalize'])),
    () => ap.dotProductAttention(...qkv(), options(['mask', 'causal', 'dropoutP', 'seed', 'selection', 'k'])),
    () => ap.attentionEntropy(tensorArg()),
    () => ap.sinusoidalTable(size(), size()),
    () => ap.applyRope(tensorArg(), options(['style', 'offset'])),
    () => ap.alibiBias(size(), size(), size()),
    () => ap.matmul(tensorArg(), tensorArg()),
    () => ap.softmax(tensorArg()),
    () => ap.loadSafetensors(chance(0.8) ? mutatedFile() : pick(hostileValues)),
    () => { const m = keep(makeModule()); modules.push(m); return m; },
    () => {
      if (!modules.length) return null;
      const m = pick(modules);
      const r = rnd();
      if (r < 0.5) {
        if (m instanceof pkg.SqueezeExcitation) return m.forward(chance(0.7) ? randTensor([small(), m.numParameters ? 4 : 1, small(), small()]) : tensorArg());
        if (m instanceof pkg.LearnedPositionalEmbedding) return m.forward(tensorArg(), size());
        if (m instanceof pkg.MultiheadAttention) {
          const x = randTensor(chance(0.5) ? [small(), pick([1, 2]), m.embedDim] : randShape());
          return m.forward(x, chance(0.7) ? x : tensorArg(), chance(0.7) ? x : tensorArg(),
            options(['keyPaddingMask', 'attnMask', 'needWeights', 'averageAttnWeights', 'isCausal', 'selection', 'k', 'seed', 'renormalize']));
        }
        return m.forward(...qkv(), options(['mask', 'causal', 'selection', 'k', 'threshold', 'seed']));
      }
      if (r < 0.65) return m.stateDict();
      if (r < 0.8) {
        const sd = m.stateDict();
        const dict = Object.fromEntries(Object.entries(sd).map(([k, t]) => [chance(0.1) ? `${k}x` : k,
          chance(0.7) ? t.toArray() : pick([t, foreign, disposed, new Float32Array(3), 'w', null, [1, NaN]])]));
        try { return m.loadStateDict(chance(0.9) ? dict : pick(hostileValues), chance(0.5) ? { strict: chance(0.5) } : options(['strict'])); } finally { Object.values(sd).forEach((t) => t.dispose()); }
      }
      if (r < 0.9) return m.train(pick([true, false, 1, 'yes', undefined]));
      if (chance(0.3)) { m.dispose(); return m.numParameters; }
      return m.numParameters;
    },
  ];

  const names = /^[A-Za-z_][\w.]*(:| \[[^\]]*\] )/;  // "fn: ...", "Class.method: ...", "tensor [2, 3] would need ..."
  let errors = 0, returned = 0;
  const byClass = {};
  const attempt = (i) => {
    const op = Math.floor(rnd() * ops.length);
    try {
      keep(ops[op]());
      returned++;
    } catch (e) {
      const label = `call ${i} (op ${op})`;
      assert.ok(e instanceof Error, `${label}: threw a non-Error: ${String(typeof e === 'symbol' ? 'symbol' : e)}`);
      // Traps and escaped C++ exceptions arrive as AttentionErrors with these words: none may happen.
      assert.doesNotMatch(e.message, /internal (error|failure)|escaped its guard|engine stopped/, `${label}: ${e.message}`);
      assert.ok(['TypeError', 'RangeError', 'AttentionError', 'Error'].includes(e.name), `${label}: ${e.name}: ${e.message}`);
      assert.match(e.message, names, `${label}: the message does not start with a function name: ${e.message}`);
      byClass[e.name] = (byClass[e.name] ?? 0) + 1;
      errors++;
    }
  };

  // Probe: the same call must keep giving the same numbers.
  const pq = ap.tensor(Float32Array.from({ length: 24 }, (_, i) => Math.cos(i)), [2, 3, 4]);
  const probe = () => { const r = ap.scaledDotProductAttention(pq, pq, pq, { causal: true }); try { return Array.from(r.output.toArray()).join(); } finally { r.dispose(); } };
  const expected = probe();
  // Warm-up: the GEMM pack buffers grow once to their largest size.
  for (const [a, b] of [[[256, 512], [512, 1024]]]) {
    const x = ap.tensor(new Float32Array(a[0] * a[1]), a), y = ap.tensor(new Float32Array(b[0] * b[1]), b);
    ap.matmul(x, y).dispose(); x.dispose(); y.dispose();
  }
  const baseline = ap.heapBytesInUse();

  for (let i = 0; i < CALLS; ++i) {
    attempt(i);
    if (i % 250 === 249) {
      assert.equal(probe(), expected, `after call ${i}: the engine gives different numbers`);
      while (live.length) live.pop().dispose();
      modules.length = 0;
    }
  }
  while (live.length) live.pop().dispose();
  assert.equal(probe(), expected);
  const after = ap.heapBytesInUse();
  console.log(`  ${CALLS} calls: ${returned} returned, ${errors} threw (${Object.entries(byClass).map(([k, v]) => `${k} ${v}`).join(', ')}); heap ${baseline} -> ${after} bytes`);
  assert.ok(errors > CALLS / 4 && returned > CALLS / 10, 'the campaign exercised both paths');
  assert.ok(after <= baseline, `heap grew from ${baseline} to ${after} bytes`);
  pq.dispose();
  foreign.dispose();
});
