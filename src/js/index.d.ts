/**
 * attention-playground: attention mechanisms in SIMD WebAssembly with PyTorch semantics.
 *
 * @example
 * ```js
 * import { init } from 'attention-playground';
 * const ap = await init();
 * const q = ap.tensor(new Float32Array(2 * 5 * 16), [2, 5, 16]);
 * const { output, weights } = ap.scaledDotProductAttention(q, q, q, { causal: true });
 * console.log(weights.shape, weights.toArray());
 * output.dispose(); weights.dispose(); q.dispose();
 * ```
 *
 * Ownership: every Tensor and module holds wasm memory. Call `dispose()` (or use
 * `using`) when done; objects garbage-collected undisposed are freed with a warning.
 * Bad input throws an `Error` whose message names the argument; the engine stays usable.
 */

/** Anything that owns wasm memory. */
export interface Disposable {
  /** Frees the wasm memory. Idempotent. Using the object afterwards throws. */
  dispose(): void;
  [Symbol.dispose](): void;
  readonly disposed: boolean;
}

export type TensorData = Float32Array | Float64Array | number[] | Uint8Array;

/** An n-dimensional float32 or bool array in wasm memory. Must be disposed. */
export interface Tensor extends Disposable {
  readonly shape: number[];
  readonly dtype: 'float32' | 'bool';
  readonly size: number;
  /** A copy of the data (Uint8Array of 0/1 for bool tensors). */
  toArray(): Float32Array | Uint8Array;
}

/** Output and attention weights of one call; both must be disposed (weights may be null). */
export interface AttentionResult {
  output: Tensor;
  weights: Tensor | null;
}

/** Soft attention (default) or a hard rule applied after the softmax. */
export interface SelectionOptions {
  /** 'soft' | 'top_k' | 'threshold' | 'argmax' | 'sample' (seeded one-hot draw from the soft weights). */
  selection?: 'soft' | 'top_k' | 'topK' | 'threshold' | 'argmax' | 'sample';
  /** top_k: how many positions to keep (default 1). */
  k?: number;
  /** threshold: keep weights >= threshold (a row with none keeps its argmax). */
  threshold?: number;
  /** sample / dropout seed. */
  seed?: number;
}

export interface SdpaOptions extends SelectionOptions {
  /** bool: true = the position takes part; float: added to the scores. Broadcasts to (..., L, S). */
  mask?: Tensor | null;
  /** Query i sees keys j <= i. Not together with `mask`. */
  causal?: boolean;
  /** Default 1/sqrt(E). */
  scale?: number;
  /** Dropout on the weights (seeded by `seed`). */
  dropoutP?: number;
}

export interface MultiheadAttentionOptions {
  embedDim: number;
  numHeads: number;
  dropout?: number;
  bias?: boolean;
  addBiasKV?: boolean;
  addZeroAttn?: boolean;
  kdim?: number | null;
  vdim?: number | null;
  batchFirst?: boolean;
  /** Seed for initialisation and dropout. */
  seed?: number;
}

export interface MhaForwardOptions extends SelectionOptions {
  /** (N, S) or (S): bool true = ignore that key; float = added. */
  keyPaddingMask?: Tensor | null;
  /** (L, S) or (N*numHeads, L, S): bool true = not allowed; float = added. */
  attnMask?: Tensor | null;
  needWeights?: boolean;
  averageAttnWeights?: boolean;
  /** Without attnMask: apply the causal mask. With attnMask: a hint (attnMask is used). */
  isCausal?: boolean;
}

export type StateDictInput = Record<string, Float32Array | number[] | Tensor>;

/** Parameters by PyTorch name, train/eval. */
export interface AttentionModule extends Disposable {
  /** Loads parameters by PyTorch state_dict key; checks every key and shape. */
  loadStateDict(dict: StateDictInput, options?: { strict?: boolean }): this;
  /** Copies of the parameters; the caller disposes them. */
  stateDict(): Record<string, Tensor>;
  train(on?: boolean): this;
  eval(): this;
  readonly training: boolean;
  readonly numParameters: number;
}

/** torch.nn.MultiheadAttention. Keys: in_proj_weight | q/k/v_proj_weight, in_proj_bias, bias_k, bias_v, out_proj.weight, out_proj.bias. */
export interface MultiheadAttention extends AttentionModule {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly batchFirst: boolean;
  /** query (L, N, E) | (N, L, E) if batchFirst | (L, E) unbatched; key (S, N, kdim); value (S, N, vdim). */
  forward(query: Tensor, key: Tensor, value: Tensor, options?: MhaForwardOptions): AttentionResult;
  selfAttention(x: Tensor, options?: MhaForwardOptions): AttentionResult;
  crossAttention(x: Tensor, memory: Tensor, options?: MhaForwardOptions): AttentionResult;
  /** Per-head weights (N, H, L, S) of the latest forward. Caller disposes. */
  lastWeights(): Tensor | null;
}

export interface QkvAttentionModule extends AttentionModule {
  forward(query: Tensor, key: Tensor, value: Tensor, options?: SdpaOptions): AttentionResult;
}

export interface SimpleMultiHeadAttention extends AttentionModule {
  /** query/key/value (B, L, E); mask broadcastable to (B, H, L, S), 0 = masked (score := -1e9). */
  forward(query: Tensor, key: Tensor, value: Tensor, options?: SelectionOptions & { mask?: Tensor | null }): AttentionResult;
}

export interface SqueezeExcitation extends AttentionModule {
  /** x (N, C, H, W) -> output (N, C, H, W), weights = channel weights (N, C). */
  forward(x: Tensor): AttentionResult;
}

export interface LearnedPositionalEmbedding extends AttentionModule {
  /** x (..., L, d) + weight[offset : offset + L]. */
  forward(x: Tensor, offset?: number): Tensor;
}

export interface AttentionPlayground {
  readonly version: string;
  /** true for the SIMD build. */
  readonly simd: boolean;
  readonly simdArch: string;
  /** Copies data in. Float data -> float32 tensor; Uint8Array -> bool tensor. shape defaults to [data.length]. */
  tensor(data: TensorData, shape?: number[]): Tensor;
  /** Bytes currently allocated on the wasm heap. */
  heapBytesInUse(): number;
  scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: SdpaOptions): AttentionResult;
  dotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: Omit<SdpaOptions, 'scale'>): AttentionResult;
  attentionEntropy(weights: Tensor): Tensor;
  sinusoidalTable(maxLen: number, d: number): Tensor;
  applyRope(x: Tensor, options?: { style?: 'interleaved' | 'half_split'; offset?: number }): Tensor;
  alibiBias(heads: number, L: number, S: number): Tensor;
  matmul(a: Tensor, b: Tensor): Tensor;
  softmax(x: Tensor): Tensor;
  loadSafetensors(bytes: Uint8Array | ArrayBuffer): Record<string, Tensor>;

  MultiheadAttention: new (options: MultiheadAttentionOptions) => MultiheadAttention;
  SimpleMultiHeadAttention: new (embedDim: number, numHeads: number) => SimpleMultiHeadAttention;
  BasicAttention: new (hiddenSize: number) => QkvAttentionModule;
  GeneralAttention: new (querySize: number, keySize: number) => QkvAttentionModule;
  AdditiveAttention: new (keySize: number, querySize: number, numHiddens: number) => QkvAttentionModule;
  ConcatAttention: new (querySize: number, keySize: number, valueSize1: number, valueSize2: number, outputSize: number) => QkvAttentionModule;
  SqueezeExcitation: new (channels: number, reduction: number) => SqueezeExcitation;
  LearnedPositionalEmbedding: new (maxLen: number, d: number) => LearnedPositionalEmbedding;
}

export interface InitOptions {
  /** Where to fetch the .wasm from (browsers); default: next to the module. */
  wasmUrl?: string | URL;
  /** The .wasm bytes, to skip fetching. */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

export function init(options?: InitOptions): Promise<AttentionPlayground>;
export default init;
