// Shared by the benchmark's engines and runner (scripts/bench/run.mjs): the workloads with
// their FLOP counts, the inputs written by scripts/bench/export_onnx.py, output checks
// against the PyTorch reference, and the timing loop.
// Shapes: L sequence length, D model width, H heads, hs = D/H head size; GPT: NL layers,
// C = n_embd, V vocab, T prompt tokens, N decode steps (each attending over T + j + 1 keys).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
// export_onnx.py writes here (run.mjs re-exports when missing or stale); ATTN_BENCH_DATA points
// elsewhere, e.g. scripts/bench/data: the committed inputs of the smallest workload (smoke test).
export const defaultDataDir = join(root, 'build/bench/data');
export const dataDir = process.env.ATTN_BENCH_DATA ?? defaultDataDir;

export const GPT = { NL: 6, NH: 8, C: 256, V: 4096, P: 256, T: 128, N: 64 };
// The training step of issue 9/10: a 2-layer, 128-wide GPT on 64-token sequences (the copy task
// with 32 digits: "x | x" is 65 tokens), batch 8, AdamW with clip_grad_norm_.
export const TRAIN = { task: 'copy', length: 32, layers: 2, heads: 4, dModel: 128, batch: 8, V: 13, T: 64 };

// FLOPs as computed (dense score matrices, also where a causal mask zeroes half of them);
// softmax, layer norms and activations are not counted.
const mhaFlops = (L, D) => 8 * L * D * D + 4 * L * L * D;         // QKV 6LD² + out 2LD² + QKᵀ, PV 2L²D each
const encFlops = (L, D) => mhaFlops(L, D) + 16 * L * D * D;        // + feed-forward D->4D->D
function gptPrefillFlops({ NL, C, V, T }) { return NL * (24 * T * C * C + 4 * T * T * C) + 2 * T * C * V; }
// Forward + backward (about twice the forward's products) of B sequences; AdamW not counted.
function trainFlops({ layers, dModel: C, V, T, batch }) { return 3 * batch * (layers * (24 * T * C * C + 4 * T * T * C) + 2 * T * C * V); }
function gptDecodeFlops({ NL, C, V, T, N }) {
  let f = 0;
  for (let j = 0; j < N; ++j) f += NL * (24 * C * C + 4 * (T + j + 1) * C) + 2 * C * V;
  return f;
}

export const WORKLOADS = [
  ...[[64, 128, 4], [128, 256, 8], [256, 256, 8], [512, 512, 8]].map(([L, D, H]) => ({
    name: `mha_${L}_${D}_${H}`, kind: 'mha', L, D, H, flops: mhaFlops(L, D), label: `MHA L=${L} D=${D} H=${H}`,
  })),
  ...[[128, 256, 8], [256, 512, 8]].map(([L, D, H]) => ({
    name: `enc_${L}_${D}_${H}`, kind: 'enc', L, D, H, flops: encFlops(L, D), label: `encoder layer L=${L} D=${D} H=${H}`,
  })),
  { name: 'gpt_prefill', kind: 'gpt_prefill', flops: gptPrefillFlops(GPT), label: `GPT prefill ${GPT.T} tokens` },
  { name: 'gpt_decode', kind: 'gpt_decode', flops: gptDecodeFlops(GPT), tokens: GPT.N,
    label: `GPT decode ${GPT.N} tokens after ${GPT.T}` },
  { name: 'train_step', kind: 'train', flops: trainFlops(TRAIN),
    label: `training step: GPT ${TRAIN.layers} layers, d ${TRAIN.dModel}, ${TRAIN.batch} x ${TRAIN.T} tokens, AdamW` },
];

// |actual - expected| <= atol + rtol |expected|, per workload (float32 engines against torch's float32).
export const TOLERANCE = {
  mha: { atol: 1e-4, rtol: 1e-3 },
  enc: { atol: 1e-3, rtol: 1e-3 },
  gpt_prefill: { atol: 2e-3, rtol: 1e-3 },
  gpt_decode: { atol: 2e-3, rtol: 1e-3 },
  train: { atol: 0, rtol: 0 },
};

/** A safetensors file as { meta, tensors: { name: { shape, data: Float32Array } } } (F32 only). */
export function readSafetensors(path) {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`readSafetensors: ${path}: ${name} is ${t.dtype}, expected F32`);
    const [b, e] = t.data_offsets;
    const data = new Float32Array((e - b) / 4);
    new Uint8Array(data.buffer).set(bytes.subarray(8 + n + b, 8 + n + e));
    tensors[name] = { shape: t.shape, data };
  }
  return { meta: header.__metadata__ ?? {}, tensors };
}

/** The inputs of one workload: tensors (weights w.*, input in.x, references ref.*), GPT files. */
export function loadData(workload) {
  // Training has no input files: the batches come from the task's seeded generator. Its numbers
  // are checked by the tests (gradients against autograd, the native build's losses), not here.
  if (workload.kind === 'train') return {};
  if (workload.kind === 'mha' || workload.kind === 'enc') return readSafetensors(join(dataDir, `${workload.name}.safetensors`));
  const ref = readSafetensors(join(dataDir, 'gpt_ref.safetensors')).tensors;
  return {
    config: JSON.parse(readFileSync(join(dataDir, 'gpt_config.json'), 'utf8')),
    weightsBytes: readFileSync(join(dataDir, 'gpt.safetensors')),
    weights: readSafetensors(join(dataDir, 'gpt.safetensors')).tensors,
    prompt: Int32Array.from(ref.prompt.data),
    tokens: Int32Array.from(ref.tokens.data),
    ref: { logits: workload.kind === 'gpt_prefill' ? ref.prefill_logits.data : ref.decode_logits.data },
  };
}

/** The reference outputs by the names engines report. */
export function references(workload, data) {
  if (workload.kind === 'mha') return { out: data.tensors['ref.out'].data, weights: data.tensors['ref.weights'].data };
  if (workload.kind === 'enc') return { out: data.tensors['ref.out'].data };
  if (workload.kind === 'train') return {};
  return data.ref;
}

/** { name: { maxAbs, ok } } for each reference output; a missing output or NaN fails. */
export function check(workload, outputs, refs) {
  const { atol, rtol } = TOLERANCE[workload.kind];
  const result = {};
  for (const [name, expected] of Object.entries(refs)) {
    const actual = outputs[name];
    let maxAbs = 0, ok = !!actual && actual.length === expected.length;
    for (let i = 0; ok && i < expected.length; ++i) {
      const d = Math.abs(actual[i] - expected[i]);
      if (!(d <= atol + rtol * Math.abs(expected[i]))) ok = false;
      if (!(d <= maxAbs)) maxAbs = d;  // NaN sticks
    }
    result[name] = { maxAbs: actual && actual.length === expected.length ? maxAbs : null, ok };
  }
  return result;
}

/**
 * Runs `iterate` (async; returns the timed milliseconds of one iteration) for `warmupS` seconds,
 * then at least `minIters` times and for at least `measureS` seconds: the per-iteration times.
 */
export async function timeLoop(iterate, { warmupS, measureS, minIters = 3 }) {
  const until = (s) => performance.now() + s * 1000;
  for (const end = until(warmupS); performance.now() < end;) await iterate();
  const ms = [];
  for (const end = until(measureS); ms.length < minIters || performance.now() < end;) ms.push(await iterate());
  return ms;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
