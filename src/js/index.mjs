// attention-playground: the public JS API over the Embind module.
//
// Ownership: every object that holds wasm memory (Tensor, the attention modules,
// AttentionResult) has dispose() (idempotent, also [Symbol.dispose]); using it
// afterwards throws. Objects that are garbage-collected without dispose() are
// freed and reported once via console.warn. Temporaries created inside a call
// are freed in `finally`.
//
// Validation: every public entry checks its arguments' types, integer ranges and
// option keys here, before anything crosses into wasm, so Embind never sees a
// value it would reject. Failures are TypeError (wrong type, unknown option),
// RangeError (a number out of range) or AttentionError (the engine's own checks:
// shapes, NaN, sizes over the byte budget, hostile files). Every message starts
// with the function's name and names the argument. The engine stays usable after
// every error and its heap returns to where it was.
import createAttentionModule from './attention_playground.mjs';

/** An error reported by the engine (shapes, NaN, sizes, model files). */
export class AttentionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AttentionError';
  }
}

const leakRegistry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ handle, what }) => {
    console.warn(`attention-playground: a ${what} was garbage-collected without dispose(); freeing it`);
    try { handle.delete(); } catch { /* already gone */ }
  })
  : null;

// ---------------------------------------------------------------------------
// Argument checks. `describe` never throws, whatever the value (Symbol, BigInt,
// Proxy, objects with throwing toString).
const MAX_DIM = 2 ** 31 - 1;
const MAX_SEED = Number.MAX_SAFE_INTEGER;

function describe(v) {
  try {
    switch (typeof v) {
      case 'string': return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
      case 'number': case 'boolean': case 'undefined': return String(v);
      case 'bigint': return `${v}n (a BigInt)`;
      case 'symbol': return 'a Symbol';
      case 'function': return 'a function';
      default:
        if (v === null) return 'null';
        if (Array.isArray(v)) return `an array of length ${v.length}`;
        return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
    }
  } catch {
    return 'an unprintable value';
  }
}

function checkInt(v, fn, name, min = 0, max = MAX_DIM) {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be an integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${fn}: ${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}
function checkNumber(v, fn, name, { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = {}) {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(v)}`);
  const lowOk = minOpen ? v > min : v >= min, highOk = maxOpen ? v < max : v <= max;
  if (!Number.isFinite(v) || !lowOk || !highOk) {
    const range = Number.isFinite(min) || Number.isFinite(max)
      ? ` in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}` : '';
    throw new RangeError(`${fn}: ${name} must be a finite number${range}, got ${describe(v)}`);
  }
  return v;
}
function checkBool(v, fn, name) {
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}
function checkEnum(v, fn, name, values, aliases = {}) {
  const key = typeof v === 'string' ? (aliases[v] ?? v) : undefined;
  if (!values.includes(key)) {
    throw new (typeof v === 'string' ? RangeError : TypeError)(
      `${fn}: ${name} must be one of ${values.map((x) => `'${x}'`).join(', ')}; got ${describe(v)}`);
  }
  return key;
}
/** The options object: undefined/null mean {}; unknown keys throw a TypeError listing the valid ones. */
function checkOptions(opts, fn, valid) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${fn}: options must be an object, got ${describe(opts)}`);
  }
  for (const key of Reflect.ownKeys(opts)) {
    if (typeof key !== 'string' || !valid.includes(key)) {
      throw new TypeError(`${fn}: unknown option ${typeof key === 'string' ? `'${key.slice(0, 40)}'` : describe(key)} (valid options: ${valid.join(', ')})`);
    }
  }
  return opts;
}
function checkArity(args, max, fn) {
  if (args.length > max) throw new TypeError(`${fn}: expected at most ${max} arguments, got ${args.length}`);
}

// Selection options shared by every attention call.
const SELECTIONS = ['soft', 'top_k', 'threshold', 'argmax', 'sample'];
const SELECTION_KEYS = ['selection', 'k', 'threshold', 'renormalize', 'seed'];
function selectionArgs(o, fn) {
  const kind = checkEnum(o.selection ?? 'soft', fn, 'selection', SELECTIONS, { topK: 'top_k' });
  const seeded = o.seed !== undefined && o.seed !== null;
  return {
    kind: SELECTIONS.indexOf(kind),
    k: o.k === undefined ? 1 : checkInt(o.k, fn, 'k', 1),
    threshold: o.threshold === undefined ? 0 : checkNumber(o.threshold, fn, 'threshold', { min: -3.4e38, max: 3.4e38 }),
    renormalize: o.renormalize === undefined ? true : checkBool(o.renormalize, fn, 'renormalize'),
    seeded,
    seed: seeded ? checkInt(o.seed, fn, 'seed', 0, MAX_SEED) : 0,
  };
}

// ---------------------------------------------------------------------------
/** Base of everything that owns a wasm handle. */
class Owned {
  #handle;
  #what;
  #engine;
  constructor(engine, handle, what) {
    this.#engine = engine;
    this.#handle = handle;
    this.#what = what;
    leakRegistry?.register(this, { handle, what }, this);
  }
  /** The engine (from init()) this object lives in. */
  get engine() { return this.#engine; }
  /** @internal the Embind handle; throws once disposed. */
  get _handle() {
    if (!this.#handle) throw new Error(`${this.#what}: used after dispose()`);
    return this.#handle;
  }
  get disposed() { return this.#handle === null; }
  dispose() {
    if (!this.#handle) return;
    leakRegistry?.unregister(this);
    this.#handle.delete();
    this.#handle = null;
  }
  [Symbol.dispose]() { this.dispose(); }
}

const DTYPES = ['float32', 'bool'];
const INTERNAL = Symbol('attention-playground internal');  // only this module constructs Tensors

/** An n-dimensional float32 (or bool) array in wasm memory. Create with `ap.tensor(data, shape, dtype)`. */
export class Tensor extends Owned {
  /** @internal */
  constructor(engine, handle, token) {
    if (token !== INTERNAL) throw new TypeError('Tensor: create tensors with ap.tensor(data, shape, dtype)');
    super(engine, handle, 'Tensor');
  }
  /** Dimensions, e.g. [2, 5, 16]. */
  get shape() { return this._handle.shape(); }
  /** 'float32' or 'bool'. */
  get dtype() { return DTYPES[this._handle.dtype()]; }
  /** Number of elements. */
  get size() { return this._handle.numel(); }
  /** A copy of the data: Float32Array, or Uint8Array (0/1) for bool tensors. */
  toArray() { return this._handle.view().slice(); }
}

/** Output and attention weights of one call. dispose() frees both. */
export class AttentionResult {
  /** @internal */
  constructor(output, weights) {
    /** @type {Tensor} */
    this.output = output;
    /** @type {Tensor | null} */
    this.weights = weights;
  }
  dispose() { this.output?.dispose(); this.weights?.dispose(); }
  [Symbol.dispose]() { this.dispose(); }
}

function readResult(engine, result) {
  let out = null;
  try {
    const o = engine._check(result.takeOutput(), 'result');
    out = o ? new Tensor(engine, o, INTERNAL) : null;
    const w = engine._check(result.takeWeights(), 'result');
    return new AttentionResult(out, w ? new Tensor(engine, w, INTERNAL) : null);
  } catch (e) {
    out?.dispose();
    throw e;
  } finally {
    result.delete();
  }
}

function checkEngine(engine, what) {
  if (!(engine instanceof AttentionPlayground)) {
    throw new TypeError(`${what}: the first argument must be the engine from init() (or use new ap.${what}(...)), got ${describe(engine)}`);
  }
  return engine;
}

/** Base of the attention modules: PyTorch state_dict loading, train/eval. */
class AttentionModule extends Owned {
  /**
   * Loads parameters by their PyTorch names. Values: Float32Array or number[]
   * (shape taken from the module's own parameter), or Tensors. Options: { strict = true }:
   * every key must be present and no other key may be.
   */
  loadStateDict(dict, opts) {
    const fn = `${this.constructor.name}.loadStateDict`;
    const { strict = true } = checkOptions(opts, fn, ['strict']);
    checkBool(strict, fn, 'strict');
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new TypeError(`${fn}: expected an object of name -> Float32Array | Tensor, got ${describe(dict)}`);
    }
    const engine = this.engine, M = engine._M;
    const handle = this._handle;
    const own = engine._check(handle.stateDict(), fn);
    const sd = new M.StateDict();
    const temps = [];
    try {
      for (const name of Object.keys(dict)) {
        const value = dict[name];
        const label = `'${name.slice(0, 60)}'`;
        let t;
        if (value instanceof Tensor) {
          t = engine._t(value, fn, label);
        } else {
          const shape = own.shape(name) ?? [value?.length ?? 0];
          const tensor = engine.tensor(value, shape, 'float32', `${fn}: ${label}`);
          temps.push(tensor);
          t = tensor._handle;
        }
        sd.set(name, t);
      }
      engine._check(handle.loadStateDict(sd, strict), fn);
    } finally {
      sd.delete();
      own.delete();
      for (const t of temps) t.dispose();
    }
    return this;
  }
  /** { name: Tensor }: copies of the parameters (the caller disposes them). */
  stateDict() {
    const fn = `${this.constructor.name}.stateDict`;
    const engine = this.engine;
    const sd = engine._check(this._handle.stateDict(), fn);
    const out = {};
    try {
      for (const name of sd.keys()) out[name] = new Tensor(engine, engine._check(sd.get(name), fn), INTERNAL);
      return out;
    } catch (e) {
      for (const t of Object.values(out)) t.dispose();
      throw e;
    } finally {
      sd.delete();
    }
  }
  /** Training mode enables dropout. */
  train(on = true) { this._handle.train(checkBool(on, `${this.constructor.name}.train`, 'on')); return this; }
  eval() { return this.train(false); }
  get training() { return this._handle.isTraining(); }
  get numParameters() { return this._handle.numParameters(); }
}

// Modules built from positive integer sizes, with forward(q, k, v, opts).
const QKV_KEYS = ['mask', 'causal', 'isCausal', ...SELECTION_KEYS];
function attendArgs(o, fn, { scale = false, dropout = false } = {}) {
  const causal = o.causal ?? o.isCausal ?? false;
  checkBool(causal, fn, o.causal !== undefined ? 'causal' : 'isCausal');
  if (o.causal !== undefined && o.isCausal !== undefined && o.causal !== o.isCausal) {
    throw new TypeError(`${fn}: causal and isCausal disagree`);
  }
  const hasScale = scale && o.scale !== undefined && o.scale !== null;
  return {
    causal,
    hasScale,
    scale: hasScale ? checkNumber(o.scale, fn, 'scale', { min: -3.4e38, max: 3.4e38 }) : 1,
    dropoutP: dropout && o.dropoutP !== undefined ? checkNumber(o.dropoutP, fn, 'dropoutP', { min: 0, max: 1, maxOpen: true }) : 0,
    sel: selectionArgs(o, fn),
  };
}

function sizesModule(name, sizeNames, create) {
  const C = {
    [name]: class extends AttentionModule {
      constructor(engine, ...sizes) {
        checkEngine(engine, name);
        if (sizes.length !== sizeNames.length) {
          throw new TypeError(`${name}: expected ${sizeNames.length} sizes (${sizeNames.join(', ')}), got ${sizes.length}`);
        }
        sizes.forEach((n, i) => checkInt(n, name, sizeNames[i], 1));
        super(engine, engine._call(name, () => create(engine._M, sizes)), name);
      }
    },
  }[name];
  return C;
}

/** Seed 000's BasicAttention: softmax(Q Kᵀ) V. Size: hiddenSize. */
export class BasicAttention extends sizesModule('BasicAttention', ['hiddenSize'], (M, s) => M.createBasicAttention(s)) {
  /** forward(query, key, value, { mask, causal, selection, k, threshold, renormalize, seed }) -> AttentionResult */
  forward(query, key, value, opts) { return qkvForward(this, query, key, value, opts); }
}
/** Luong "general": score = qᵀ W k. Sizes: querySize, keySize. */
export class GeneralAttention extends sizesModule('GeneralAttention', ['querySize', 'keySize'], (M, s) => M.createGeneralAttention(s)) {
  forward(query, key, value, opts) { return qkvForward(this, query, key, value, opts); }
}
/** Bahdanau additive: score = w_vᵀ tanh(W_q q + W_k k). Sizes: keySize, querySize, numHiddens. */
export class AdditiveAttention extends sizesModule('AdditiveAttention', ['keySize', 'querySize', 'numHiddens'], (M, s) => M.createAdditiveAttention(s)) {
  forward(query, key, value, opts) { return qkvForward(this, query, key, value, opts); }
}
/** Seed 003's concat rule `Attn`. Sizes: querySize, keySize, valueSize1, valueSize2, outputSize. */
export class ConcatAttention extends sizesModule('ConcatAttention', ['querySize', 'keySize', 'valueSize1', 'valueSize2', 'outputSize'], (M, s) => M.createConcatAttention(s)) {
  forward(query, key, value, opts) { return qkvForward(this, query, key, value, opts); }
}
function qkvForward(m, q, k, v, opts) {
  const fn = `${m.constructor.name}.forward`;
  const o = checkOptions(opts, fn, QKV_KEYS);
  const e = m.engine;
  const args = attendArgs(o, fn);
  return e._result(fn, () => m._handle.forward(e._t(q, fn, 'query'), e._t(k, fn, 'key'), e._t(v, fn, 'value'),
    e._opt(o.mask, fn, 'mask'), args));
}

/** Seed 004's MultiHeadAttention (masked_fill(mask == 0, -1e9)). Sizes: embedDim, numHeads. */
export class SimpleMultiHeadAttention extends sizesModule('SimpleMultiHeadAttention', ['embedDim', 'numHeads'], (M, s) => M.createSimpleMultiHeadAttention(s)) {
  /** forward(query, key, value, { mask (0 = masked out), selection, k, threshold, renormalize, seed }) */
  forward(query, key, value, opts) {
    const fn = 'SimpleMultiHeadAttention.forward';
    const o = checkOptions(opts, fn, ['mask', ...SELECTION_KEYS]);
    const e = this.engine;
    const sel = selectionArgs(o, fn);
    return e._result(fn, () => this._handle.forward(e._t(query, fn, 'query'), e._t(key, fn, 'key'), e._t(value, fn, 'value'),
      e._opt(o.mask, fn, 'mask'), sel));
  }
}
/** Squeeze-and-Excitation. Sizes: channels, reduction. forward(x (N,C,H,W)) -> { output, weights (N,C) }. */
export class SqueezeExcitation extends sizesModule('SqueezeExcitation', ['channels', 'reduction'], (M, s) => M.createSqueezeExcitation(s)) {
  forward(x) {
    const fn = 'SqueezeExcitation.forward';
    checkArity(arguments, 1, fn);
    const e = this.engine;
    return e._result(fn, () => this._handle.forward(e._t(x, fn, 'input')));
  }
}
/** Learned positional embedding (key "weight", (maxLen, d)). Sizes: maxLen, d. */
export class LearnedPositionalEmbedding extends sizesModule('LearnedPositionalEmbedding', ['maxLen', 'd'], (M, s) => M.createLearnedPositionalEmbedding(s)) {
  /** forward(x (..., L, d), offset = 0) -> Tensor: x + weight[offset : offset + L]. */
  forward(x, offset = 0) {
    const fn = 'LearnedPositionalEmbedding.forward';
    checkArity(arguments, 2, fn);
    const e = this.engine;
    checkInt(offset, fn, 'offset');
    return e._tensorCall(fn, () => this._handle.forward(e._t(x, fn, 'input'), offset));
  }
}

const MHA_KEYS = ['embedDim', 'numHeads', 'dropout', 'bias', 'addBiasKV', 'addZeroAttn', 'kdim', 'vdim', 'batchFirst', 'seed'];
const MHA_FORWARD_KEYS = ['keyPaddingMask', 'attnMask', 'needWeights', 'averageAttnWeights', 'isCausal', ...SELECTION_KEYS];

/** torch.nn.MultiheadAttention: same arguments (camelCase), defaults, state_dict keys and forward semantics. */
export class MultiheadAttention extends AttentionModule {
  constructor(engine, opts) {
    const fn = 'MultiheadAttention';
    checkEngine(engine, fn);
    if (opts === undefined || opts === null) throw new TypeError(`${fn}: options { embedDim, numHeads, ... } are required`);
    const o = checkOptions(opts, fn, MHA_KEYS);
    const dim = (v, n) => (v === undefined || v === null ? 0 : checkInt(v, fn, n, 1));
    const config = {
      embedDim: checkInt(o.embedDim, fn, 'embedDim', 1),
      numHeads: checkInt(o.numHeads, fn, 'numHeads', 1),
      dropout: o.dropout === undefined ? 0 : checkNumber(o.dropout, fn, 'dropout', { min: 0, max: 1, maxOpen: true }),
      bias: o.bias === undefined ? true : checkBool(o.bias, fn, 'bias'),
      addBiasKV: o.addBiasKV === undefined ? false : checkBool(o.addBiasKV, fn, 'addBiasKV'),
      addZeroAttn: o.addZeroAttn === undefined ? false : checkBool(o.addZeroAttn, fn, 'addZeroAttn'),
      kdim: dim(o.kdim, 'kdim'),
      vdim: dim(o.vdim, 'vdim'),
      batchFirst: o.batchFirst === undefined ? false : checkBool(o.batchFirst, fn, 'batchFirst'),
      seed: o.seed === undefined ? 0 : checkInt(o.seed, fn, 'seed', 0, MAX_SEED),
    };
    super(engine, engine._call(fn, () => engine._M.createMultiheadAttention(config)), fn);
    this.embedDim = config.embedDim;
    this.numHeads = config.numHeads;
    this.batchFirst = config.batchFirst;
    this.headDim = config.embedDim / config.numHeads;
  }
  /**
   * forward(query, key, value, { keyPaddingMask, attnMask, needWeights = true, averageAttnWeights = true,
   * isCausal = false, selection, k, threshold, renormalize, seed }) -> AttentionResult
   * (weights null when needWeights is false). torch.nn.MultiheadAttention semantics.
   */
  forward(query, key, value, opts) {
    const fn = 'MultiheadAttention.forward';
    const o = checkOptions(opts, fn, MHA_FORWARD_KEYS);
    const e = this.engine;
    const flag = (name, dflt) => (o[name] === undefined ? dflt : checkBool(o[name], fn, name));
    const args = { needWeights: flag('needWeights', true), averageAttnWeights: flag('averageAttnWeights', true),
      isCausal: flag('isCausal', false), sel: selectionArgs(o, fn) };
    return e._result(fn, () => this._handle.forward(e._t(query, fn, 'query'), e._t(key, fn, 'key'), e._t(value, fn, 'value'),
      e._opt(o.keyPaddingMask, fn, 'keyPaddingMask'), e._opt(o.attnMask, fn, 'attnMask'), args));
  }
  selfAttention(x, opts) { return this.forward(x, x, x, opts); }
  crossAttention(x, memory, opts) { return this.forward(x, memory, memory, opts); }
  /** A copy of the per-head weights (N, H, L, S) of the latest forward, even when needWeights was false. */
  lastWeights() { const e = this.engine; const h = e._check(this._handle.lastWeights(), 'MultiheadAttention.lastWeights'); return h ? new Tensor(e, h, INTERNAL) : null; }
}

const MODULE_CLASSES = [MultiheadAttention, SimpleMultiHeadAttention, BasicAttention, GeneralAttention, AdditiveAttention,
  ConcatAttention, SqueezeExcitation, LearnedPositionalEmbedding];

// `new ap.MultiheadAttention(opts)` = `new MultiheadAttention(ap, opts)`: a constructor function
// sharing the class's prototype, so `instanceof` works with either.
function bindEngine(C, engine) {
  const bound = function (...args) { return new C(engine, ...args); };
  Object.defineProperty(bound, 'name', { value: C.name });
  bound.prototype = C.prototype;
  return bound;
}

const INIT_KEYS = ['wasmUrl', 'wasmBinary', 'maxTensorBytes', 'seed'];

/** The engine: one WebAssembly instance. Create with `await init()`. */
export class AttentionPlayground {
  #broken = null;
  /** @internal */
  constructor(M) {
    this._M = M;
    /** Package/engine version. */
    this.version = M.version();
    /** xsimd arch the kernels were built for ('sse4.1' lowered to wasm SIMD128). */
    this.simdArch = M.simdArch();
    /** true for the SIMD build. */
    this.simd = M.simdWidth() > 1;
    for (const C of MODULE_CLASSES) this[C.name] = bindEngine(C, this);
  }

  /** @internal runs a call into wasm; anything that is not an Error becomes an AttentionError naming `fn`. */
  _call(fn, body) {
    if (this.#broken) throw new AttentionError(`${fn}: this engine stopped after an internal failure (${this.#broken}); create a new one with init()`);
    let value;
    try {
      value = body();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.#broken = e.message;
        throw new AttentionError(`${fn}: internal failure in the engine (${e.message}); create a new engine with init()`);
      }
      if (typeof WebAssembly.Exception === 'function' && e instanceof WebAssembly.Exception) {
        throw new AttentionError(`${fn}: internal error in the engine (a C++ exception escaped its guard)`);
      }
      if (e instanceof Error) throw e;
      throw new AttentionError(`${fn}: the engine failed (${typeof e === 'number' ? 'out of memory or an internal exception' : describe(e)})`);
    }
    return this._check(value, fn);
  }
  /** @internal throws the engine's pending error, if any; returns `value` otherwise. */
  _check(value, fn = 'attention-playground') {
    const err = this._M.takeError();
    if (err) {
      if (value && typeof value.delete === 'function') value.delete();
      throw new AttentionError(err);
    }
    return value;
  }
  /** @internal */
  _result(fn, body) { return readResult(this, this._call(fn, body)); }
  /** @internal */
  _tensorCall(fn, body) { return new Tensor(this, this._call(fn, body), INTERNAL); }
  /** @internal Embind handle of a Tensor argument of this engine. */
  _t(x, fn, name) {
    if (!(x instanceof Tensor)) throw new TypeError(`${fn}: ${name} must be a Tensor (create it with ap.tensor(data, shape)), got ${describe(x)}`);
    if (x.engine !== this) throw new TypeError(`${fn}: ${name} belongs to another engine (each init() is its own wasm instance; tensors cannot cross)`);
    if (x.disposed) throw new Error(`${fn}: ${name} was disposed (Tensor: used after dispose())`);
    return x._handle;
  }
  /** @internal */
  _opt(x, fn, name) { return x === null || x === undefined ? null : this._t(x, fn, name); }

  /**
   * Copies data into a new tensor. dtype 'float32' (default) or 'bool' (nonzero = true).
   * data: Float32Array, Float64Array, number[] (or boolean[] for 'bool'); a Uint8Array needs an explicit
   * dtype, since a mask and a float tensor of 0/1 mean different things to attention.
   */
  tensor(data, shape, dtype, fn = 'tensor') {
    const isTyped = data instanceof Float32Array || data instanceof Float64Array || data instanceof Uint8Array;
    if (!isTyped && !Array.isArray(data)) {
      throw new TypeError(`${fn}: data must be a Float32Array, Float64Array, Uint8Array or an array of numbers, got ${describe(data)}`);
    }
    if (dtype === undefined && data instanceof Uint8Array) {
      throw new TypeError(`${fn}: a Uint8Array needs an explicit dtype: ap.tensor(data, shape, 'bool') for a mask, or 'float32'`);
    }
    dtype = checkEnum(dtype ?? 'float32', fn, 'dtype', DTYPES);
    if (shape === undefined) shape = [data.length];
    if (!Array.isArray(shape)) throw new TypeError(`${fn}: shape must be an array of non-negative integers, got ${describe(shape)}`);
    if (shape.length > 16) throw new RangeError(`${fn}: shape has ${shape.length} dims (at most 16)`);
    let n = 1;
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DIM) {
        throw new RangeError(`${fn}: shape [${shape.map(describe).join(', ')}] has an invalid dimension ${describe(d)} (dimensions must be integers in [0, ${MAX_DIM}])`);
      }
      n *= d;
    }
    if (n !== data.length) throw new RangeError(`${fn}: ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
    const bool = dtype === 'bool';
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; ++i) {
        const x = data[i];
        if (typeof x !== 'number' && !(bool && typeof x === 'boolean')) {
          throw new TypeError(`${fn}: element ${i} is ${describe(x)}, not a number${bool ? ' or boolean' : ''}`);
        }
      }
    }
    const handle = this._call(fn, () => this._M.tensorEmpty(shape, bool ? 1 : 0));
    try {
      const view = handle.view();  // taken after the allocation, which may have grown the heap
      if (bool) { for (let i = 0; i < n; ++i) view[i] = data[i] ? 1 : 0; } else view.set(data);
    } catch (e) {
      handle.delete();
      throw e;
    }
    return new Tensor(this, handle, INTERNAL);
  }

  /** Bytes allocated on the wasm heap right now (for leak checks). */
  heapBytesInUse() { return this._call('heapBytesInUse', () => this._M.heapBytesInUse()); }
  /** The per-tensor byte budget (init({ maxTensorBytes })). */
  get maxTensorBytes() { return this._M.maxTensorBytes(); }

  /**
   * torch.nn.functional.scaled_dot_product_attention (PyTorch >= 2.5 semantics), also returning the weights.
   * opts: { mask (bool: true = takes part; float: added), causal, scale, dropoutP, seed,
   *         selection: 'soft' | 'top_k' | 'threshold' | 'argmax' | 'sample', k, threshold, renormalize }
   * A query whose keys are all masked gets zero weights and output. Without a seed, dropout and
   * sampling draw fresh randomness from this engine's generators on every call.
   */
  scaledDotProductAttention(q, k, v, opts) {
    return this.#sdpa('scaledDotProductAttention', q, k, v, checkOptions(opts, 'scaledDotProductAttention',
      [...QKV_KEYS, 'scale', 'dropoutP']));
  }
  /** Unscaled softmax(Q Kᵀ) V (seed 000). Options as scaledDotProductAttention but no scale. */
  dotProductAttention(q, k, v, opts) {
    const o = checkOptions(opts, 'dotProductAttention', [...QKV_KEYS, 'dropoutP']);
    return this.#sdpa('dotProductAttention', q, k, v, { ...o, scale: 1 });
  }
  #sdpa(fn, q, k, v, o) {
    const args = attendArgs(o, fn, { scale: true, dropout: true });
    return this._result(fn, () => this._M.scaledDotProductAttention(this._t(q, fn, 'query'), this._t(k, fn, 'key'),
      this._t(v, fn, 'value'), this._opt(o.mask, fn, 'mask'), args));
  }

  /** Row entropy of attention weights (..., L, S) -> (..., L). */
  attentionEntropy(weights) {
    checkArity(arguments, 1, 'attentionEntropy');
    return this._tensorCall('attentionEntropy', () => this._M.attentionEntropy(this._t(weights, 'attentionEntropy', 'weights')));
  }
  /** Sinusoidal positional encoding table (maxLen, d). */
  sinusoidalTable(maxLen, d) {
    const fn = 'sinusoidalTable';
    checkArity(arguments, 2, fn);
    checkInt(maxLen, fn, 'maxLen');
    checkInt(d, fn, 'd', 1);
    return this._tensorCall(fn, () => this._M.sinusoidalTable(maxLen, d));
  }
  /** Rotary embedding of x (..., L, d): style 'interleaved' or 'half_split' (default). */
  applyRope(x, opts) {
    const fn = 'applyRope';
    const o = checkOptions(opts, fn, ['style', 'offset']);
    const style = checkEnum(o.style ?? 'half_split', fn, 'style', ['interleaved', 'half_split'], { halfSplit: 'half_split' });
    const offset = o.offset === undefined ? 0 : checkInt(o.offset, fn, 'offset');
    return this._tensorCall(fn, () => this._M.applyRope(this._t(x, fn, 'x'), style === 'interleaved' ? 0 : 1, offset));
  }
  /** ALiBi additive bias (heads, L, S). */
  alibiBias(heads, L, S) {
    const fn = 'alibiBias';
    checkArity(arguments, 3, fn);
    checkInt(heads, fn, 'heads', 1);
    checkInt(L, fn, 'L');
    checkInt(S, fn, 'S');
    return this._tensorCall(fn, () => this._M.alibiBias(heads, L, S));
  }
  /** torch.matmul with batch broadcasting. */
  matmul(a, b) {
    checkArity(arguments, 2, 'matmul');
    return this._tensorCall('matmul', () => this._M.matmul(this._t(a, 'matmul', 'input'), this._t(b, 'matmul', 'other')));
  }
  /** Softmax over the last dim. */
  softmax(x) {
    checkArity(arguments, 1, 'softmax');
    return this._tensorCall('softmax', () => this._M.softmax(this._t(x, 'softmax', 'input')));
  }
  /** Parses safetensors bytes (untrusted input) into { name: Tensor } (caller disposes). */
  loadSafetensors(bytes) {
    const fn = 'loadSafetensors';
    checkArity(arguments, 1, fn);
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
    const buf = this._call(fn, () => this._M.bytesEmpty(bytes.length));
    let sd;
    try {
      buf.view().set(bytes);
      sd = this._call(fn, () => this._M.parseSafetensors(buf));
    } finally {
      buf.delete();
    }
    const out = {};
    try {
      for (const name of sd.keys()) out[name] = new Tensor(this, this._check(sd.get(name), fn), INTERNAL);
      return out;
    } catch (e) {
      for (const t of Object.values(out)) t.dispose();
      throw e;
    } finally {
      sd.delete();
    }
  }
}

/**
 * Loads the engine (one WebAssembly instance). In Node the .wasm is read from the package folder;
 * in browsers it is fetched next to this module unless `wasmUrl` says otherwise; `wasmBinary`
 * (ArrayBuffer/Uint8Array) skips loading altogether. `maxTensorBytes`: the per-tensor byte budget
 * (default 256 MiB; model files are not held to it). `seed`: seeds the engine's dropout and sampling generators.
 */
export async function init(opts) {
  const o = checkOptions(opts, 'init', INIT_KEYS);
  const moduleArg = {};
  if (o.wasmUrl !== undefined && o.wasmUrl !== null) {
    if (typeof o.wasmUrl !== 'string' && !(o.wasmUrl instanceof URL)) throw new TypeError(`init: wasmUrl must be a string or URL, got ${describe(o.wasmUrl)}`);
    moduleArg.wasmUrl = String(o.wasmUrl);
  }
  if (o.wasmBinary !== undefined && o.wasmBinary !== null) {
    if (!(o.wasmBinary instanceof ArrayBuffer || ArrayBuffer.isView(o.wasmBinary))) throw new TypeError(`init: wasmBinary must be an ArrayBuffer or Uint8Array, got ${describe(o.wasmBinary)}`);
    moduleArg.wasmBinary = o.wasmBinary;
  }
  const maxBytes = o.maxTensorBytes === undefined ? 0 : checkInt(o.maxTensorBytes, 'init', 'maxTensorBytes', 1, 2 ** 31);
  const seeded = o.seed !== undefined;
  const seed = seeded ? checkInt(o.seed, 'init', 'seed', 0, MAX_SEED) : 0;
  const M = await createAttentionModule(moduleArg);
  const engine = new AttentionPlayground(M);
  engine._call('init', () => M.configure(maxBytes, seeded, seed));
  return engine;
}

export default init;
