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
// A dropout probability in [0, 1) that stays below 1 in float32 (the engine's precision).
function checkProbability(v, fn, name) {
  checkNumber(v, fn, name, { min: 0, max: 1, maxOpen: true });
  if (Math.fround(v) >= 1) throw new RangeError(`${fn}: ${name} must be below 1 in float32, got ${describe(v)}`);
  return v;
}
function checkBool(v, fn, name) {
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}
// A causal option: false; true or 'upper-left' (torch's is_causal: query i sees keys j <= i);
// 'lower-right' (torch.nn.attention.bias.causal_lower_right: j <= i + S - L, what KV-cache decoding needs).
function causalArg(v, fn, name) {
  if (typeof v === 'boolean') return { causal: v, lowerRight: false };
  if (v === 'upper-left' || v === 'lower-right') return { causal: true, lowerRight: v === 'lower-right' };
  throw new (typeof v === 'string' ? RangeError : TypeError)(
    `${fn}: ${name} must be a boolean, 'upper-left' or 'lower-right'; got ${describe(v)}`);
}
function checkEnum(v, fn, name, values, aliases = {}) {
  const key = typeof v === 'string' ? (aliases[v] ?? v) : undefined;
  if (!values.includes(key)) {
    throw new (typeof v === 'string' ? RangeError : TypeError)(
      `${fn}: ${name} must be one of ${values.map((x) => `'${x}'`).join(', ')}; got ${describe(v)}`);
  }
  return key;
}
/**
 * The options object, snapshotted: undefined/null mean {}; unknown keys throw a TypeError listing the
 * valid ones. Each own key is read once (a getter runs once, before any wasm handle is taken) into an
 * object without a prototype, so inherited or polluted keys mean nothing and later reads see the same values.
 */
function checkOptions(opts, fn, valid) {
  const out = Object.create(null);
  if (opts === undefined || opts === null) return out;
  if (typeof opts !== 'object' || readingUser(fn, 'options', () => Array.isArray(opts))) {
    throw new TypeError(`${fn}: options must be an object, got ${describe(opts)}`);
  }
  const keys = readingUser(fn, 'options', () => Reflect.ownKeys(opts));
  for (const key of keys) {
    if (typeof key !== 'string' || !valid.includes(key)) {
      throw new TypeError(`${fn}: unknown option ${typeof key === 'string' ? `'${key.slice(0, 40)}'` : describe(key)} (valid options: ${valid.join(', ')})`);
    }
    out[key] = readingUser(fn, `option '${key}'`, () => opts[key]);
  }
  return out;
}
/**
 * Runs `read`, which reads a caller's value (getters and Proxy traps run here and may throw anything,
 * a revoked Proxy throws on every touch); what it throws becomes a TypeError naming the call.
 */
function readingUser(fn, what, read) {
  try {
    return read();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${fn}`)) throw e;  // one of ours
    throw new TypeError(`${fn}: reading ${what} failed: ${e instanceof Error ? e.message : describe(e)}`);
  }
}
// The length of an array-like from a caller, read once and checked.
function lengthOf(a, fn, what, max) {
  const n = readingUser(fn, `${what}.length`, () => a.length);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${fn}: ${what} has length ${describe(n)} (at most ${max})`);
  }
  return n;
}
// "256.0 MiB", as the engine prints sizes.
function fmtBytes(b) {
  if (b < 1024) return `${b} bytes`;
  const [v, u] = b < 2 ** 20 ? [b / 1024, 'KiB'] : b < 2 ** 30 ? [b / 2 ** 20, 'MiB'] : [b / 2 ** 30, 'GiB'];
  return `${v.toFixed(1)} ${u}`;
}
function checkArity(args, max, fn) {
  if (args.length > max) throw new TypeError(`${fn}: expected at most ${max} arguments, got ${args.length}`);
}

// "Class.method" for a method's `this`, read without running user code.
function methodName(self, method) {
  return `${Owned._is(self) ? Owned._whatOf(self) : 'module'}.${method}`;
}
// The engine of a method's `this` (a module of this package), read without running user code.
function engineOf(self, fn) {
  if (!Owned._is(self)) throw new TypeError(`${fn}: called on ${describe(self)}, not a module`);
  return Owned._engineOf(self);
}
// State-dict values that are plain data, copied once: typed arrays as they are, arrays checked into a Float64Array.
function copyValues(value, fn, maxElements) {
  if (TENSOR_ARRAYS.includes(typedKind(value))) return value;
  if (!readingUser(fn, 'the value', () => Array.isArray(value))) throw new TypeError(`${fn} must be a Float32Array, number[] or Tensor, got ${describe(value)}`);
  const out = new Float64Array(lengthOf(value, fn, 'the value', maxElements));
  for (let i = 0; i < out.length; ++i) {
    const x = readingUser(fn, `element ${i}`, () => value[i]);
    if (typeof x !== 'number') throw new TypeError(`${fn}: element ${i} is ${describe(x)}, not a number`);
    out[i] = x;
  }
  return out;
}
// An object to hand out, keyed by names from a file or a module: own data properties only, so a
// name like "__proto__" is an ordinary key.
function defineEntry(obj, name, value) {
  Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Work estimates, in units of one SIMD GEMM multiply-add (~0.06 ns here), for calls whose
// cost the per-tensor byte budget does not bound: a [8192, 8192] @ [8192, 8192] matmul is
// two legal 256 MiB inputs and ~2 minutes of single-threaded wasm, and 2^26 batches of
// 1 x 1 attention are ~7 s of per-matrix overhead. Calls over init({ maxCallWork })
// (default 2^34, about a second) fail at once instead. The constants are measured costs,
// rounded up: per matrix of a batch, per softmax row, per transcendental.
const DEFAULT_MAX_WORK = 2 ** 34;
const PER_MATRIX = 2048, PER_ROW = 512, PER_TRIG = 1024, PER_TANH = 16, PER_TEXT_BYTE = 8192;
const prod = (dims) => dims.reduce((a, b) => a * b, 1);
function fmtWork(w) { return w === Infinity ? 'unlimited' : w.toExponential(1).replace('e+', 'e'); }
// Product of the broadcast of the leading (batch) dims; >= the real one when they do not broadcast.
function batchOf(...shapes) {
  const n = Math.max(...shapes.map((s) => s.length));
  let p = 1;
  for (let i = 1; i <= n; ++i) p *= Math.max(...shapes.map((s) => (i <= s.length ? s[s.length - i] : 1)));
  return p;
}
const lead = (s, keep) => s.slice(0, Math.max(0, s.length - keep));
function sdpaWork(q, k, v, maxBytes) {
  if (!q || !k || !v || q.length < 2 || k.length < 2 || v.length < 2) return 0;
  const L = q.at(-2), E = q.at(-1), S = k.at(-2), Ev = v.at(-1);
  const batch = batchOf(lead(q, 2), lead(k, 2), lead(v, 2));
  if (batch * L * S * 4 > maxBytes || batch * L * S === 0) return 0;  // the engine refuses it by size, or it is no work
  return batchOf(lead(q, 2), lead(k, 2), lead(v, 2)) * (L * S * (E + Ev + 8) + L * PER_ROW + PER_MATRIX);
}
function matmulWork(a, b, maxBytes) {
  if (!a || !b || !a.length || !b.length) return 0;
  const A = a.length === 1 ? [1, a[0]] : a, B = b.length === 1 ? [b[0], 1] : b;
  const out = batchOf(lead(A, 2), lead(B, 2)) * A.at(-2) * B.at(-1);
  if (out * 4 > maxBytes || out === 0) return 0;  // the engine refuses it by size, or it is no work
  return batchOf(lead(A, 2), lead(B, 2)) * (A.at(-2) * A.at(-1) * B.at(-1) + A.at(-2) * B.at(-1) + PER_MATRIX);
}
// Row-wise ops over the last dim (softmax, entropy): per element and per row.
function rowsWork(x, perElement, maxBytes = Infinity) {
  if (!x || !x.length) return 0;
  const rows = prod(lead(x, 1));
  if (rows * 4 > maxBytes) return 0;  // the engine refuses the (rows) output by size
  return rows * (x.at(-1) * perElement + PER_ROW);
}
// Multi-head attention, (N, L, E) queries and (N, S, kdim/vdim) keys/values: projections and attention.
function mhaWork(N, L, S, E, kdim, vdim) {
  return N * (2 * L * E * E + S * E * (kdim + vdim) + L * S * (2 * E + 8) + L * PER_ROW + PER_MATRIX);
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
  get engine() { return Owned._is(this) ? this.#engine : undefined; }
  // Brand checks and reads that run no user code (no getters, no Proxy traps).
  static _is(x) { return typeof x === 'object' && x !== null && #handle in x; }
  static _engineOf(x) { return x.#engine; }
  static _handleOf(x) { return x.#handle; }
  static _whatOf(x) { return x.#what; }
  /** @internal the Embind handle; throws once disposed. */
  get _handle() {
    if (!Owned._is(this)) throw new TypeError(`called on ${describe(this)}, not an object of attention-playground`);
    if (!this.#handle) throw new Error(`${this.#what}: used after dispose()`);
    return this.#handle;
  }
  get disposed() { return Owned._is(this) ? this.#handle === null : undefined; }
  dispose() {
    if (!Owned._is(this) || !this.#handle) return;
    leakRegistry?.unregister(this);
    this.#handle.delete();
    this.#handle = null;
  }
  [Symbol.dispose]() { this.dispose(); }
}

const DTYPES = ['float32', 'bool'];
const INTERNAL = Symbol('attention-playground internal');  // only this module constructs Tensors and engines
const ENGINES = new WeakSet();

/** An n-dimensional float32 (or bool) array in wasm memory. Create with `ap.tensor(data, shape, dtype)`. */
export class Tensor extends Owned {
  /** @internal */
  constructor(engine, handle, token) {
    if (token !== INTERNAL) throw new TypeError('Tensor: create tensors with ap.tensor(data, shape, dtype)');
    super(engine, handle, 'Tensor');
  }
  /** Dimensions, e.g. [2, 5, 16]. */
  get shape() { return tensorHandle(this, 'shape').shape(); }
  /** 'float32' or 'bool'. */
  get dtype() { return DTYPES[tensorHandle(this, 'dtype').dtype()]; }
  /** Number of elements. */
  get size() { return tensorHandle(this, 'size').numel(); }
  /** A copy of the data: Float32Array, or Uint8Array (0/1) for bool tensors. */
  toArray() { return tensorHandle(this, 'toArray').view().slice(); }
  /**
   * The data without a copy: a Float32Array (Uint8Array for bool) over the tensor's memory in the
   * wasm heap. Read it at once: it is detached when the heap grows (any later call into the engine
   * may grow it) and it must not be used after dispose().
   */
  view() { return tensorHandle(this, 'view').view(); }
}

// A Tensor of this package (by its private fields: no user code runs).
function isTensor(x) { return Owned._is(x) && Owned._whatOf(x) === 'Tensor'; }
function tensorHandle(self, what) {
  if (!isTensor(self)) throw new TypeError(`Tensor.${what}: called on ${describe(self)}, not a Tensor`);
  return self._handle;
}

/** Output and attention weights of one call. dispose() frees them (and the steps). */
export class AttentionResult {
  /** @internal */
  constructor(output, weights, steps = null) {
    /** @type {Tensor} */
    this.output = output;
    /** @type {Tensor | null} */
    this.weights = weights;
    /** With { steps: true }: { scores, scaled, masked, softmax }, each shaped like the weights; else null. */
    this.steps = steps;
  }
  dispose() {
    for (const t of [this.output, this.weights, ...Object.values(this.steps ?? {})]) if (Owned._is(t)) t.dispose();
  }
  [Symbol.dispose]() { this.dispose(); }
}

const STEP_NAMES = ['scores', 'scaled', 'masked', 'softmax'];
function readResult(engine, result, fn) {
  const made = [];
  try {
    const take = (h) => { const t = h ? new Tensor(engine, h, INTERNAL) : null; if (t) made.push(t); return t; };
    const out = take(engine._check(result.takeOutput(), fn));
    const w = take(engine._check(result.takeWeights(), fn));
    let steps = null;
    STEP_NAMES.forEach((name, i) => {
      const t = take(engine._check(result.takeStep(i), fn));
      if (t) (steps ??= {})[name] = t;
    });
    return new AttentionResult(out, w, steps);
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  } finally {
    result.delete();
  }
}

const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
// %TypedArray%.prototype getters, called on a value: they read internal slots, so no getter,
// prototype or Proxy trap of the caller's runs (a Proxy is not a typed array to them).
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const typedTag = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag).get;
const typedLengthOf = Object.getOwnPropertyDescriptor(typedArrayProto, 'length').get;
/** 'Float32Array' | 'Float64Array' | 'Uint8Array' | ... for a real typed array, else undefined. */
function typedKind(x) { return typedTag.call(x); }
const TENSOR_ARRAYS = ['Float32Array', 'Float64Array', 'Uint8Array'];
function isArrayBuffer(x) {
  try { arrayBufferByteLength.call(x); return true; } catch { return false; }
}
function checkSelf(self, fn) {
  if (!ENGINES.has(self)) throw new TypeError(`${fn}: called on ${describe(self)}, not an engine from init()`);
}
function checkEngine(engine, what) {
  if (!ENGINES.has(engine)) {
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
    const fn = methodName(this, 'loadStateDict');
    checkArity(arguments, 2, fn);
    const engine = engineOf(this, fn);
    const o = checkOptions(opts, fn, ['strict']);
    const strict = o.strict === undefined ? true : checkBool(o.strict, fn, 'strict');
    if (dict === null || typeof dict !== 'object' || readingUser(fn, 'the state dict', () => Array.isArray(dict))) {
      throw new TypeError(`${fn}: expected an object of name -> Float32Array | Tensor, got ${describe(dict)}`);
    }
    // Every key and value is read once, before any wasm handle is taken: a getter cannot
    // dispose something this call is about to use.
    const names = readingUser(fn, 'the state dict', () => Object.keys(dict));
    const entries = names.map((name) => {
      const label = `'${name.slice(0, 60)}'`;
      const value = readingUser(fn, label, () => dict[name]);
      return { name, label, tensor: Owned._is(value) ? value : null,
        values: Owned._is(value) ? null : copyValues(value, `${fn}: ${label}`, engine.maxTensorBytes / 4) };
    });
    const M = engine._M;
    const handle = engine._self(this, fn);
    const own = engine._call(fn, () => handle.stateDict());
    const sd = new M.StateDict();
    const temps = [];
    try {
      for (const e of entries) {
        if (e.values) {
          const tensor = engine._tensor(e.values, own.shape(e.name) ?? [e.values.length], 'float32', `${fn}: ${e.label}`);
          temps.push(tensor);
          e.tensor = tensor;
        }
      }
      for (const e of entries) sd.set(e.name, engine._t(e.tensor, fn, e.label));
      engine._call(fn, () => handle.loadStateDict(sd, strict));
    } finally {
      sd.delete();
      own.delete();
      for (const t of temps) t.dispose();
    }
    return this;
  }
  /** { name: Tensor }: copies of the parameters (the caller disposes them). */
  stateDict() {
    const fn = methodName(this, 'stateDict');
    const engine = engineOf(this, fn);
    const sd = engine._call(fn, () => engine._self(this, fn).stateDict());
    const out = {};
    try {
      for (const name of sd.keys()) defineEntry(out, name, new Tensor(engine, engine._call(fn, () => sd.get(name)), INTERNAL));
      return out;
    } catch (e) {
      for (const t of Object.values(out)) t.dispose();
      throw e;
    } finally {
      sd.delete();
    }
  }
  /** Training mode enables dropout. */
  train(on = true) {
    const fn = methodName(this, 'train');
    checkBool(on, fn, 'on');
    engineOf(this, fn)._self(this, fn).train(on);
    return this;
  }
  eval() { return this.train(false); }
  get training() { const fn = methodName(this, 'training'); return engineOf(this, fn)._self(this, fn).isTraining(); }
  get numParameters() { const fn = methodName(this, 'numParameters'); return engineOf(this, fn)._self(this, fn).numParameters(); }
}

// Modules built from positive integer sizes, with forward(q, k, v, opts).
const QKV_KEYS = ['mask', 'causal', 'isCausal', 'steps', ...SELECTION_KEYS];
function attendArgs(o, fn, { scale = false, dropout = false } = {}) {
  const c = causalArg(o.causal ?? o.isCausal ?? false, fn, o.causal !== undefined ? 'causal' : 'isCausal');
  if (o.causal !== undefined && o.isCausal !== undefined && o.causal !== o.isCausal) {
    throw new TypeError(`${fn}: causal and isCausal disagree`);
  }
  const hasScale = scale && o.scale !== undefined && o.scale !== null;
  return {
    causal: c.causal,
    causalLowerRight: c.lowerRight,
    hasScale,
    scale: hasScale ? checkNumber(o.scale, fn, 'scale', { min: -3.4e38, max: 3.4e38 }) : 1,
    dropoutP: dropout && o.dropoutP !== undefined ? checkProbability(o.dropoutP, fn, 'dropoutP') : 0,
    sel: selectionArgs(o, fn),
    steps: o.steps === undefined ? false : checkBool(o.steps, fn, 'steps'),
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
        SIZES.set(this, sizes.slice());
      }
    },
  }[name];
  return C;
}

/** Seed 000's BasicAttention: softmax(Q Kᵀ) V. Size: hiddenSize. */
export class BasicAttention extends sizesModule('BasicAttention', ['hiddenSize'], (M, s) => M.createBasicAttention(s)) {
  /** forward(query, key, value, { mask, causal, selection, k, threshold, renormalize, seed }) -> AttentionResult */
  forward(query, key, value, opts) { return qkvForward(this, query, key, value, opts, () => 0); }
}
/** Luong "general": score = qᵀ W k. Sizes: querySize, keySize. */
export class GeneralAttention extends sizesModule('GeneralAttention', ['querySize', 'keySize'], (M, s) => M.createGeneralAttention(s)) {
  forward(query, key, value, opts) {
    return qkvForward(this, query, key, value, opts, ([qSize, kSize], q, k) => prod(lead(k, 1)) * qSize * kSize);
  }
}
/** Bahdanau additive: score = w_vᵀ tanh(W_q q + W_k k). Sizes: keySize, querySize, numHiddens. */
export class AdditiveAttention extends sizesModule('AdditiveAttention', ['keySize', 'querySize', 'numHiddens'], (M, s) => M.createAdditiveAttention(s)) {
  forward(query, key, value, opts) {
    return qkvForward(this, query, key, value, opts, ([kSize, qSize, H], q, k) =>
      H * (prod(lead(q, 1)) * qSize + prod(lead(k, 1)) * kSize + batchOf(lead(q, 2), lead(k, 2)) * q.at(-2) * k.at(-2) * PER_TANH));
  }
}
/** Seed 003's concat rule `Attn`. Sizes: querySize, keySize, valueSize1, valueSize2, outputSize. */
export class ConcatAttention extends sizesModule('ConcatAttention', ['querySize', 'keySize', 'valueSize1', 'valueSize2', 'outputSize'], (M, s) => M.createConcatAttention(s)) {
  forward(query, key, value, opts) {
    return qkvForward(this, query, key, value, opts, ([qs, ks, v1, v2, out], q) =>
      prod(lead(q, 1)) * ((qs + ks) * v1 + v1 * v2 + (qs + v2) * out));
  }
}
const SIZES = new WeakMap();  // module -> its constructor sizes (for work estimates)
function qkvForward(m, q, k, v, opts, extraWork) {
  const fn = methodName(m, 'forward');
  const e = engineOf(m, fn);
  const o = checkOptions(opts, fn, QKV_KEYS);
  const args = attendArgs(o, fn);
  const [qs, ks, vs] = [q, k, v].map((t) => e._shapeOf(t));
  e._work(fn, sdpaWork(qs, ks, vs, e.maxTensorBytes) + (qs && ks && vs ? extraWork(SIZES.get(m) ?? [], qs, ks, vs) : 0));
  return e._result(fn, () => e._self(m, fn).forward(e._t(q, fn, 'query'), e._t(k, fn, 'key'), e._t(v, fn, 'value'),
    e._opt(o.mask, fn, 'mask'), args));
}

/** Seed 004's MultiHeadAttention (masked_fill(mask == 0, -1e9)). Sizes: embedDim, numHeads. */
export class SimpleMultiHeadAttention extends sizesModule('SimpleMultiHeadAttention', ['embedDim', 'numHeads'], (M, s) => M.createSimpleMultiHeadAttention(s)) {
  /** forward(query, key, value, { mask (0 = masked out), selection, k, threshold, renormalize, seed }) */
  forward(query, key, value, opts) {
    const fn = 'SimpleMultiHeadAttention.forward';
    const e = engineOf(this, fn);
    const o = checkOptions(opts, fn, ['mask', ...SELECTION_KEYS]);
    const sel = selectionArgs(o, fn);
    const [qs, ks] = [query, key].map((t) => e._shapeOf(t));
    const E = (SIZES.get(this) ?? [0])[0];
    if (qs?.length === 3 && ks?.length === 3) e._work(fn, mhaWork(qs[0], qs[1], ks[1], E, E, E));
    return e._result(fn, () => e._self(this, fn).forward(e._t(query, fn, 'query'), e._t(key, fn, 'key'), e._t(value, fn, 'value'),
      e._opt(o.mask, fn, 'mask'), sel));
  }
}
/** Squeeze-and-Excitation. Sizes: channels, reduction. forward(x (N,C,H,W)) -> { output, weights (N,C) }. */
export class SqueezeExcitation extends sizesModule('SqueezeExcitation', ['channels', 'reduction'], (M, s) => M.createSqueezeExcitation(s)) {
  forward(x) {
    const fn = 'SqueezeExcitation.forward';
    checkArity(arguments, 1, fn);
    const e = engineOf(this, fn);
    const xs = e._shapeOf(x), [C, r] = SIZES.get(this) ?? [0, 1];
    if (xs?.length === 4) e._work(fn, xs[0] * (2 * C * Math.floor(C / r) + C * (xs[2] * xs[3] + PER_TANH) + PER_MATRIX));
    return e._result(fn, () => e._self(this, fn).forward(e._t(x, fn, 'input')));
  }
}
/** Learned positional embedding (key "weight", (maxLen, d)). Sizes: maxLen, d. */
export class LearnedPositionalEmbedding extends sizesModule('LearnedPositionalEmbedding', ['maxLen', 'd'], (M, s) => M.createLearnedPositionalEmbedding(s)) {
  /** forward(x (..., L, d), offset = 0) -> Tensor: x + weight[offset : offset + L]. */
  forward(x, offset = 0) {
    const fn = 'LearnedPositionalEmbedding.forward';
    checkArity(arguments, 2, fn);
    const e = engineOf(this, fn);
    checkInt(offset, fn, 'offset');
    return e._tensorCall(fn, () => e._self(this, fn).forward(e._t(x, fn, 'input'), offset));
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
      dropout: o.dropout === undefined ? 0 : checkProbability(o.dropout, fn, 'dropout'),
      bias: o.bias === undefined ? true : checkBool(o.bias, fn, 'bias'),
      addBiasKV: o.addBiasKV === undefined ? false : checkBool(o.addBiasKV, fn, 'addBiasKV'),
      addZeroAttn: o.addZeroAttn === undefined ? false : checkBool(o.addZeroAttn, fn, 'addZeroAttn'),
      kdim: dim(o.kdim, 'kdim'),
      vdim: dim(o.vdim, 'vdim'),
      batchFirst: o.batchFirst === undefined ? false : checkBool(o.batchFirst, fn, 'batchFirst'),
      seed: o.seed === undefined ? 0 : checkInt(o.seed, fn, 'seed', 0, MAX_SEED),
    };
    super(engine, engine._call(fn, () => engine._M.createMultiheadAttention(config)), fn);
    SIZES.set(this, config);
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
    const e = engineOf(this, fn);
    const o = checkOptions(opts, fn, MHA_FORWARD_KEYS);
    const flag = (name, dflt) => (o[name] === undefined ? dflt : checkBool(o[name], fn, name));
    const causal = causalArg(o.isCausal ?? false, fn, 'isCausal');
    const args = { needWeights: flag('needWeights', true), averageAttnWeights: flag('averageAttnWeights', true),
      isCausal: causal.causal, causalLowerRight: causal.lowerRight, sel: selectionArgs(o, fn) };
    const c = SIZES.get(this);
    const [qs, ks, vs] = [query, key, value].map((t) => e._shapeOf(t));
    if (c && qs && ks && vs && qs.length === ks.length && qs.length >= 2) {
      const nl = (s) => (s.length === 2 ? [1, s[0]] : c.batchFirst ? [s[0], s[1]] : [s[1], s[0]]);
      const [N, L] = nl(qs), S = nl(ks)[1];
      e._work(fn, mhaWork(N, L, S, c.embedDim, ks.at(-1), vs.at(-1)));
    }
    return e._result(fn, () => e._self(this, fn).forward(e._t(query, fn, 'query'), e._t(key, fn, 'key'), e._t(value, fn, 'value'),
      e._opt(o.keyPaddingMask, fn, 'keyPaddingMask'), e._opt(o.attnMask, fn, 'attnMask'), args));
  }
  selfAttention(x, opts) { return this.forward(x, x, x, opts); }
  crossAttention(x, memory, opts) { return this.forward(x, memory, memory, opts); }
  /** A copy of the per-head weights (N, H, L, S) of the latest forward, even when needWeights was false. */
  lastWeights() {
    const fn = 'MultiheadAttention.lastWeights';
    const e = engineOf(this, fn);
    const h = e._call(fn, () => e._self(this, fn).lastWeights());
    return h ? new Tensor(e, h, INTERNAL) : null;
  }
}

// ---------------------------------------------------------------------------
// Tokenizers. Text and files cross into wasm as UTF-8 bytes, ids as int32 arrays: one copy each way.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();  // not fatal: bytes that are not UTF-8 become U+FFFD
const MAX_IDS = 2 ** 26;  // ids in one call (256 MiB of int32): far past any model's context
const TYPED_IDS = ['Int32Array', 'Uint32Array', 'Uint16Array', 'Uint8Array', 'Int16Array', 'Int8Array'];

// Text, bytes or a JSON-able object, as UTF-8 bytes (a copy; no user code runs after this).
function bytesOf(value, fn, what, { json = false } = {}) {
  if (typeof value === 'string') return utf8Encoder.encode(value);
  // Copies through the Uint8Array constructor: no species lookup, no iterator (no user code).
  // A detached buffer throws there: say which argument.
  const copy = (make) => {
    try { return make(); } catch (e) { throw new TypeError(`${fn}: ${what} cannot be read (${e instanceof Error ? e.message : describe(e)})`); }
  };
  if (isArrayBuffer(value)) return copy(() => new Uint8Array(new Uint8Array(value)));
  if (typedKind(value) === 'Uint8Array') return copy(() => new Uint8Array(value));
  if (json && typeof value === 'object' && value !== null) {
    const text = readingUser(fn, what, () => JSON.stringify(value));
    if (typeof text !== 'string') throw new TypeError(`${fn}: ${what} is not JSON-serialisable`);
    return utf8Encoder.encode(text);
  }
  throw new TypeError(`${fn}: ${what} must be ${json ? 'an object, ' : ''}a string, Uint8Array or ArrayBuffer, got ${describe(value)}`);
}
// Token ids from a caller: an Int32Array (or other integer typed array) or an array of integers,
// copied once, after their length is checked against `max` (a model's context, say).
function idsOf(ids, fn, what = 'ids', max = MAX_IDS) {
  const kind = typedKind(ids);
  if (kind !== undefined && TYPED_IDS.includes(kind)) {
    const n = typedLengthOf.call(ids);
    if (n > max) throw new RangeError(`${fn}: ${what} has ${n} tokens; at most ${max}`);
  }
  if (['Int32Array', 'Uint16Array', 'Uint8Array', 'Int16Array', 'Int8Array'].includes(kind)) return new Int32Array(ids);
  if (kind === 'Uint32Array') {
    const out = new Int32Array(ids);
    const bad = out.findIndex((x) => x < 0);
    if (bad >= 0) throw new RangeError(`${fn}: ${what}[${bad}] = ${ids[bad]} is not a valid token id`);
    return out;
  }
  if (kind !== undefined || !readingUser(fn, what, () => Array.isArray(ids))) {
    throw new TypeError(`${fn}: ${what} must be an Int32Array or an array of integers, got ${describe(ids)}`);
  }
  const n = readingUser(fn, `${what}.length`, () => ids.length);
  if (typeof n === 'number' && Number.isInteger(n) && n > max) throw new RangeError(`${fn}: ${what} has ${n} tokens; at most ${max}`);
  const out = new Int32Array(lengthOf(ids, fn, what, max));
  for (let i = 0; i < out.length; ++i) {
    const x = readingUser(fn, `${what}[${i}]`, () => ids[i]);
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 2 ** 31 - 1) {
      throw new (typeof x === 'number' ? RangeError : TypeError)(`${fn}: ${what}[${i}] = ${describe(x)} is not a valid token id (an integer >= 0)`);
    }
    out[i] = x;
  }
  return out;
}

/** Text <-> token ids: GPT-2 byte-level BPE, or char- / word-level. Create with `ap.loadTokenizer(spec, files)`. */
export class Tokenizer extends Owned {
  /** @internal */
  constructor(engine, handle, token) {
    if (token !== INTERNAL) throw new TypeError('Tokenizer: create it with ap.loadTokenizer(spec, files)');
    super(engine, handle, 'Tokenizer');
  }
  /** 'gpt2-bpe', 'char' or 'word'. */
  get kind() { const fn = methodName(this, 'kind'); return engineOf(this, fn)._self(this, fn).kind(); }
  get vocabSize() { const fn = methodName(this, 'vocabSize'); return engineOf(this, fn)._self(this, fn).vocabSize(); }
  /** Token ids of `text` (a string). */
  encode(text) {
    const fn = methodName(this, 'encode');
    const e = engineOf(this, fn);
    if (typeof text !== 'string') throw new TypeError(`${fn}: text must be a string, got ${describe(text)}`);
    return e._encode(e._self(this, fn), text, fn);
  }
  /** The text of `ids` (Int32Array or number[]); bytes that do not form UTF-8 become U+FFFD. */
  decode(ids) {
    const fn = methodName(this, 'decode');
    const e = engineOf(this, fn);
    return e._decode(e._self(this, fn), idsOf(ids, fn), fn);
  }
}

// ---------------------------------------------------------------------------
// Models loaded from files: ap.loadModel({ config, weights, tokenizer }).

/** One attention map of a model's forward: which layer, which kind, and its weights. */
export class AttentionMap {
  /** @internal */
  constructor(layer, kind, weights) {
    /** Layer (or block) index, from 0. */
    this.layer = layer;
    /** 'self', 'cross' or 'channel' (SE blocks). */
    this.kind = kind;
    /** @type {Tensor} */
    this.weights = weights;
  }
}

/** What a model's forward returns: logits and, with { capture: true }, every attention map. */
export class ModelOutput {
  /** @internal */
  constructor(logits, attentions) {
    /** @type {Tensor} */
    this.logits = logits;
    /** @type {AttentionMap[] | null} */
    this.attentions = attentions;
  }
  dispose() {
    this.logits?.dispose();
    for (const a of this.attentions ?? []) a.weights.dispose();
    for (const p of this.projections ?? []) for (const t of [p.q, p.k, p.v]) t?.dispose();
  }
  [Symbol.dispose]() { this.dispose(); }
}

function readModelOutput(engine, out, fn) {
  const tensors = [];
  try {
    const h = engine._check(out.takeLogits(), fn);
    const logits = h ? new Tensor(engine, h, INTERNAL) : null;
    if (logits) tensors.push(logits);
    const n = out.count();
    const maps = [], projections = new Map();
    for (let i = 0; i < n; ++i) {
      const w = new Tensor(engine, out.takeMap(i), INTERNAL);
      tensors.push(w);
      const kind = out.kind(i), layer = out.layer(i);
      const m = /^([qkv]):(self|cross)$/.exec(kind);  // forward's { qkv: true }: "q:self", "k:cross", ...
      if (m) {
        const key = `${layer}:${m[2]}`;
        if (!projections.has(key)) projections.set(key, { layer, kind: m[2] });
        projections.get(key)[m[1]] = w;
      } else {
        maps.push(new AttentionMap(layer, kind, w));
      }
    }
    const result = new ModelOutput(logits, maps);
    if (projections.size) result.projections = [...projections.values()];
    return result;
  } catch (e) {
    for (const t of tensors) t.dispose();
    throw e;
  } finally {
    out.delete();
  }
}

// The multi-head attentions of a model config, as its maps number them: [{ layer, kind, heads }];
// null for models without heads to switch off.
function attentionLayout(c) {
  const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  switch (c.model_type) {
    case 'gpt2': case 'gpt': return range(c.n_layer, (l) => ({ layer: l, kind: 'self', heads: c.n_head }));
    case 'encoder-classifier': return range(c.num_layers, (l) => ({ layer: l, kind: 'self', heads: c.nhead }));
    case 'encoder-decoder': {
      const E = c.num_encoder_layers, D = c.num_decoder_layers, H = c.nhead;
      return [...range(E, (l) => ({ layer: l, kind: 'self', heads: H })),
        ...range(D, (l) => [{ layer: E + l, kind: 'self', heads: H }, { layer: E + l, kind: 'cross', heads: H }]).flat()];
    }
    default: return null;
  }
}

/** Base of the models ap.loadModel returns. */
class Model extends Owned {
  #config;
  #busy = null;  // the call whose onToken callback is running, if any
  /** @internal */
  constructor(engine, handle, token) {
    if (token !== INTERNAL) throw new TypeError(`${new.target.name}: load models with ap.loadModel({ config, weights, tokenizer })`);
    super(engine, handle, new.target.name);
    this.#config = JSON.parse(handle.config());
  }
  /**
   * @internal the handle for a call that runs or changes the model; refused while one of its calls
   * is inside a user callback (generate's onToken), which would pull the model out from under it.
   */
  _enter(fn) {
    const e = engineOf(this, fn);
    if (this.#busy) throw new Error(`${fn}: not allowed while ${this.#busy} is running (called from its onToken callback)`);
    return [e, e._self(this, fn)];
  }
  /** @internal the config as loaded, read without running user code (an own property cannot shadow it). */
  static _configOf(m) { return m.#config; }
  /** @internal runs `body` with the model marked busy for `fn`. */
  _busy(fn, body) {
    this.#busy = fn;
    try { return body(); } finally { this.#busy = null; }
  }
  dispose() {
    if (#busy in this && this.#busy) throw new Error(`${Owned._whatOf(this)}.dispose: not allowed while ${this.#busy} is running (called from its onToken callback)`);
    super.dispose();
  }
  /** The config's model_type: 'se-cnn', 'seq2seq-rnn', ... */
  get type() { const fn = methodName(this, 'type'); return engineOf(this, fn)._self(this, fn).type(); }
  /** The config the model was loaded with (a copy). */
  get config() { return Owned._is(this) ? structuredClone(this.#config) : undefined; }
  get numParameters() { const fn = methodName(this, 'numParameters'); return engineOf(this, fn)._self(this, fn).numParameters(); }
  /**
   * The model's files, as loadModel takes them: { config (the config it was loaded with), weights
   * (safetensors bytes: torch's state_dict keys; GPT-2: Hugging Face's layout) }.
   */
  save() {
    const fn = methodName(this, 'save');
    const e = engineOf(this, fn);
    const buf = e._call(fn, () => e._self(this, fn).saveWeights());
    try {
      return { config: structuredClone(Model._configOf(this)), weights: buf.view().slice() };
    } finally {
      buf.delete();
    }
  }
  /**
   * Switches attention heads off for every later forward, translate and generate, until the next
   * call (Hugging Face's head_mask = 0: the head's output is zeroed before the output projection;
   * its weights are still computed and captured). `[]` switches every head back on.
   * heads: [{ layer, head, kind: 'self' (default) | 'cross' }], layers numbered as the maps are.
   */
  ablateHeads(heads) {
    const fn = methodName(this, 'ablateHeads');
    const [e, self] = this._enter(fn);
    const layout = attentionLayout(Model._configOf(this));
    if (!layout) throw new Error(`${fn}: not available for a ${Model._configOf(this).model_type} model (no multi-head attention)`);
    if (!readingUser(fn, 'heads', () => Array.isArray(heads))) throw new TypeError(`${fn}: heads must be an array of { layer, head, kind }, got ${describe(heads)}`);
    const n = lengthOf(heads, fn, 'heads', 4096);
    const flags = new Map();
    for (let i = 0; i < n; ++i) {
      const o = checkOptions(readingUser(fn, `heads[${i}]`, () => heads[i]), fn, ['layer', 'head', 'kind']);
      const kind = o.kind === undefined ? 'self' : o.kind;
      if (kind !== 'self' && kind !== 'cross') throw new TypeError(`${fn}: heads[${i}].kind must be 'self' or 'cross', got ${describe(kind)}`);
      const layer = checkInt(o.layer, fn, `heads[${i}].layer`);
      const at = layout.find((a) => a.layer === layer && a.kind === kind);
      if (!at) throw new RangeError(`${fn}: heads[${i}]: this model has no ${kind}-attention in layer ${layer}`);
      const head = checkInt(o.head, fn, `heads[${i}].head`, 0, at.heads - 1);
      const key = `${layer}:${kind}`;
      if (!flags.has(key)) flags.set(key, { layer, kind, off: new Int32Array(at.heads) });
      flags.get(key).off[head] = 1;
    }
    e._call(fn, () => self.clearAblation());
    for (const { layer, kind, off } of flags.values()) {
      const buf = e._idsIn(off, fn);
      try { e._call(fn, () => self.ablateHeads(layer, kind === 'cross' ? 1 : 0, buf)); } finally { buf.delete(); }
    }
  }
  /** Token ids of `text` with the model's tokenizer (which: 'source' (default) or 'target' for seq2seq models). */
  encode(text, which = 'source') {
    const fn = methodName(this, 'encode');
    const e = engineOf(this, fn);
    if (typeof text !== 'string') throw new TypeError(`${fn}: text must be a string, got ${describe(text)}`);
    const w = checkEnum(which, fn, 'which', ['source', 'target']) === 'source' ? 0 : 1;
    return e._encode(e._self(this, fn), text, fn, w);
  }
  /** The text of `ids` with the model's tokenizer (which: 'source' (default) or 'target'). */
  decode(ids, which = 'source') {
    const fn = methodName(this, 'decode');
    const e = engineOf(this, fn);
    const w = checkEnum(which, fn, 'which', ['source', 'target']) === 'source' ? 0 : 1;
    const buf = e._idsIn(idsOf(ids, fn), fn);
    try {
      const bytes = e._call(fn, () => e._self(this, fn).decode(buf, w));
      try { return utf8Decoder.decode(bytes.view()); } finally { bytes.delete(); }
    } finally {
      buf.delete();
    }
  }
}

/** An image classifier with Squeeze-and-Excitation blocks (model_type 'se-cnn'). */
export class ImageClassifier extends Model {
  /** Class names from the config, or null. */
  get labels() { return this.config.labels ?? null; }
  /**
   * images (N, C, H, W) float32 -> ModelOutput: logits (N, classes); with { capture: true } one
   * AttentionMap per block, kind 'channel', weights (N, C): the SE channel weights in (0, 1).
   */
  forward(images, opts) {
    const fn = 'ImageClassifier.forward';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, ['capture']);
    const capture = o.capture === undefined ? false : checkBool(o.capture, fn, 'capture');
    const s = e._shapeOf(images);
    if (s && s.length === 4) {  // every conv at full resolution (an overestimate past stride-2 blocks)
      const c = Model._configOf(this);
      let macs = (c.in_channels ?? 1) * c.stem_channels * 9, cin = c.stem_channels;
      for (const ch of c.block_channels) { macs += (cin * ch + ch * ch + cin * ch) * 9; cin = ch; }
      e._work(fn, s[0] * s[2] * s[3] * (macs + PER_ROW) + s[0] * PER_MATRIX);
    }
    return readModelOutput(e, e._call(fn, () => e._self(this, fn).seCnnForward(e._t(images, fn, 'images'), capture)), fn);
  }
}

/**
 * A BERT-style encoder classifier (model_type 'encoder-classifier'): embeddings, post-LN Transformer
 * encoder, [CLS] pooler, classifier.
 */
export class TextClassifier extends Model {
  /** Class names from the config, or null. */
  get labels() { return this.config.labels ?? null; }
  /**
   * One sequence (ids, or text through the tokenizer) -> ModelOutput: logits (classes); with
   * { capture: true } one AttentionMap per encoder layer, kind 'self', weights (heads, T, T).
   * tokenTypeIds: BERT's segment ids, one per token (default all 0).
   */
  forward(ids, opts) {
    const fn = 'TextClassifier.forward';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, ['capture', 'tokenTypeIds', 'qkv']);
    const capture = o.capture === undefined ? false : checkBool(o.capture, fn, 'capture');
    const qkv = o.qkv === undefined ? false : checkBool(o.qkv, fn, 'qkv');
    const c = Model._configOf(this), maxT = c.max_position ?? 512;
    const x = typeof ids === 'string' ? this.encode(ids) : idsOf(ids, fn, 'ids', maxT);
    const types = o.tokenTypeIds === undefined ? new Int32Array(0) : idsOf(o.tokenTypeIds, fn, 'tokenTypeIds', maxT);
    if (types.length !== 0 && types.length !== x.length) throw new RangeError(`${fn}: tokenTypeIds has ${types.length} entries for ${x.length} tokens`);
    const d = c.d_model, T = x.length;
    e._work(fn, T * c.num_layers * (4 * d * d + 2 * d * c.dim_feedforward + T * (2 * d + 8) + PER_ROW * c.nhead) + PER_MATRIX);
    const buf = e._idsIn(x, fn);
    try {
      const tt = e._idsIn(types, fn);
      try {
        return readModelOutput(e, e._call(fn, () => e._self(this, fn).classifierForward(buf, tt, capture, qkv)), fn);
      } finally { tt.delete(); }
    } finally {
      buf.delete();
    }
  }
}

// Work of a seq2seq model over S source and T target tokens (Transformer: d_model, layers; RNN: sizes).
function seq2seqWork(c, S, T) {
  if (c.model_type === 'encoder-decoder') {
    const d = c.d_model, layer = 4 * d * d + 2 * d * c.dim_feedforward;
    return S * c.num_encoder_layers * (layer + S * 2 * d) + T * c.num_decoder_layers * (layer + 4 * d * d + (S + T) * 2 * d) + T * d * c.tgt_vocab;
  }
  return (S + T) * 16 * (c.hidden_size + c.embed_dim) ** 2 + T * (S * c.hidden_size * 4 + c.hidden_size * c.tgt_vocab);
}

/**
 * A sequence-to-sequence model: an RNN encoder-decoder with Bahdanau or Luong attention (model_type
 * 'seq2seq-rnn'), or an encoder-decoder Transformer (model_type 'encoder-decoder').
 */
export class Seq2SeqModel extends Model {
  #ids(x, fn, what, which) {
    const c = Model._configOf(this);
    const max = (which === 'source' ? c.max_src_len : c.max_tgt_len) ?? c.max_len ?? 65536;
    return typeof x === 'string' ? this.encode(x, which) : idsOf(x, fn, what, max);
  }
  /**
   * Teacher-forced: source and target inputs (ids, or text through the tokenizers) -> ModelOutput:
   * logits (T, targetVocab); with { capture: true } one AttentionMap, kind 'cross', weights (T, S).
   */
  forward(source, targetIn, opts) {
    const fn = 'Seq2SeqModel.forward';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, ['capture', 'qkv']);
    const capture = o.capture === undefined ? false : checkBool(o.capture, fn, 'capture');
    const qkv = o.qkv === undefined ? false : checkBool(o.qkv, fn, 'qkv');
    const src = this.#ids(source, fn, 'source', 'source'), tgt = this.#ids(targetIn, fn, 'targetIn', 'target');
    e._work(fn, seq2seqWork(Model._configOf(this), src.length, tgt.length));
    const a = e._idsIn(src, fn);
    try {
      const b = e._idsIn(tgt, fn);
      try {
        return readModelOutput(e, e._call(fn, () => e._self(this, fn).seq2seqForward(a, b, capture, qkv)), fn);
      } finally { b.delete(); }
    } finally { a.delete(); }
  }
  /**
   * Greedy decoding of `source` (ids or text) from the config's bos_id until eos_id or maxLength
   * tokens -> { ids (Int32Array, without bos), text (when there is a target tokenizer), attentions }.
   */
  translate(source, opts) {
    const fn = 'Seq2SeqModel.translate';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, ['maxLength', 'capture']);
    const capture = o.capture === undefined ? false : checkBool(o.capture, fn, 'capture');
    const c = Model._configOf(this);
    // The longest output the model's arena is planned for: max_len (Transformer), max_tgt_len (RNN).
    const limit = c.model_type === 'encoder-decoder' ? (c.max_len ?? 256) : (c.max_tgt_len ?? 64);
    const maxLength = o.maxLength === undefined ? Math.min(64, limit) : checkInt(o.maxLength, fn, 'maxLength', 1, limit);
    const src = this.#ids(source, fn, 'source', 'source');
    e._work(fn, seq2seqWork(c, src.length, maxLength));
    const a = e._idsIn(src, fn);
    let out;
    try {
      out = readModelOutput(e, e._call(fn, () => e._self(this, fn).seq2seqTranslate(a, c.bos_id ?? 0, c.eos_id ?? 0, maxLength, capture)), fn);
    } finally { a.delete(); }
    const ids = Int32Array.from(out.logits.toArray());
    out.logits.dispose();
    const self = e._self(this, fn);
    return { ids, text: self.hasTokenizer(1) ? this.decode(ids, 'target') : null, attentions: out.attentions };
  }
}

const GENERATE_KEYS = ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'onToken'];

/**
 * A decoder-only language model in the GPT-2 architecture (model_type 'gpt2', Hugging Face's
 * config.json, or 'gpt'), with a KV cache: learned positions, pre-LN blocks, causal self-attention,
 * GELU MLP, tied head.
 */
export class LanguageModel extends Model {
  get vocabSize() { return Model._configOf(this).vocab_size; }
  /** The longest sequence (n_positions). */
  get maxPositions() { const c = Model._configOf(this); return c.n_positions ?? c.n_ctx; }
  // Per token and layer: the projections and MLP, and per head and key a dot product and an axpy
  // of head size plus a fixed per-(head, key) cost (small heads are mostly overhead).
  #work(fn, T, S) {
    const c = Model._configOf(this), C = c.n_embd, F = c.n_inner ?? 4 * C;
    engineOf(this, fn)._work(fn, T * (c.n_layer * (4 * C * C + 2 * C * F + S * (2 * C + 64 * c.n_head) + PER_ROW * c.n_head) + c.vocab_size * C) + PER_MATRIX);
  }
  #ids(x, fn) {
    const c = Model._configOf(this);
    const ids = typeof x === 'string' ? this.encode(x) : idsOf(x, fn, 'ids', c.n_positions ?? c.n_ctx);
    if (ids.length === 0) throw new RangeError(`${fn}: ids are empty (at least one token is needed)`);
    return ids;
  }
  /**
   * Logits of the tokens `ids` (or the text, through the tokenizer): (T, vocab). `position`: where
   * the tokens start; 0 (the default) starts a new sequence, > 0 continues the cached one (the first
   * `position` tokens of the last call(s) stay in the KV cache), so decoding one token at a time
   * costs one token's work. With { capture: true } one AttentionMap per layer, kind 'self', weights
   * (heads, T, position + T): every attention weight the forward computed.
   */
  forward(ids, opts) {
    const fn = 'LanguageModel.forward';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, ['capture', 'position', 'qkv']);
    const capture = o.capture === undefined ? false : checkBool(o.capture, fn, 'capture');
    const qkv = o.qkv === undefined ? false : checkBool(o.qkv, fn, 'qkv');
    const position = o.position === undefined ? 0 : checkInt(o.position, fn, 'position', 0, 2 ** 31 - 1);
    const x = this.#ids(ids, fn);
    this.#work(fn, x.length, position + x.length);
    const buf = e._idsIn(x, fn);
    try {
      return readModelOutput(e, e._call(fn, () => e._self(this, fn).gptForward(buf, position, capture, qkv)), fn);
    } finally {
      buf.delete();
    }
  }
  /**
   * Continues `prompt` (text or ids): prefill, then one token at a time through the KV cache.
   * Options: maxNewTokens (default 32), temperature (default 1; 0 = greedy), topK (0 = off),
   * topP (1 = off), seed (reproducible; without it each call draws fresh randomness), onToken(id,
   * text) called after each token (returning false stops). Stops once the context is full: at most
   * maxPositions - prompt length + 1 new tokens (the last one predicted from a full context). Returns
   * { ids: the new tokens, text: their text (when the model has a tokenizer) }.
   */
  generate(prompt, opts) {
    const fn = 'LanguageModel.generate';
    const [e] = this._enter(fn);
    const o = checkOptions(opts, fn, GENERATE_KEYS);
    const maxNewTokens = o.maxNewTokens === undefined ? 32 : checkInt(o.maxNewTokens, fn, 'maxNewTokens', 0, 2 ** 31 - 1);
    const args = {
      temperature: o.temperature === undefined ? 1 : checkNumber(o.temperature, fn, 'temperature', { min: 0, max: 1e30 }),
      topK: o.topK === undefined ? 0 : checkInt(o.topK, fn, 'topK', 0, 2 ** 31 - 1),
      topP: o.topP === undefined ? 1 : checkNumber(o.topP, fn, 'topP', { min: 1e-30, max: 1 }),
      seeded: o.seed !== undefined && o.seed !== null,
      seed: o.seed === undefined || o.seed === null ? 0 : checkInt(o.seed, fn, 'seed', 0, MAX_SEED),
    };
    // The engine samples in float32: a temperature it would round to 0 (or below its normal range) is refused.
    if (args.temperature !== 0 && args.temperature < 1e-30) throw new RangeError(`${fn}: temperature must be 0 (greedy) or in [1e-30, 1e30], got ${args.temperature}`);
    if (o.onToken !== undefined && typeof o.onToken !== 'function') throw new TypeError(`${fn}: onToken must be a function, got ${describe(o.onToken)}`);
    const x = this.#ids(prompt, fn);
    const c = Model._configOf(this);
    const steps = Math.max(0, Math.min(maxNewTokens, (c.n_positions ?? c.n_ctx) - x.length + 1));
    this.#work(fn, x.length + steps, x.length + steps);
    const hasText = e._self(this, fn).hasTokenizer(0);
    // The callback runs inside the engine's loop: whatever it throws is kept here and rethrown
    // after the engine returned (an exception must not unwind through the engine's frames).
    let thrown = null;
    const onToken = o.onToken && ((id) => {
      try {
        return o.onToken(id, hasText ? this.decode([id]) : null) !== false;
      } catch (err) {
        thrown = { err };
        return false;
      }
    });
    const buf = e._idsIn(x, fn);
    let out;
    try {
      out = this._busy(fn, () => e._call(fn, () => e._self(this, fn).gptGenerate(buf, maxNewTokens, args, onToken ?? null)));
    } finally {
      buf.delete();
    }
    let ids;
    try { ids = out.view().slice(); } finally { out.delete(); }
    if (thrown) throw thrown.err;
    return { ids, text: hasText ? this.decode(ids) : null };
  }
}

// ---------------------------------------------------------------------------
// Training: a GPT trained step by step on a seeded task (train/trainer.hpp).
const TRAINER_TASKS = ['induction', 'copy', 'reverse', 'sort', 'addition', 'brackets', 'dates'];
const TRAINER_OPTIMIZERS = ['adamw', 'adam', 'sgd'];
const TRAINER_CLIPS = ['none', 'value', 'clamp', 'norm'];
const TRAINER_KEYS = ['task', 'length', 'vocab', 'layers', 'heads', 'dModel', 'mlpWidth', 'batch', 'optimizer', 'lr',
  'weightDecay', 'momentum', 'warmup', 'cosineSteps', 'clip', 'seed'];
const CLIP_KEYS = { none: [], value: ['value'], clamp: ['min', 'max'], norm: ['maxNorm', 'normType'] };
const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

function trainerArgs(opts, fn) {
  const o = checkOptions(opts, fn, TRAINER_KEYS);
  const pick = (key, list, dflt) => {
    const v = o[key] === undefined ? dflt : o[key];
    if (typeof v !== 'string' || !list.includes(v)) throw new TypeError(`${fn}: ${key} must be one of ${list.join(', ')}, got ${describe(v)}`);
    return list.indexOf(v);
  };
  const int = (key, dflt, lo, hi) => (o[key] === undefined ? dflt : checkInt(o[key], fn, key, lo, hi));
  const num = (key, dflt, lo, hi) => (o[key] === undefined ? dflt : checkNumber(o[key], fn, key, { min: lo, max: hi }));
  const task = pick('task', TRAINER_TASKS, 'induction');
  const a = {
    task, optimizer: pick('optimizer', TRAINER_OPTIMIZERS, 'adamw'), clip: 3,
    length: int('length', { induction: 8, brackets: 12 }[TRAINER_TASKS[task]] ?? 4, 1, 64), vocab: int('vocab', 16, 2, 4096),
    layers: int('layers', 2, 1, 12), heads: int('heads', 2, 1, 32), dModel: int('dModel', 64, 1, 1024),
    mlpWidth: int('mlpWidth', 0, 0, 4096), batch: int('batch', 16, 1, 1024), lr: num('lr', 3e-3, 0, 10),
    weightDecay: num('weightDecay', 0.01, 0, 10), momentum: num('momentum', 0.9, 0, 1), warmup: int('warmup', 20, 0, 2 ** 30),
    cosineSteps: int('cosineSteps', 0, 0, 2 ** 30), seed: int('seed', 1, 0, MAX_SEED),
    clipValue: 1, clampMin: -0.1, clampMax: 1, maxNorm: 1, normType: 2,
  };
  if (o.clip === null) a.clip = 0;
  else if (o.clip !== undefined) {
    if (typeof o.clip !== 'object') throw new TypeError(`${fn}: clip must be { mode, ... } or null, got ${describe(o.clip)}`);
    const c = checkOptions(o.clip, fn, ['mode', 'value', 'min', 'max', 'maxNorm', 'normType']);
    if (typeof c.mode !== 'string' || !TRAINER_CLIPS.includes(c.mode)) throw new TypeError(`${fn}: clip.mode must be one of ${TRAINER_CLIPS.join(', ')}, got ${describe(c.mode)}`);
    for (const k of Object.keys(c)) if (k !== 'mode' && !CLIP_KEYS[c.mode].includes(k)) throw new TypeError(`${fn}: clip.${k} does not apply to clip mode '${c.mode}' (it takes ${CLIP_KEYS[c.mode].join(', ') || 'nothing'})`);
    a.clip = TRAINER_CLIPS.indexOf(c.mode);
    if (c.value !== undefined) a.clipValue = checkNumber(c.value, fn, 'clip.value', { min: 0, max: 1e30 });
    if (c.min !== undefined) a.clampMin = checkNumber(c.min, fn, 'clip.min', { min: -1e30, max: 1e30 });
    if (c.max !== undefined) a.clampMax = checkNumber(c.max, fn, 'clip.max', { min: -1e30, max: 1e30 });
    if (c.maxNorm !== undefined) a.maxNorm = checkNumber(c.maxNorm, fn, 'clip.maxNorm', { min: 0, max: 1e30 });
    if (c.normType !== undefined) {
      if (c.normType !== Infinity) checkNumber(c.normType, fn, 'clip.normType', { min: 0, max: 1e30, minOpen: true });
      a.normType = c.normType;
    }
  }
  return a;
}

/**
 * A GPT trained step by step on a seeded task, in this engine (create with ap.createTrainer).
 * step() runs one optimizer step; run() many, handing control back to the event loop between
 * slices so a page stays responsive.
 */
export class Trainer extends Owned {
  #task;
  #vocab;
  #outputVocab;
  /** @internal */
  constructor(engine, handle, token, task) {
    if (token !== INTERNAL) throw new TypeError('Trainer: create trainers with ap.createTrainer(options)');
    super(engine, handle, 'Trainer');
    this.#task = task;
    const nb = engine._bytesIn(utf8Encoder.encode('trainer'), 'createTrainer');
    let config;
    try { config = JSON.parse(engine._call('createTrainer', () => handle.config(nb))); } finally { nb.delete(); }
    this.#vocab = (config.tokenizer ?? config.src_tokenizer).vocab;
    // What the probe's logits columns mean: next tokens, the classes, or the target's tokens.
    this.#outputVocab = config.labels ?? (config.tgt_tokenizer ?? config.tokenizer).vocab;
  }
  #h(fn) { return engineOf(this, fn)._self(this, fn); }
  get task() { return this.#task; }
  /** The tokens of the task's (input) vocabulary, by id. */
  get vocab() { return this.#vocab.slice(); }
  /** What the probe logits' columns are: the next token (GPT tasks), the class (brackets), the output token (dates). */
  get outputVocab() { return this.#outputVocab.slice(); }
  get steps() { return this.#h('Trainer.steps').steps(); }
  get seqLen() { return this.#h('Trainer.seqLen').seqLen(); }
  get numParameters() { return this.#h('Trainer.numParameters').numParameters(); }
  /** One optimizer step -> { step, loss, accuracy, lr, gradNorm, tokensPerSecond }. */
  step() {
    const fn = 'Trainer.step';
    const e = engineOf(this, fn), h = this.#h(fn);
    const t0 = performance.now();
    const s = e._call(fn, () => h.step());
    const ms = performance.now() - t0;
    return { ...s, tokensPerSecond: ms > 0 ? (this.#tokensPerStep() * 1000) / ms : Infinity };
  }
  #tokensPerStep() { return this.seqLen * TRAINER_BATCH.get(this); }
  /**
   * Runs `steps` steps; between slices of about sliceMs (default 30) it yields to the event loop.
   * onProgress(stats) after every step; an AbortSignal stops it between steps. Returns the last stats.
   */
  async run(opts) {
    const fn = 'Trainer.run';
    const o = checkOptions(opts, fn, ['steps', 'onProgress', 'signal', 'sliceMs']);
    const steps = checkInt(o.steps, fn, 'steps', 1, 2 ** 31 - 1);
    const slice = o.sliceMs === undefined ? 30 : checkNumber(o.sliceMs, fn, 'sliceMs', { min: 0, max: 10000 });
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new TypeError(`${fn}: onProgress must be a function`);
    let last = null, t0 = performance.now();
    for (let i = 0; i < steps; ++i) {
      if (o.signal?.aborted) break;
      last = this.step();
      o.onProgress?.(last);
      if (performance.now() - t0 >= slice) {
        await yieldToEventLoop();
        if (this.disposed) throw new Error(`${fn}: the trainer was disposed while running`);
        t0 = performance.now();
      }
    }
    return last;
  }
  /** Loss and answer accuracy on `batches` (default 8) fixed held-out batches; no update. */
  evaluate(opts) {
    const fn = 'Trainer.evaluate';
    const o = checkOptions(opts, fn, ['batches']);
    const batches = o.batches === undefined ? 8 : checkInt(o.batches, fn, 'batches', 1, 1000);
    const e = engineOf(this, fn), h = this.#h(fn);
    return { ...e._call(fn, () => h.evaluate(batches)) };
  }
  /**
   * A fixed held-out example through the current model: { ids, tokens, output } with output a
   * ModelOutput: logits (one row per position, or one row for brackets; columns = outputVocab) and
   * every attention map (heads, rows, keys); the caller disposes output.
   */
  probe() {
    const fn = 'Trainer.probe';
    const e = engineOf(this, fn), h = this.#h(fn);
    const idsBuf = e._call(fn, () => h.probeIds());
    let ids;
    try { ids = Int32Array.from(idsBuf.view()); } finally { idsBuf.delete(); }
    const output = readModelOutput(e, e._call(fn, () => h.probe()), fn);
    return { ids, tokens: Array.from(ids, (i) => this.#vocab[i]), output };
  }
  /** The model's files, as ap.loadModel takes them: { config, weights }. */
  save(opts) {
    const fn = 'Trainer.save';
    const o = checkOptions(opts, fn, ['name']);
    const name = o.name === undefined ? `${this.#task}-trained` : o.name;
    if (typeof name !== 'string' || name.length > 200) throw new TypeError(`${fn}: name must be a string of at most 200 characters`);
    const e = engineOf(this, fn), h = this.#h(fn);
    const nb = e._bytesIn(utf8Encoder.encode(name), fn);
    let config;
    try { config = JSON.parse(e._call(fn, () => h.config(nb))); } finally { nb.delete(); }
    const wb = e._call(fn, () => h.weights());
    try { return { config, weights: wb.view().slice() }; } finally { wb.delete(); }
  }
}
const TRAINER_BATCH = new WeakMap();

const MODEL_CLASSES = { gpt2: LanguageModel, gpt: LanguageModel, 'se-cnn': ImageClassifier, 'seq2seq-rnn': Seq2SeqModel,
  'encoder-classifier': TextClassifier, 'encoder-decoder': Seq2SeqModel };

const MODULE_CLASSES = [MultiheadAttention, SimpleMultiHeadAttention, BasicAttention, GeneralAttention, AdditiveAttention,
  ConcatAttention, SqueezeExcitation, LearnedPositionalEmbedding];

// `new ap.MultiheadAttention(opts)` = `new MultiheadAttention(ap, opts)`: a constructor function
// sharing the class's prototype, so `instanceof` works with either.
function bindEngine(C, engine) {
  const bound = function (...args) { return Reflect.construct(C, [engine, ...args], new.target ?? C); };
  Object.defineProperty(bound, 'name', { value: C.name });
  bound.prototype = C.prototype;
  return bound;
}

const INIT_KEYS = ['wasmUrl', 'wasmBinary', 'maxTensorBytes', 'maxCallWork', 'seed'];

/** The engine: one WebAssembly instance. Create with `await init()`. */
export class AttentionPlayground {
  #broken = null;
  #maxWork = DEFAULT_MAX_WORK;
  /** @internal */
  constructor(M, token) {
    if (token !== INTERNAL) throw new TypeError('AttentionPlayground: create the engine with `await init()`');
    ENGINES.add(this);
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
  _check(value, fn) {
    const err = this._M.takeError();
    if (err) {
      if (value && typeof value.delete === 'function') value.delete();
      // The engine names its own entry point ("stateDict: out of memory ..."); say which call the user made.
      throw new AttentionError(fn ? err.replace(/^[A-Za-z_][\w.]*: /, () => `${fn}: `) : err);
    }
    return value;
  }
  /** @internal */
  _result(fn, body) { return readResult(this, this._call(fn, body), fn); }
  /** @internal */
  _tensorCall(fn, body) { return new Tensor(this, this._call(fn, body), INTERNAL); }
  /** @internal Embind handle of a Tensor argument of this engine. */
  _t(x, fn, name) {
    if (!isTensor(x)) {
      throw new TypeError(`${fn}: ${name} must be a Tensor (create it with ap.tensor(data, shape)), got ${describe(x)}`);
    }
    if (Owned._engineOf(x) !== this) throw new TypeError(`${fn}: ${name} belongs to another engine (each init() is its own wasm instance; tensors cannot cross)`);
    const h = Owned._handleOf(x);
    if (!h) throw new Error(`${fn}: ${name} was disposed (Tensor: used after dispose())`);
    return h;
  }
  /** @internal the handle of a module method's `this`. */
  _self(m, fn) {
    if (!Owned._is(m) || Owned._engineOf(m) !== this) throw new TypeError(`${fn}: called on ${describe(m)}, not a module of this engine`);
    const h = Owned._handleOf(m);
    if (!h) throw new Error(`${fn}: used after dispose()`);
    return h;
  }
  /** @internal throws unless about `work` units (~ SIMD multiply-adds) fit the per-call budget (init({ maxCallWork })). */
  _work(fn, work) {
    if (work > this.#maxWork) {
      throw new AttentionError(`${fn}: this call would take about ${fmtWork(work)} units of work (1 unit ~ one SIMD multiply-add), more than the per-call limit of ${fmtWork(this.#maxWork)} (init({ maxCallWork }) raises it)`);
    }
  }
  /** @internal */
  _setMaxWork(w) { this.#maxWork = w; }
  /** @internal a live Tensor's shape, read without running user code; null for anything else. */
  _shapeOf(x) {
    if (!isTensor(x) || Owned._engineOf(x) !== this) return null;
    const h = Owned._handleOf(x);
    return h ? h.shape() : null;
  }
  /** @internal */
  _opt(x, fn, name) { return x === null || x === undefined ? null : this._t(x, fn, name); }

  /**
   * Copies data into a new tensor. dtype 'float32' (default) or 'bool' (nonzero = true).
   * data: Float32Array, Float64Array, number[] (or boolean[] for 'bool'); a Uint8Array needs an explicit
   * dtype, since a mask and a float tensor of 0/1 mean different things to attention.
   */
  tensor(data, shape, dtype) {
    checkSelf(this, 'tensor');
    checkArity(arguments, 3, 'tensor');
    return this._tensor(data, shape, dtype, 'tensor');
  }
  /** @internal tensor() with `fn` naming the caller in messages. */
  _tensor(data, shape, dtype, fn) {
    // Everything the caller gave is read once, into our own copies, before the engine allocates
    // (a getter that ran later could grow the heap and detach the view being filled).
    const kind = typedKind(data), typed = TENSOR_ARRAYS.includes(kind);
    if (!typed && !readingUser(fn, 'data', () => Array.isArray(data))) {
      throw new TypeError(`${fn}: data must be a Float32Array, Float64Array, Uint8Array or an array of numbers, got ${describe(data)}`);
    }
    if (dtype === undefined && kind === 'Uint8Array') {
      throw new TypeError(`${fn}: a Uint8Array needs an explicit dtype: ap.tensor(data, shape, 'bool') for a mask, or 'float32'`);
    }
    dtype = checkEnum(dtype ?? 'float32', fn, 'dtype', DTYPES);
    const bool = dtype === 'bool';
    const length = typed ? typedLengthOf.call(data) : lengthOf(data, fn, 'data', MAX_DIM);
    let dims = [length];
    if (shape !== undefined) {
      if (!readingUser(fn, 'shape', () => Array.isArray(shape))) throw new TypeError(`${fn}: shape must be an array of non-negative integers, got ${describe(shape)}`);
      const nd = lengthOf(shape, fn, 'shape', 16);
      dims = [];
      for (let i = 0; i < nd; ++i) dims.push(readingUser(fn, `shape[${i}]`, () => shape[i]));
    }
    let n = 1;
    for (const d of dims) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DIM) {
        throw new RangeError(`${fn}: shape [${dims.map(describe).join(', ')}] has an invalid dimension ${describe(d)} (dimensions must be integers in [0, ${MAX_DIM}])`);
      }
      n *= d;
    }
    if (n !== length) throw new RangeError(`${fn}: ${length} values do not fill shape [${dims.join(', ')}] (${n} elements)`);
    const bytes = n * (bool ? 1 : 4), limit = this.maxTensorBytes;
    if (bytes > limit) {  // before copying a huge array; the engine checks again
      const [need, max] = fmtBytes(bytes) === fmtBytes(limit) ? [`${fmtBytes(bytes)} (${bytes} bytes)`, `${fmtBytes(limit)} (${limit} bytes)`] : [fmtBytes(bytes), fmtBytes(limit)];
      throw new AttentionError(`${fn}: shape [${dims.join(', ')}] would need ${need}, more than the per-tensor limit of ${max}`);
    }
    let values = data;
    if (!typed) {
      values = bool ? new Uint8Array(n) : new Float64Array(n);
      for (let i = 0; i < n; ++i) {
        const x = readingUser(fn, `element ${i}`, () => data[i]);
        if (typeof x !== 'number' && !(bool && typeof x === 'boolean')) {
          throw new TypeError(`${fn}: element ${i} is ${describe(x)}, not a number${bool ? ' or boolean' : ''}`);
        }
        values[i] = bool ? (typeof x === 'boolean' ? +x : +(x !== 0)) : x;  // NaN is true, as torch's .bool()
      }
    }
    const handle = this._call(fn, () => this._M.tensorEmpty(dims, bool ? 1 : 0));
    try {
      const view = handle.view();  // taken after the allocation, which may have grown the heap
      if (bool && typed) { for (let i = 0; i < n; ++i) view[i] = values[i] !== 0 ? 1 : 0; } else view.set(values);
    } catch (e) {
      handle.delete();
      throw e;
    }
    return new Tensor(this, handle, INTERNAL);
  }

  /** Bytes allocated on the wasm heap right now (for leak checks). */
  heapBytesInUse() { checkSelf(this, 'heapBytesInUse'); return this._call('heapBytesInUse', () => this._M.heapBytesInUse()); }
  /** The per-tensor byte budget (init({ maxTensorBytes })). */
  get maxTensorBytes() { checkSelf(this, 'maxTensorBytes'); return this._M.maxTensorBytes(); }

  /**
   * torch.nn.functional.scaled_dot_product_attention (PyTorch >= 2.5 semantics), also returning the weights.
   * opts: { mask (bool: true = takes part; float: added), causal, scale, dropoutP, seed,
   *         selection: 'soft' | 'top_k' | 'threshold' | 'argmax' | 'sample', k, threshold, renormalize }
   * A query whose keys are all masked gets zero weights and output. Without a seed, dropout and
   * sampling draw fresh randomness from this engine's generators on every call.
   */
  scaledDotProductAttention(q, k, v, opts) {
    checkSelf(this, 'scaledDotProductAttention');
    checkArity(arguments, 4, 'scaledDotProductAttention');
    return this.#sdpa('scaledDotProductAttention', q, k, v, checkOptions(opts, 'scaledDotProductAttention',
      [...QKV_KEYS, 'scale', 'dropoutP']));
  }
  /** Unscaled softmax(Q Kᵀ) V (seed 000). Options as scaledDotProductAttention but no scale. */
  dotProductAttention(q, k, v, opts) {
    checkSelf(this, 'dotProductAttention');
    checkArity(arguments, 4, 'dotProductAttention');
    const o = checkOptions(opts, 'dotProductAttention', [...QKV_KEYS, 'dropoutP']);
    o.scale = 1;
    return this.#sdpa('dotProductAttention', q, k, v, o);
  }
  #sdpa(fn, q, k, v, o) {
    const args = attendArgs(o, fn, { scale: true, dropout: true });
    this._work(fn, sdpaWork(this._shapeOf(q), this._shapeOf(k), this._shapeOf(v), this.maxTensorBytes));
    return this._result(fn, () => this._M.scaledDotProductAttention(this._t(q, fn, 'query'), this._t(k, fn, 'key'),
      this._t(v, fn, 'value'), this._opt(o.mask, fn, 'mask'), args));
  }

  /** Row entropy of attention weights (..., L, S) -> (..., L). */
  attentionEntropy(weights) {
    checkSelf(this, 'attentionEntropy');
    checkArity(arguments, 1, 'attentionEntropy');
    this._work('attentionEntropy', rowsWork(this._shapeOf(weights), PER_TANH, this.maxTensorBytes));
    return this._tensorCall('attentionEntropy', () => this._M.attentionEntropy(this._t(weights, 'attentionEntropy', 'weights')));
  }
  /** Sinusoidal positional encoding table (maxLen, d). */
  sinusoidalTable(maxLen, d) {
    checkSelf(this, 'sinusoidalTable');
    const fn = 'sinusoidalTable';
    checkArity(arguments, 2, fn);
    checkInt(maxLen, fn, 'maxLen');
    checkInt(d, fn, 'd', 1);
    if (maxLen * d * 4 <= this.maxTensorBytes) this._work(fn, maxLen * (Math.ceil(d / 2) * PER_TRIG / 4 + PER_ROW));
    return this._tensorCall(fn, () => this._M.sinusoidalTable(maxLen, d));
  }
  /** Rotary embedding of x (..., L, d): style 'interleaved' or 'half_split' (default). */
  applyRope(x, opts) {
    checkSelf(this, 'applyRope');
    const fn = 'applyRope';
    const o = checkOptions(opts, fn, ['style', 'offset']);
    const style = checkEnum(o.style ?? 'half_split', fn, 'style', ['interleaved', 'half_split'], { halfSplit: 'half_split' });
    const offset = o.offset === undefined ? 0 : checkInt(o.offset, fn, 'offset');
    const xs = this._shapeOf(x);
    if (xs && xs.length >= 2) this._work(fn, xs.at(-2) * Math.floor(xs.at(-1) / 2) * PER_TRIG + rowsWork(xs, 4));
    return this._tensorCall(fn, () => this._M.applyRope(this._t(x, fn, 'x'), style === 'interleaved' ? 0 : 1, offset));
  }
  /** ALiBi additive bias (heads, L, S). */
  alibiBias(heads, L, S) {
    checkSelf(this, 'alibiBias');
    const fn = 'alibiBias';
    checkArity(arguments, 3, fn);
    checkInt(heads, fn, 'heads', 1, 2 ** 24);
    checkInt(L, fn, 'L');
    checkInt(S, fn, 'S');
    if (heads * L * S * 4 <= this.maxTensorBytes) this._work(fn, heads * L * (S * 2 + PER_ROW));
    return this._tensorCall(fn, () => this._M.alibiBias(heads, L, S));
  }
  /** torch.matmul with batch broadcasting. */
  matmul(a, b) {
    checkSelf(this, 'matmul');
    checkArity(arguments, 2, 'matmul');
    this._work('matmul', matmulWork(this._shapeOf(a), this._shapeOf(b), this.maxTensorBytes));
    return this._tensorCall('matmul', () => this._M.matmul(this._t(a, 'matmul', 'input'), this._t(b, 'matmul', 'other')));
  }
  /** Softmax over the last dim. */
  softmax(x) {
    checkSelf(this, 'softmax');
    checkArity(arguments, 1, 'softmax');
    this._work('softmax', rowsWork(this._shapeOf(x), 8));
    return this._tensorCall('softmax', () => this._M.softmax(this._t(x, 'softmax', 'input')));
  }
  /** @internal copies bytes into a new wasm ByteBuffer (the caller deletes it). */
  _bytesIn(bytes, fn) {
    const buf = this._call(fn, () => this._M.bytesEmpty(bytes.length));
    try {
      buf.view().set(bytes);
    } catch (e) {
      buf.delete();
      throw e;
    }
    return buf;
  }
  /** @internal copies ids (Int32Array) into a new wasm IdBuffer (the caller deletes it). */
  _idsIn(ids, fn) {
    const buf = this._call(fn, () => this._M.idsEmpty(ids.length));
    try {
      buf.view().set(ids);
    } catch (e) {
      buf.delete();
      throw e;
    }
    return buf;
  }
  /** @internal ids of `text` through a tokenizer handle (or a model's: `which` 0 source, 1 target). */
  _encode(handle, text, fn, which) {
    const bytes = utf8Encoder.encode(text);
    // BPE merges one piece in O(n log n): ~1 us per byte when the text is one long word.
    this._work(fn, bytes.length * PER_TEXT_BYTE);
    const buf = this._bytesIn(bytes, fn);
    try {
      const ids = this._call(fn, () => (which === undefined ? handle.encode(buf) : handle.encode(buf, which)));
      try { return ids.view().slice(); } finally { ids.delete(); }
    } finally {
      buf.delete();
    }
  }
  /** @internal text of `ids` (Int32Array) through a tokenizer handle. */
  _decode(handle, ids, fn) {
    const buf = this._idsIn(ids, fn);
    try {
      const bytes = this._call(fn, () => handle.decode(buf));
      try { return utf8Decoder.decode(bytes.view()); } finally { bytes.delete(); }
    } finally {
      buf.delete();
    }
  }
  /** @internal a wasm FileSet from { name: string | Uint8Array | ArrayBuffer } (the caller deletes it). */
  _filesIn(files, fn) {
    const set = new this._M.FileSet();
    try {
      if (files === undefined || files === null) return set;
      if (typeof files !== 'object' || readingUser(fn, 'files', () => Array.isArray(files))) {
        throw new TypeError(`${fn}: files must be an object { name: contents }, got ${describe(files)}`);
      }
      const names = readingUser(fn, 'files', () => Reflect.ownKeys(files));
      const contents = names.map((name) => {
        if (typeof name !== 'string') throw new TypeError(`${fn}: file names must be strings, got ${describe(name)}`);
        return [name, bytesOf(readingUser(fn, `files['${name.slice(0, 40)}']`, () => files[name]), fn, `files['${name.slice(0, 40)}']`)];
      });
      for (const [name, bytes] of contents) {
        const buf = this._bytesIn(bytes, fn);
        try { this._call(fn, () => set.set(name, buf)); } finally { buf.delete(); }
      }
      return set;
    } catch (e) {
      set.delete();
      throw e;
    }
  }
  /**
   * A tokenizer from its spec ({ type: 'gpt2-bpe' | 'char' | 'word', ... }, an object or JSON text) and
   * files ({ 'vocab.json' | 'encoder.json': ..., 'merges.txt' | 'vocab.bpe': ... } for GPT-2, as strings
   * or bytes). Everything is untrusted input: a bad file gets an AttentionError naming it and the problem.
   */
  loadTokenizer(spec, files) {
    checkSelf(this, 'loadTokenizer');
    const fn = 'loadTokenizer';
    checkArity(arguments, 2, fn);
    const specBytes = bytesOf(spec, fn, 'spec', { json: true });
    const set = this._filesIn(files, fn);
    try {
      const s = this._bytesIn(specBytes, fn);
      try {
        return new Tokenizer(this, this._call(fn, () => this._M.createTokenizer(s, set)), INTERNAL);
      } finally {
        s.delete();
      }
    } finally {
      set.delete();
    }
  }

  /**
   * A model from its files (all untrusted input): `config` (an object or JSON text with a model_type),
   * `weights` (the safetensors bytes) and `tokenizer` (the tokenizer's files by name, when its config
   * names a tokenizer that needs files). Returns the model class for its type.
   */
  /**
   * A GPT to train step by step on a seeded task (see Trainer): { task: 'induction' | 'copy' |
   * 'reverse' | 'sort' | 'addition', length, vocab, layers, heads, dModel, mlpWidth, batch,
   * optimizer: 'adamw' | 'adam' | 'sgd', lr, weightDecay, momentum, warmup, cosineSteps,
   * clip: { mode: 'norm', maxNorm, normType } | { mode: 'value', value } | { mode: 'clamp', min, max } | null, seed }.
   */
  createTrainer(options) {
    checkSelf(this, 'createTrainer');
    const fn = 'createTrainer';
    const a = trainerArgs(options, fn);
    const task = TRAINER_TASKS[a.task];
    // Tokens per sequence (the encoder-decoder's source and target together) and the vocabulary.
    const T = { induction: 2 * a.length - 1, addition: 3 * a.length + 2, brackets: a.length, dates: 40 }[task] ?? 2 * a.length;
    const V = { induction: a.vocab, brackets: 7, dates: 69 }[task] ?? 13, C = a.dModel, F = a.mlpWidth || 4 * C;
    // One step: forward, backward (about twice the forward) and the optimizer.
    this._work(fn, 3 * a.batch * T * (a.layers * (4 * C * C + 2 * C * F + T * (2 * C + 64 * a.heads)) + V * C) + PER_MATRIX);
    const h = this._call(fn, () => this._M.createTrainer(a));
    const t = new Trainer(this, h, INTERNAL, task);
    TRAINER_BATCH.set(t, a.batch);
    return t;
  }

  loadModel(files) {
    checkSelf(this, 'loadModel');
    const fn = 'loadModel';
    checkArity(arguments, 1, fn);
    if (files === undefined || files === null) throw new TypeError(`${fn}: expected { config, weights, tokenizer? }`);
    const o = checkOptions(files, fn, ['config', 'weights', 'tokenizer']);
    if (o.config === undefined) throw new TypeError(`${fn}: config is required`);
    if (o.weights === undefined) throw new TypeError(`${fn}: weights (the safetensors bytes) are required`);
    const config = bytesOf(o.config, fn, 'config', { json: true });
    if (!isArrayBuffer(o.weights) && typedKind(o.weights) !== 'Uint8Array') throw new TypeError(`${fn}: weights must be a Uint8Array or ArrayBuffer, got ${describe(o.weights)}`);
    const weights = bytesOf(o.weights, fn, 'weights');
    const set = this._filesIn(o.tokenizer, fn);
    try {
      const c = this._bytesIn(config, fn);
      try {
        const w = this._bytesIn(weights, fn);
        try {
          const h = this._call(fn, () => this._M.loadModel(c, w, set));
          const C = MODEL_CLASSES[h.type()];
          if (!C) { h.delete(); throw new AttentionError(`${fn}: model type ${h.type()} has no JS class`); }
          return new C(this, h, INTERNAL);
        } finally { w.delete(); }
      } finally { c.delete(); }
    } finally { set.delete(); }
  }

  /** Parses safetensors bytes (untrusted input) into { name: Tensor } (caller disposes). */
  loadSafetensors(bytes) {
    checkSelf(this, 'loadSafetensors');
    const fn = 'loadSafetensors';
    checkArity(arguments, 1, fn);
    // Brand checks that run no user code (a Proxy is neither).
    if (isArrayBuffer(bytes)) bytes = new Uint8Array(bytes);
    if (typedKind(bytes) !== 'Uint8Array') throw new TypeError(`${fn}: bytes must be a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
    const buf = this._call(fn, () => this._M.bytesEmpty(typedLengthOf.call(bytes)));
    let sd;
    try {
      buf.view().set(bytes);
      sd = this._call(fn, () => this._M.parseSafetensors(buf));
    } finally {
      buf.delete();
    }
    const out = {};
    try {
      for (const name of sd.keys()) defineEntry(out, name, new Tensor(this, this._call(fn, () => sd.take(name)), INTERNAL));
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
 * (default 256 MiB; each tensor of a model file is held to it, the file's bytes are not). `seed`: seeds the engine's dropout and sampling generators.
 */
export async function init(opts) {
  const o = checkOptions(opts, 'init', INIT_KEYS);
  // The runtime's own console output (e.g. "failed to asynchronously prepare wasm") would be noise in a
  // host app's console: every failure reaches the caller as a thrown Error instead.
  const moduleArg = { print: () => {}, printErr: () => {} };
  if (o.wasmUrl !== undefined && o.wasmUrl !== null) {
    if (typeof o.wasmUrl !== 'string' && !readingUser('init', 'wasmUrl', () => o.wasmUrl instanceof URL)) throw new TypeError(`init: wasmUrl must be a string or URL, got ${describe(o.wasmUrl)}`);
    moduleArg.wasmUrl = String(o.wasmUrl);
  }
  if (o.wasmBinary !== undefined && o.wasmBinary !== null) {
    if (!(isArrayBuffer(o.wasmBinary) || ArrayBuffer.isView(o.wasmBinary))) throw new TypeError(`init: wasmBinary must be an ArrayBuffer or Uint8Array, got ${describe(o.wasmBinary)}`);
    moduleArg.wasmBinary = o.wasmBinary;
  }
  const maxBytes = o.maxTensorBytes === undefined ? 0 : checkInt(o.maxTensorBytes, 'init', 'maxTensorBytes', 1, 2 ** 31);
  const seeded = o.seed !== undefined;
  const seed = seeded ? checkInt(o.seed, 'init', 'seed', 0, MAX_SEED) : 0;
  let maxWork = DEFAULT_MAX_WORK;
  if (o.maxCallWork !== undefined) {
    maxWork = o.maxCallWork === Infinity ? Infinity : checkInt(o.maxCallWork, 'init', 'maxCallWork', 1, Number.MAX_SAFE_INTEGER);
  }
  let M;
  try {
    M = await createAttentionModule(moduleArg);
  } catch (e) {
    const why = e instanceof Error ? e.message : describe(e);
    throw new AttentionError(`init: could not load the WebAssembly engine (${why.slice(0, 300)})`);
  }
  const engine = new AttentionPlayground(M, INTERNAL);
  engine._call('init', () => M.configure(maxBytes, seeded, seed));
  engine._setMaxWork(maxWork);
  return engine;
}

export default init;
