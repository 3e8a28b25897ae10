// attention-playground: the public JS API over the Embind module.
//
// Ownership: every object that holds wasm memory (Tensor, MultiheadAttention,
// the other modules) has dispose() (idempotent, also [Symbol.dispose]); using
// it afterwards throws. Objects that are garbage-collected without dispose()
// are freed and reported once via console.warn. Temporaries created inside a
// call are freed in `finally`.
//
// Errors: the engine reports bad input through takeError(); every call checks
// it and throws a JS Error with the engine's message (which names the argument
// and the shapes). The module stays usable after an error.
import createAttentionModule from './attention_playground.mjs';

const leakRegistry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ handle, what }) => {
    console.warn(`attention-playground: a ${what} was garbage-collected without dispose(); freeing it`);
    try { handle.delete(); } catch { /* already gone */ }
  })
  : null;

/** Base of everything that owns a wasm handle. */
class Owned {
  #handle;
  #what;
  constructor(handle, what) {
    this.#handle = handle;
    this.#what = what;
    leakRegistry?.register(this, { handle, what }, this);
  }
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

function isInt(n) { return Number.isInteger(n) && n >= 0; }

function checkShape(shape, what) {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array of non-negative integers`);
  for (const d of shape) {
    if (!isInt(d)) throw new RangeError(`${what}: shape ${JSON.stringify(shape)} has an invalid dimension ${d} (dimensions must be non-negative integers)`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

const SELECTIONS = ['soft', 'top_k', 'threshold', 'argmax', 'sample'];
const snake = { topK: 'top_k', top_k: 'top_k', halfSplit: 'half_split', half_split: 'half_split' };

function selectionArgs(opts, what) {
  const sel = opts.selection ?? 'soft';
  const kind = snake[sel] ?? sel;
  if (!SELECTIONS.includes(kind)) throw new RangeError(`${what}: selection must be one of ${SELECTIONS.join(', ')}; got ${JSON.stringify(sel)}`);
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${what}: k must be a positive integer, got ${k}`);
  const threshold = opts.threshold ?? 0;
  if (!Number.isFinite(threshold)) throw new RangeError(`${what}: threshold must be a finite number, got ${threshold}`);
  const seed = opts.seed ?? 0;
  if (!isInt(seed)) throw new RangeError(`${what}: seed must be a non-negative integer, got ${seed}`);
  return [kind, k, threshold, seed];
}

/** An n-dimensional float32 (or bool) array in wasm memory. */
export class Tensor extends Owned {
  #ap;
  constructor(ap, handle) {
    super(handle, 'Tensor');
    this.#ap = ap;
  }
  /** Dimensions, e.g. [2, 5, 16]. */
  get shape() { return this._handle.shape(); }
  /** 'float32' or 'bool'. */
  get dtype() { return this._handle.dtype(); }
  get size() { return this._handle.numel(); }
  /** A copy of the data: Float32Array, or Uint8Array (0/1) for bool tensors. */
  toArray() { return this._handle.view().slice(); }
}

function readResult(ap, result) {
  try {
    const out = result.takeOutput();
    const w = result.takeWeights();
    return { output: out ? new Tensor(ap, out) : null, weights: w ? new Tensor(ap, w) : null };
  } finally {
    result.delete();
  }
}

/** Base of the attention modules: PyTorch state_dict loading, train/eval. */
class AttentionModule extends Owned {
  constructor(ap, handle, what) {
    super(handle, what);
    this._ap = ap;
    this._what = what;
  }
  /**
   * Loads parameters by their PyTorch names. Values: Float32Array (shape taken
   * from the module's own parameter), number arrays, or Tensors. strict (default
   * true): every key must be present and no other key may be.
   */
  loadStateDict(dict, { strict = true } = {}) {
    const ap = this._ap;
    if (dict === null || typeof dict !== 'object') throw new TypeError(`${this._what}.loadStateDict: expected an object of name -> tensor`);
    const own = this._handle.stateDict();
    const sd = new ap._M.StateDict();
    const temps = [];
    try {
      for (const [name, value] of Object.entries(dict)) {
        let t;
        if (value instanceof Tensor) {
          t = value._handle;
        } else {
          const ref = own.get(name);
          const shape = ref ? ref.shape() : [value?.length ?? 0];
          ref?.delete();
          const tensor = ap.tensor(value, shape, `${this._what}.loadStateDict: '${name}'`);
          temps.push(tensor);
          t = tensor._handle;
        }
        sd.set(name, t);
      }
      ap._check(this._handle.loadStateDict(sd, strict));
    } finally {
      sd.delete();
      own.delete();
      for (const t of temps) t.dispose();
    }
    return this;
  }
  /** { name: Tensor } copies of the parameters (caller disposes them). */
  stateDict() {
    const sd = this._handle.stateDict();
    try {
      const out = {};
      for (const name of sd.keys()) out[name] = new Tensor(this._ap, sd.get(name));
      return out;
    } finally {
      sd.delete();
    }
  }
  /** Training mode enables dropout. */
  train(on = true) { this._handle.train(!!on); return this; }
  eval() { return this.train(false); }
  get training() { return this._handle.isTraining(); }
  get numParameters() { return this._handle.numParameters(); }
}

export class AttentionPlayground {
  constructor(M) {
    this._M = M;
    /** Package/engine version. */
    this.version = M.version();
    /** xsimd arch the kernels were built for ('sse4.1' lowered to wasm SIMD128). */
    this.simdArch = M.simdArch();
    /** true for the SIMD build. */
    this.simd = M.simdWidth() > 1;
    const ap = this;
    const qkvModule = (what, create, arity, forwardArgs) => class extends AttentionModule {
      constructor(...sizes) {
        const nums = sizes.slice(0, arity);
        nums.forEach((n, i) => {
          if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${what}: size argument ${i + 1} must be a positive integer, got ${n}`);
        });
        if (nums.length !== arity) throw new TypeError(`${what}: expected ${arity} sizes, got ${nums.length}`);
        super(ap, ap._check(create(...nums)), what);
      }
      forward(...args) { return forwardArgs(this, ...args); }
    };
    const forwardQkv = (m, q, k, v, opts = {}) => ap._result(m._handle.forward(ap._t(q, 'query'), ap._t(k, 'key'), ap._t(v, 'value'),
      ap._opt(opts.mask, 'mask'), !!(opts.causal ?? opts.isCausal), ...selectionArgs(opts, m._what)));

    /** torch.nn.MultiheadAttention. */
    this.MultiheadAttention = class MultiheadAttention extends AttentionModule {
      constructor({ embedDim, numHeads, dropout = 0, bias = true, addBiasKV = false, addZeroAttn = false, kdim = null, vdim = null, batchFirst = false, seed = 0 } = {}) {
        for (const [n, v] of [['embedDim', embedDim], ['numHeads', numHeads]]) {
          if (!Number.isInteger(v) || v <= 0) throw new RangeError(`MultiheadAttention: ${n} must be a positive integer, got ${v}`);
        }
        for (const [n, v] of [['kdim', kdim], ['vdim', vdim]]) {
          if (v !== null && (!Number.isInteger(v) || v <= 0)) throw new RangeError(`MultiheadAttention: ${n} must be a positive integer or null, got ${v}`);
        }
        if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`MultiheadAttention: dropout must be in [0, 1), got ${dropout}`);
        super(ap, ap._check(ap._M.createMultiheadAttention(embedDim, numHeads, dropout, !!bias, !!addBiasKV, !!addZeroAttn,
          kdim ?? 0, vdim ?? 0, !!batchFirst, seed)), 'MultiheadAttention');
        Object.assign(this, { embedDim, numHeads, batchFirst: !!batchFirst, headDim: embedDim / numHeads });
      }
      /**
       * forward(query, key, value, { keyPaddingMask, attnMask, needWeights = true, averageAttnWeights = true, isCausal = false })
       * -> { output, weights } (weights null when needWeights is false). torch.nn.MultiheadAttention semantics.
       */
      forward(query, key, value, opts = {}) {
        const { keyPaddingMask = null, attnMask = null, needWeights = true, averageAttnWeights = true, isCausal = false } = opts;
        return ap._result(this._handle.forward(ap._t(query, 'query'), ap._t(key, 'key'), ap._t(value, 'value'),
          ap._opt(keyPaddingMask, 'keyPaddingMask'), ap._opt(attnMask, 'attnMask'), !!needWeights, !!averageAttnWeights, !!isCausal,
          ...selectionArgs(opts, 'MultiheadAttention')));
      }
      selfAttention(x, opts) { return this.forward(x, x, x, opts); }
      crossAttention(x, memory, opts) { return this.forward(x, memory, memory, opts); }
      /** Per-head weights (N, H, L, S) of the latest forward, even when needWeights was false. */
      lastWeights() { const h = this._handle.lastWeights(); return h ? new Tensor(ap, h) : null; }
    };
    /** Seed 004's MultiHeadAttention (masked_fill(mask == 0, -1e9)). */
    this.SimpleMultiHeadAttention = qkvModule('SimpleMultiHeadAttention', (e, h) => ap._M.createSimpleMultiHeadAttention(e, h), 2,
      (m, q, k, v, opts = {}) => ap._result(m._handle.forward(ap._t(q, 'query'), ap._t(k, 'key'), ap._t(v, 'value'),
        ap._opt(opts.mask, 'mask'), ...selectionArgs(opts, m._what))));
    /** Seed 000's BasicAttention: softmax(Q Kᵀ) V. */
    this.BasicAttention = qkvModule('BasicAttention', (h) => ap._M.createBasicAttention(h), 1, forwardQkv);
    /** Luong "general": score = qᵀ W k. */
    this.GeneralAttention = qkvModule('GeneralAttention', (q, k) => ap._M.createGeneralAttention(q, k), 2, forwardQkv);
    /** Bahdanau additive: score = w_vᵀ tanh(W_q q + W_k k). Args: keySize, querySize, numHiddens. */
    this.AdditiveAttention = qkvModule('AdditiveAttention', (k, q, h) => ap._M.createAdditiveAttention(k, q, h), 3, forwardQkv);
    /** Seed 003's concat rule `Attn`. Args: querySize, keySize, valueSize1, valueSize2, outputSize. */
    this.ConcatAttention = qkvModule('ConcatAttention', (...s) => ap._M.createConcatAttention(...s), 5, forwardQkv);
    /** Learned positional embedding (key "weight", (maxLen, d)). forward(x (..., L, d), offset = 0) -> Tensor. */
    this.LearnedPositionalEmbedding = qkvModule('LearnedPositionalEmbedding', (l, d) => ap._M.createLearnedPositionalEmbedding(l, d), 2,
      (m, x, offset = 0) => {
        if (!isInt(offset)) throw new RangeError(`LearnedPositionalEmbedding: offset must be a non-negative integer, got ${offset}`);
        return new Tensor(ap, ap._check(m._handle.forward(ap._t(x, 'input'), offset)));
      });
    /** Squeeze-and-Excitation. Args: channels, reduction. forward(x (N,C,H,W)) -> { output, weights (N,C) }. */
    this.SqueezeExcitation = qkvModule('SqueezeExcitation', (c, r) => ap._M.createSqueezeExcitation(c, r), 2,
      (m, x) => ap._result(m._handle.forward(ap._t(x, 'input'))));
  }

  /** @internal throws the engine's pending error, if any; returns `value` otherwise. */
  _check(value) {
    const err = this._M.takeError();
    if (err) {
      if (value && typeof value.delete === 'function') value.delete();
      throw new Error(err);
    }
    return value;
  }
  /** @internal */
  _result(handle) { return readResult(this, this._check(handle)); }
  /** @internal Embind handle of a Tensor argument. */
  _t(x, what) {
    if (!(x instanceof Tensor)) throw new TypeError(`${what} must be a Tensor (create it with ap.tensor(data, shape))`);
    return x._handle;
  }
  _opt(x, what) { return x === null || x === undefined ? null : this._t(x, what); }

  /**
   * Copies data into a new tensor. Float32Array / number[] make float32 tensors;
   * a Uint8Array makes a bool tensor (nonzero = true): masks are tensors too.
   */
  tensor(data, shape, what = 'tensor') {
    const isBool = data instanceof Uint8Array;
    if (!(isBool || data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data))) {
      throw new TypeError(`${what}: data must be a Float32Array, a Uint8Array (bool) or an array of numbers`);
    }
    if (shape === undefined) shape = [data.length];
    const n = checkShape(shape, what);
    if (n !== data.length) throw new RangeError(`${what}: ${data.length} values do not fill shape ${JSON.stringify(shape)} (${n} elements)`);
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; ++i) {
        if (typeof data[i] !== 'number') throw new TypeError(`${what}: element ${i} is not a number`);
      }
    }
    const handle = this._check(this._M.tensorEmpty(shape, isBool ? 'bool' : 'float32'));
    try {
      const view = handle.view();  // taken after the allocation, which may have grown the heap
      if (isBool) { for (let i = 0; i < n; ++i) view[i] = data[i] ? 1 : 0; } else view.set(data);
    } catch (e) {
      handle.delete();
      throw e;
    }
    return new Tensor(this, handle);
  }

  /** Bytes allocated on the wasm heap right now (for leak checks). */
  heapBytesInUse() { return this._M.heapBytesInUse(); }

  /**
   * torch.nn.functional.scaled_dot_product_attention, also returning the weights.
   * opts: { mask (bool: true = takes part; float: added), causal, scale, dropoutP, seed,
   *         selection: 'soft' | 'top_k' | 'threshold' | 'argmax' | 'sample', k, threshold }
   */
  scaledDotProductAttention(q, k, v, opts = {}) {
    const scale = opts.scale ?? NaN;
    if (opts.scale !== undefined && opts.scale !== null && !Number.isFinite(opts.scale)) throw new RangeError(`scaledDotProductAttention: scale must be a finite number, got ${opts.scale}`);
    const dropoutP = opts.dropoutP ?? 0;
    if (!(dropoutP >= 0 && dropoutP < 1)) throw new RangeError(`scaledDotProductAttention: dropoutP must be in [0, 1), got ${dropoutP}`);
    const [sel, kk, thr, seed] = selectionArgs(opts, 'scaledDotProductAttention');
    return this._result(this._M.scaledDotProductAttention(this._t(q, 'query'), this._t(k, 'key'), this._t(v, 'value'),
      this._opt(opts.mask, 'mask'), !!(opts.causal ?? opts.isCausal), scale, dropoutP, sel, kk, thr, seed));
  }
  /** Unscaled softmax(Q Kᵀ) V (seed 000). Same options as scaledDotProductAttention. */
  dotProductAttention(q, k, v, opts = {}) { return this.scaledDotProductAttention(q, k, v, { ...opts, scale: 1 }); }

  /** Row entropy of attention weights (..., L, S) -> (..., L). */
  attentionEntropy(weights) { return new Tensor(this, this._check(this._M.attentionEntropy(this._t(weights, 'weights')))); }
  /** Sinusoidal positional encoding table (maxLen, d). */
  sinusoidalTable(maxLen, d) {
    if (!isInt(maxLen) || !isInt(d) || d === 0) throw new RangeError(`sinusoidalTable: maxLen and d must be integers (d > 0), got ${maxLen}, ${d}`);
    return new Tensor(this, this._check(this._M.sinusoidalTable(maxLen, d)));
  }
  /** Rotary embedding of x (..., L, d): style 'interleaved' or 'half_split'. */
  applyRope(x, { style = 'half_split', offset = 0 } = {}) {
    if (!isInt(offset)) throw new RangeError(`applyRope: offset must be a non-negative integer, got ${offset}`);
    return new Tensor(this, this._check(this._M.applyRope(this._t(x, 'x'), snake[style] ?? style, offset)));
  }
  /** ALiBi additive bias (heads, L, S). */
  alibiBias(heads, L, S) {
    if (![heads, L, S].every(isInt) || heads === 0) throw new RangeError(`alibiBias: heads, L and S must be non-negative integers (heads > 0)`);
    return new Tensor(this, this._check(this._M.alibiBias(heads, L, S)));
  }
  /** torch.matmul for >= 1-D inputs with batch broadcasting. */
  matmul(a, b) { return new Tensor(this, this._check(this._M.matmul(this._t(a, 'input'), this._t(b, 'other')))); }
  /** Softmax over the last dim. */
  softmax(x) { return new Tensor(this, this._check(this._M.softmax(this._t(x, 'input')))); }
  /** Parses safetensors bytes (untrusted input) into { name: Tensor } (caller disposes). */
  loadSafetensors(bytes) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('loadSafetensors: bytes must be a Uint8Array or ArrayBuffer');
    const sd = this._check(this._M.parseSafetensors(bytes));
    try {
      const out = {};
      for (const name of sd.keys()) out[name] = new Tensor(this, sd.get(name));
      return out;
    } finally {
      sd.delete();
    }
  }
}

/**
 * Loads the engine. In Node the .wasm is read from the package folder; in
 * browsers it is fetched next to this module unless `wasmUrl` says otherwise;
 * `wasmBinary` (ArrayBuffer/Uint8Array) skips loading altogether.
 */
export async function init({ wasmUrl, wasmBinary } = {}) {
  const moduleArg = {};
  if (wasmUrl) moduleArg.wasmUrl = String(wasmUrl);
  if (wasmBinary) moduleArg.wasmBinary = wasmBinary;
  const M = await createAttentionModule(moduleArg);
  return new AttentionPlayground(M);
}

export default init;
