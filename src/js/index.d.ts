/**
 * attention-playground: attention mechanisms in SIMD WebAssembly with PyTorch semantics.
 *
 * @example
 * ```js
 * import { init } from 'attention-playground';
 * const ap = await init();
 * const q = ap.tensor(new Float32Array(2 * 5 * 16), [2, 5, 16]);
 * using r = ap.scaledDotProductAttention(q, q, q, { causal: true });   // or r.dispose()
 * console.log(r.weights.shape, r.weights.toArray());
 * q.dispose();
 * ```
 *
 * Ownership: every Tensor, module and AttentionResult holds wasm memory. Call `dispose()`
 * (or use `using`) when done; objects garbage-collected undisposed are freed with a warning.
 *
 * Errors: arguments are checked before anything reaches the engine. A wrong type or an
 * unknown option key throws `TypeError`, a number out of range `RangeError`, and the engine's
 * own checks (shapes, NaN, sizes over the byte budget, hostile model files) `AttentionError`.
 * Every message starts with the function's name and names the argument. The engine stays
 * usable after every error.
 */

/** An error reported by the engine: shapes, NaN, sizes over the byte budget, model files. */
export class AttentionError extends Error {
  readonly name: 'AttentionError';
}

/** Anything that owns wasm memory. */
export interface Disposable {
  /** Frees the wasm memory. Idempotent. Using the object afterwards throws. */
  dispose(): void;
  [Symbol.dispose](): void;
  readonly disposed: boolean;
}

export type DType = 'float32' | 'bool';
/** Tensor data. A Uint8Array needs an explicit dtype; boolean[] needs dtype 'bool'. */
export type TensorData = Float32Array | Float64Array | Uint8Array | number[] | boolean[];

/** An n-dimensional float32 or bool array in wasm memory. Create with `ap.tensor`. Must be disposed. */
export class Tensor implements Disposable {
  private constructor();
  /** The engine this tensor lives in; tensors cannot be passed to another engine. */
  readonly engine: AttentionPlayground;
  readonly shape: number[];
  readonly dtype: DType;
  readonly size: number;
  /** A copy of the data (Uint8Array of 0/1 for bool tensors). */
  toArray(): Float32Array | Uint8Array;
  /**
   * The data without a copy, over the wasm heap. Read it at once: the heap may grow (and detach it) on
   * any later call into the engine, and it must not be used after dispose().
   */
  view(): Float32Array | Uint8Array;
  dispose(): void;
  [Symbol.dispose](): void;
  readonly disposed: boolean;
}

/** Output and attention weights of one call. `dispose()` frees both. */
export class AttentionResult {
  private constructor();
  output: Tensor;
  /** null when weights were not requested (MultiheadAttention needWeights: false). */
  weights: Tensor | null;
  /** With { steps: true }: every stage, each shaped like the weights; else null. */
  steps: { scores: Tensor; scaled: Tensor; masked: Tensor; softmax: Tensor } | null;
  dispose(): void;
  [Symbol.dispose](): void;
}

/** Soft attention (default) or a hard rule applied after the softmax. */
export interface SelectionOptions {
  /** 'soft' | 'top_k' | 'threshold' | 'argmax' | 'sample' (a draw from the soft weights). */
  selection?: 'soft' | 'top_k' | 'topK' | 'threshold' | 'argmax' | 'sample';
  /** top_k: how many positions to keep (default 1). */
  k?: number;
  /** threshold: keep weights >= threshold (a row with none keeps its argmax). */
  threshold?: number;
  /**
   * true (default): the kept weights are rescaled to sum to 1 (argmax/sample become one-hot).
   * false: seed 001's literal rule, the other positions set to 0 and the kept weights left as they were.
   */
  renormalize?: boolean;
  /**
   * Makes sampling reproducible, and dropout in scaledDotProductAttention/dotProductAttention.
   * Without a seed every call draws fresh randomness from the engine's generators (one stream for
   * dropout, one for sampling). MultiheadAttention's dropout uses the module's own seeded generator.
   */
  seed?: number;
}

export interface QkvOptions extends SelectionOptions {
  /** bool: true = the position takes part; float: added to the scores. Broadcasts to (..., L, S). */
  mask?: Tensor | null;
  /**
   * true or 'upper-left': query i sees keys j <= i (torch's is_causal). 'lower-right': query i sees
   * keys j <= i + S - L (torch.nn.attention.bias.causal_lower_right), so the last query sees every
   * key, as in KV-cache decoding. The two agree when L == S. Not together with `mask`.
   */
  causal?: CausalOption;
  /** Alias of `causal`. */
  isCausal?: CausalOption;
  /**
   * Also return every stage of the computation as `result.steps` (for teaching; costs extra memory):
   * scores (the rule's raw scores), scaled (× scale), masked (+ additive mask, -inf where a key is
   * excluded), softmax (before hard selection and dropout).
   */
  steps?: boolean;
}

export type CausalOption = boolean | 'upper-left' | 'lower-right';

export interface SdpaOptions extends QkvOptions {
  /** Default 1/sqrt(E). */
  scale?: number;
  /** Dropout on the weights, in [0, 1). */
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
  /** Default true. A query whose keys are all masked gets NaN with weights (as torch), zeros without. */
  needWeights?: boolean;
  averageAttnWeights?: boolean;
  /**
   * Without attnMask: applies the causal mask. Deliberately unlike torch, which raises
   * "Need attn_mask if specifying the is_causal hint". With attnMask: a hint (attnMask is used).
   * 'lower-right' aligns the mask bottom-right as for `causal` in SdpaOptions.
   */
  isCausal?: CausalOption;
}

/** Text (a string) or bytes of a model or tokenizer file. */
export type FileContents = string | Uint8Array | ArrayBuffer;

export type TokenizerSpec =
  | { type: 'gpt2-bpe' }
  | { type: 'char'; vocab: string[]; unk?: string }
  | { type: 'word'; vocab: string[]; unk?: string; lowercase?: boolean; split?: 'whitespace' | 'words-and-punct' };

/** Text <-> token ids. */
export class Tokenizer implements Disposable {
  private constructor();
  readonly kind: 'gpt2-bpe' | 'char' | 'word';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  /** Bytes that do not form UTF-8 (ids that cut a character) become U+FFFD. */
  decode(ids: Int32Array | ArrayLike<number>): string;
  readonly disposed: boolean;
  dispose(): void;
  [Symbol.dispose](): void;
}

export interface ModelFiles {
  config: object | string | Uint8Array | ArrayBuffer;
  weights: Uint8Array | ArrayBuffer;
  tokenizer?: Record<string, FileContents>;
}

/** One attention map of a forward pass. */
export class AttentionMap {
  private constructor();
  /** Layer (or block) index, from 0. */
  readonly layer: number;
  /** 'self' and 'cross' attention, or 'channel' (Squeeze-and-Excitation weights). */
  readonly kind: 'self' | 'cross' | 'channel';
  /** Transformers: (heads, T, S); seq2seq: (T, S); SE blocks: (N, C). */
  readonly weights: Tensor;
}

/** logits and, with { capture: true }, every attention map the forward computed (no second pass). */
export class ModelOutput {
  private constructor();
  readonly logits: Tensor;
  /** Empty unless captured. */
  readonly attentions: AttentionMap[];
  /**
   * forward with { qkv: true }: per attention the queries (heads, L, head size) and keys and values
   * (heads, S, head size) the scores used (a GPT's cached positions included): the GPT's and the
   * encoders' self-attention, the encoder-decoder's cross-attention.
   */
  readonly projections?: Array<{ layer: number; kind: 'self' | 'cross'; q: Tensor; k: Tensor; v: Tensor }>;
  dispose(): void;
  [Symbol.dispose](): void;
}

declare abstract class Model implements Disposable {
  /** The config's model_type. */
  readonly type: string;
  /** A copy of the config it was loaded with. */
  readonly config: Record<string, any>;
  readonly numParameters: number;
  /** The files loadModel takes: the config and the weights (safetensors; GPT-2 in Hugging Face's layout). */
  save(): { config: Record<string, any>; weights: Uint8Array };
  /**
   * Switches attention heads off for every later forward, translate and generate, until the next call
   * (Hugging Face's head_mask = 0: the head's output is zeroed before the output projection; its weights
   * are still computed and captured). [] switches every head back on. Transformers only (GPT, encoder
   * classifier, encoder-decoder); layers numbered as the attention maps are.
   */
  ablateHeads(heads: Array<{ layer: number; head: number; kind?: 'self' | 'cross' }>): void;
  /** With the config's tokenizer ('target': a seq2seq model's target side). */
  encode(text: string, which?: 'source' | 'target'): Int32Array;
  decode(ids: Int32Array | ArrayLike<number>, which?: 'source' | 'target'): string;
  readonly disposed: boolean;
  dispose(): void;
  [Symbol.dispose](): void;
}

/** model_type 'se-cnn': Squeeze-and-Excitation CNN. */
export class ImageClassifier extends Model {
  readonly labels: string[] | null;
  /** images (N, C, H, W) -> logits (N, classes); maps: kind 'channel', (N, C) per block. */
  forward(images: Tensor, options?: { capture?: boolean }): ModelOutput;
}

/** model_type 'encoder-classifier': BERT-style encoder, [CLS] pooler, classifier. */
export class TextClassifier extends Model {
  readonly labels: string[] | null;
  /** One sequence -> logits (classes); maps: per encoder layer, kind 'self', (heads, T, T). */
  forward(ids: string | Int32Array | ArrayLike<number>,
          options?: { capture?: boolean; tokenTypeIds?: Int32Array | ArrayLike<number>; qkv?: boolean }): ModelOutput;
}

/**
 * model_type 'seq2seq-rnn' (RNN encoder-decoder with Bahdanau / Luong attention) or 'encoder-decoder'
 * (Transformer).
 */
export class Seq2SeqModel extends Model {
  /**
   * Teacher forced: logits (T, targetVocab). Maps: RNN, kind 'cross', (T, S); Transformer, per layer
   * (decoder layers numbered after the encoder's), 'self' and 'cross', (heads, T, S).
   */
  forward(source: string | Int32Array | ArrayLike<number>, targetIn: string | Int32Array | ArrayLike<number>,
          options?: { capture?: boolean; qkv?: boolean }): ModelOutput;
  /** Greedy decoding from the config's bos_id until eos_id or maxLength (default 64) tokens. */
  translate(source: string | Int32Array | ArrayLike<number>, options?: { maxLength?: number; capture?: boolean }):
    { ids: Int32Array; text: string | null; attentions: AttentionMap[] };
}

export interface GenerateOptions {
  /** Default 32. */
  maxNewTokens?: number;
  /** Default 1; 0 = greedy. */
  temperature?: number;
  /** 0 (default) = off. */
  topK?: number;
  /** In (0, 1]; 1 (default) = off. */
  topP?: number;
  /** Reproducible sampling; without it every call draws fresh randomness. */
  seed?: number;
  /** After each new token (text: its text, when the model has a tokenizer); returning false stops. */
  onToken?: (id: number, text: string | null) => boolean | void;
}

/**
 * model_type 'gpt2' (Hugging Face config.json) or 'gpt': GPT-2 architecture with a KV cache.
 * Hugging Face GPT-2 checkpoints load as they are (Conv1D layout, with or without "transformer.").
 */
export class LanguageModel extends Model {
  readonly vocabSize: number;
  /** The context length (n_positions). */
  readonly maxPositions: number;
  /**
   * logits (T, vocab) of the tokens (or text). position > 0 continues the cached sequence (KV cache);
   * with capture: one map per layer, kind 'self', weights (heads, T, position + T).
   */
  forward(ids: string | Int32Array | ArrayLike<number>, options?: { capture?: boolean; position?: number; qkv?: boolean }): ModelOutput;
  /**
   * Prefill, then KV-cache decoding. Stops after maxNewTokens, when onToken returns false, or once the
   * context is full (at most maxPositions - prompt length + 1 new tokens).
   */
  generate(prompt: string | Int32Array | ArrayLike<number>, options?: GenerateOptions): { ids: Int32Array; text: string | null };
}

export type LoadedModel = LanguageModel | ImageClassifier | TextClassifier | Seq2SeqModel;

export interface TrainerOptions {
  /**
   * Default 'induction'. copy / reverse / sort / addition: "question | answer" over digits, loss on the
   * answer (a GPT). brackets: balanced ()[]{} (an encoder classifier). dates: 20 human date formats to
   * YYYY-MM-DD (an encoder-decoder).
   */
  task?: 'induction' | 'copy' | 'reverse' | 'sort' | 'addition' | 'brackets' | 'dates';
  /** induction: tokens before the repeat (default 8); brackets: the longest string (default 12); dates: unused; others: digits (per operand), default 4. */
  length?: number;
  /** induction only: distinct tokens (default 16). */
  vocab?: number;
  layers?: number;      // default 2
  heads?: number;       // default 2
  dModel?: number;      // default 64
  /** 0 (default): 4 * dModel. */
  mlpWidth?: number;
  batch?: number;       // default 16
  optimizer?: 'adamw' | 'adam' | 'sgd';  // default 'adamw' (torch.optim semantics)
  lr?: number;          // default 3e-3
  weightDecay?: number; // default 0.01
  momentum?: number;    // sgd, default 0.9
  warmup?: number;      // linear warm-up steps, default 20
  /** > 0: cosine decay to 0.1 x lr at this step; 0 (default): constant after warm-up. */
  cosineSteps?: number;
  /** Seed 001's gradient clipping; default { mode: 'norm', maxNorm: 1 }; null: none. */
  clip?: { mode: 'norm'; maxNorm?: number; normType?: number } | { mode: 'value'; value?: number }
    | { mode: 'clamp'; min?: number; max?: number } | { mode: 'none' } | null;
  seed?: number;        // default 1: the same seed, the same run
}

export interface TrainerStep {
  step: number; loss: number; accuracy: number; lr: number; gradNorm: number; tokensPerSecond: number;
}

/** A GPT trained step by step on a seeded task, in this engine. Create with ap.createTrainer. */
export class Trainer implements Disposable {
  private constructor();
  readonly task: string;
  /** The task's input tokens by id. */
  readonly vocab: string[];
  /** What the probe logits' columns are: next tokens, classes (brackets) or output tokens (dates). */
  readonly outputVocab: string[];
  readonly steps: number;
  readonly seqLen: number;
  readonly numParameters: number;
  step(): TrainerStep;
  /** Yields to the event loop between slices of about sliceMs (default 30). */
  run(options: { steps: number; onProgress?: (s: TrainerStep) => void; signal?: AbortSignal; sliceMs?: number }): Promise<TrainerStep | null>;
  /** Loss and answer accuracy on fixed held-out batches (default 8). */
  evaluate(options?: { batches?: number }): { loss: number; accuracy: number; targets: number };
  /** A fixed held-out sequence through the model, maps captured; dispose output. */
  probe(): { ids: Int32Array; tokens: string[]; output: ModelOutput };
  /** The model's files for ap.loadModel. */
  save(options?: { name?: string }): { config: Record<string, any>; weights: Uint8Array };
  readonly disposed: boolean;
  dispose(): void;
  [Symbol.dispose](): void;
}

export type StateDictInput = Record<string, Float32Array | Float64Array | Uint8Array | number[] | Tensor>;

/** Parameters by PyTorch name, train/eval. */
declare abstract class AttentionModule implements Disposable {
  readonly engine: AttentionPlayground;
  /** Loads parameters by PyTorch state_dict key; checks every key and shape. */
  loadStateDict(dict: StateDictInput, options?: { strict?: boolean }): this;
  /** Copies of the parameters; the caller disposes them. */
  stateDict(): Record<string, Tensor>;
  train(on?: boolean): this;
  eval(): this;
  readonly training: boolean;
  readonly numParameters: number;
  dispose(): void;
  [Symbol.dispose](): void;
  readonly disposed: boolean;
}

/** torch.nn.MultiheadAttention. Keys: in_proj_weight | q/k/v_proj_weight, in_proj_bias, bias_k, bias_v, out_proj.weight, out_proj.bias. */
export class MultiheadAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, options: MultiheadAttentionOptions);
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly batchFirst: boolean;
  /** query (L, N, E) | (N, L, E) if batchFirst | (L, E) unbatched; key (S, N, kdim); value (S, N, vdim). */
  forward(query: Tensor, key: Tensor, value: Tensor, options?: MhaForwardOptions): AttentionResult;
  selfAttention(x: Tensor, options?: MhaForwardOptions): AttentionResult;
  crossAttention(x: Tensor, memory: Tensor, options?: MhaForwardOptions): AttentionResult;
  /** A copy of the per-head weights (N, H, L, S) of the latest forward. Caller disposes. */
  lastWeights(): Tensor | null;
}

/** Seed 000's BasicAttention: softmax(Q Kᵀ) V. */
export class BasicAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, hiddenSize: number);
  forward(query: Tensor, key: Tensor, value: Tensor, options?: QkvOptions): AttentionResult;
}
/** Luong "general": score = qᵀ W k. */
export class GeneralAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, querySize: number, keySize: number);
  forward(query: Tensor, key: Tensor, value: Tensor, options?: QkvOptions): AttentionResult;
}
/** Bahdanau additive: score = w_vᵀ tanh(W_q q + W_k k). */
export class AdditiveAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, keySize: number, querySize: number, numHiddens: number);
  forward(query: Tensor, key: Tensor, value: Tensor, options?: QkvOptions): AttentionResult;
}
/** Seed 003's concat rule `Attn`. */
export class ConcatAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, querySize: number, keySize: number, valueSize1: number, valueSize2: number, outputSize: number);
  forward(query: Tensor, key: Tensor, value: Tensor, options?: QkvOptions): AttentionResult;
}
/** Seed 004's MultiHeadAttention. */
export class SimpleMultiHeadAttention extends AttentionModule {
  constructor(engine: AttentionPlayground, embedDim: number, numHeads: number);
  /** query/key/value (B, L, E); mask broadcastable to (B, H, L, S), 0 = masked (score := -1e9). */
  forward(query: Tensor, key: Tensor, value: Tensor, options?: SelectionOptions & { mask?: Tensor | null }): AttentionResult;
}
/** Squeeze-and-Excitation channel attention. */
export class SqueezeExcitation extends AttentionModule {
  constructor(engine: AttentionPlayground, channels: number, reduction: number);
  /** x (N, C, H, W) -> output (N, C, H, W), weights = channel weights (N, C). */
  forward(x: Tensor): AttentionResult;
}
/** Learned positional embedding (key "weight", (maxLen, d)). */
export class LearnedPositionalEmbedding extends AttentionModule {
  constructor(engine: AttentionPlayground, maxLen: number, d: number);
  /** x (..., L, d) + weight[offset : offset + L]. */
  forward(x: Tensor, offset?: number): Tensor;
}

type Bound<C extends abstract new (engine: AttentionPlayground, ...args: any) => any> =
  C extends abstract new (engine: AttentionPlayground, ...args: infer A) => infer R ? new (...args: A) => R : never;

/** The engine: one WebAssembly instance. Create with `await init()`. */
export class AttentionPlayground {
  private constructor();
  readonly version: string;
  /** true for the SIMD build. */
  readonly simd: boolean;
  readonly simdArch: string;
  /** The per-tensor byte budget (init({ maxTensorBytes }); default 256 MiB). */
  readonly maxTensorBytes: number;
  /**
   * Copies data in. dtype 'float32' (default) or 'bool' (nonzero = true); a Uint8Array needs an
   * explicit dtype. shape defaults to [data.length].
   */
  tensor(data: Float32Array | Float64Array | number[], shape?: number[], dtype?: DType): Tensor;
  tensor(data: Uint8Array, shape: number[] | undefined, dtype: DType): Tensor;
  tensor(data: boolean[], shape: number[] | undefined, dtype: 'bool'): Tensor;
  /** Bytes currently allocated on the wasm heap. */
  heapBytesInUse(): number;
  /** torch.nn.functional.scaled_dot_product_attention with PyTorch >= 2.5 semantics (fully masked rows give zeros). */
  scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: SdpaOptions): AttentionResult;
  dotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: Omit<SdpaOptions, 'scale'>): AttentionResult;
  attentionEntropy(weights: Tensor): Tensor;
  sinusoidalTable(maxLen: number, d: number): Tensor;
  applyRope(x: Tensor, options?: { style?: 'interleaved' | 'half_split' | 'halfSplit'; offset?: number }): Tensor;
  alibiBias(heads: number, L: number, S: number): Tensor;
  matmul(a: Tensor, b: Tensor): Tensor;
  softmax(x: Tensor): Tensor;
  /** Parses an untrusted .safetensors file; every size and offset is checked. Caller disposes the tensors. */
  loadSafetensors(bytes: Uint8Array | ArrayBuffer): Record<string, Tensor>;
  /**
   * A tokenizer from its spec and files (untrusted input). GPT-2 byte-level BPE:
   * `loadTokenizer({ type: 'gpt2-bpe' }, { 'encoder.json': ..., 'vocab.bpe': ... })` (or vocab.json /
   * merges.txt); char- and word-level: `{ type: 'char' | 'word', vocab: [...], unk? , lowercase?, split? }`.
   */
  loadTokenizer(spec: TokenizerSpec | string, files?: Record<string, FileContents>): Tokenizer;
  /**
   * A model from its files (untrusted input): `config` (object or JSON text, with a model_type),
   * `weights` (safetensors bytes), `tokenizer` (the tokenizer's files by name, when needed).
   * Errors name the config key or tensor (with both shapes) and the problem.
   */
  loadModel(files: ModelFiles): LoadedModel;
  /** A GPT to train step by step on a seeded task. */
  createTrainer(options?: TrainerOptions): Trainer;

  /** `new ap.MultiheadAttention(opts)` is `new MultiheadAttention(ap, opts)`; instanceof works with both. */
  MultiheadAttention: Bound<typeof MultiheadAttention>;
  SimpleMultiHeadAttention: Bound<typeof SimpleMultiHeadAttention>;
  BasicAttention: Bound<typeof BasicAttention>;
  GeneralAttention: Bound<typeof GeneralAttention>;
  AdditiveAttention: Bound<typeof AdditiveAttention>;
  ConcatAttention: Bound<typeof ConcatAttention>;
  SqueezeExcitation: Bound<typeof SqueezeExcitation>;
  LearnedPositionalEmbedding: Bound<typeof LearnedPositionalEmbedding>;
}

export interface InitOptions {
  /** Where to fetch the .wasm from (browsers); default: next to the module. */
  wasmUrl?: string | URL;
  /** The .wasm bytes, to skip fetching. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Per-tensor byte budget, at most 2^31 (default 256 MiB): larger tensors fail with an AttentionError. */
  maxTensorBytes?: number;
  /**
   * Per-call work budget in units of about one SIMD multiply-add, counting per-matrix, per-row and
   * transcendental costs too (default 2^34, about a second of SIMD GEMM; Infinity: none).
   * matmul, attention and module forwards whose estimated work exceeds it fail at once with an
   * AttentionError instead of blocking the thread for minutes.
   */
  maxCallWork?: number;
  /** Seeds the engine's dropout and sampling generators (calls without their own seed draw from them). */
  seed?: number;
}

export function init(options?: InitOptions): Promise<AttentionPlayground>;
export default init;
