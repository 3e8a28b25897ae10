// The engine's side of the page: a module Web Worker that owns the WebAssembly engine and
// the loaded models, so no forward pass ever blocks the page. The page talks to it through
// client.mjs: requests { id, op, ...args } answered by { id, ok, result } or
// { id, ok: false, error: { name, message } }, and { id, progress: { loaded, total } }
// while a model downloads. Maps travel as transferred Float32Arrays, copied out of the
// engine once; nothing here is computed twice or re-implemented in JS except what the
// page displays (token labels, top-k of the next-token distribution).
//
// ops: init; load { key, url } (a bundled model folder) or { key, files } (the user's own);
//      analyze { key, input, ...per type }; step { key, ids, temperature, topK, topP, seed };
//      unload { key }.
import { init } from '../engine/index.mjs';
import { labParams, mergeHeads, rng, splitHeads } from './lab_math.mjs';

let ap = null;
const models = new Map();  // key -> LanguageModel | TextClassifier | Seq2SeqModel | ImageClassifier
const ablated = new Map(); // key -> the heads switched off: [{ layer, head, kind }]

/** What people read for a token: spaces and control characters made visible. */
export function tokenLabel(text) {
  if (text === '') return '∅';
  return text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/[\u0000-\u001f]/g, '�');
}

async function fetchBytes(url, onProgress) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('Content-Length')) || 0;
  if (!res.body || !total) return new Uint8Array(await res.arrayBuffer());
  const out = new Uint8Array(total);
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > total) throw new Error(`${url}: more bytes than its Content-Length`);
    out.set(value, loaded);
    loaded += value.length;
    onProgress(loaded, total);
  }
  return loaded === total ? out : out.subarray(0, loaded);
}

function describeModel(key, m) {
  const c = m.config;
  const info = { key, type: m.type, config: c, numParameters: m.numParameters, labels: m.labels ?? null };
  if (m.type === 'gpt2' || m.type === 'gpt') {
    Object.assign(info, { kind: 'lm', layers: c.n_layer, heads: c.n_head, vocabSize: m.vocabSize, maxPositions: m.maxPositions });
  } else if (m.type === 'encoder-classifier') {
    Object.assign(info, { kind: 'classifier', layers: c.num_layers, heads: c.nhead, maxPositions: c.max_position });
  } else if (m.type === 'encoder-decoder') {
    Object.assign(info, { kind: 'seq2seq', layers: c.num_encoder_layers + c.num_decoder_layers, heads: c.nhead, maxLength: c.max_len });
  } else if (m.type === 'seq2seq-rnn') {
    Object.assign(info, { kind: 'seq2seq', layers: 1, heads: 1, maxLength: c.max_tgt_len });
  } else if (m.type === 'se-cnn') {
    Object.assign(info, { kind: 'image', layers: c.block_channels.length, heads: 1, input: c.input ?? null });
  }
  return info;
}

function labelsOf(m, ids, which) {
  return Array.from(ids, (id) => tokenLabel(which ? m.decode([id], which) : m.decode([id])));
}

// Every map of an output, copied out: { layer, kind, heads, rows, cols, weights }.
function mapsOf(attentions, transfer) {
  return attentions.map((a) => {
    const s = a.weights.shape, weights = a.weights.toArray();
    transfer.push(weights.buffer);
    const [heads, rows, cols] = s.length === 3 ? s : [1, ...s];
    return { layer: a.layer, kind: a.kind, heads, rows, cols, weights };
  });
}

function disposeOutput(out) {
  out.logits.dispose();
  for (const a of out.attentions) a.weights.dispose();
}

function softmaxTop(logits, k, temperature = 1) {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const t = temperature > 0 ? temperature : 1;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < p.length; ++i) sum += (p[i] = Math.exp((logits[i] - max) / t));
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, k);
  return order.map((i) => ({ id: i, p: p[i] / sum }));
}

function analyzeLm(m, { input, ids }, transfer) {
  const tokens = ids ? Int32Array.from(ids) : m.encode(input);
  if (tokens.length === 0) throw new Error('type at least one token');
  if (tokens.length > m.maxPositions) throw new Error(`the input is ${tokens.length} tokens; this model reads at most ${m.maxPositions}`);
  const out = m.forward(tokens, { capture: true });
  try {
    const V = m.vocabSize, last = out.logits.toArray().subarray((tokens.length - 1) * V);
    const next = softmaxTop(last, 10).map(({ id, p }) => ({ id, label: tokenLabel(m.decode([id])), p }));
    return { kind: 'lm', ids: Array.from(tokens), text: m.decode(tokens), tokens: labelsOf(m, tokens),
      maps: mapsOf(out.attentions, transfer), next };
  } finally { disposeOutput(out); }
}

function analyzeClassifier(m, { input }, transfer) {
  const ids = m.encode(input);
  if (ids.length === 0) throw new Error('type at least one character');
  const out = m.forward(ids, { capture: true });
  try {
    const logits = out.logits.toArray();
    const probs = softmaxTop(logits, logits.length).sort((a, b) => a.id - b.id)
      .map(({ id, p }) => ({ id, label: m.labels?.[id] ?? `class ${id}`, p }));
    return { kind: 'classifier', ids: Array.from(ids), tokens: labelsOf(m, ids), maps: mapsOf(out.attentions, transfer), probs };
  } finally { disposeOutput(out); }
}

function analyzeSeq2seq(m, { input }, transfer) {
  const src = m.encode(input, 'source');
  if (src.length === 0) throw new Error('type at least one character');
  const c = m.config;
  const t = m.translate(src);
  // The greedy output, run again teacher-forced with capture: every step's attention in one
  // pass (the KV-cached decode and the full pass compute the same maps).
  const tgtIn = Int32Array.from([c.bos_id ?? 0, ...t.ids]);
  const out = m.forward(src, tgtIn, { capture: true });
  try {
    const targetTokens = labelsOf(m, tgtIn, 'target');
    targetTokens[0] = '⟨bos⟩';
    const eos = c.eos_id ?? 0;
    const outIds = Array.from(t.ids);
    const text = m.decode(outIds.filter((id) => id !== eos), 'target');
    return { kind: 'seq2seq', ids: Array.from(src), tokens: labelsOf(m, src, 'source'), targetTokens,
      outputTokens: labelsOf(m, t.ids, 'target'), output: text, maps: mapsOf(out.attentions, transfer) };
  } finally { disposeOutput(out); }
}

function analyzeImage(m, { pixels, height, width }, transfer) {
  const c = m.config, mean = c.input?.mean ?? 0, std = c.input?.std ?? 1;
  if (!(pixels instanceof Float32Array) || pixels.length !== height * width) throw new Error('an image must be height × width grey values');
  const x = ap.tensor(pixels.map((v) => (v - mean) / std), [1, 1, height, width]);
  try {
    const out = m.forward(x, { capture: true });
    try {
      const logits = out.logits.toArray();
      const probs = softmaxTop(logits, logits.length).sort((a, b) => a.id - b.id)
        .map(({ id, p }) => ({ id, label: m.labels?.[id] ?? `class ${id}`, p }));
      return { kind: 'image', probs, maps: mapsOf(out.attentions, transfer) };
    } finally { disposeOutput(out); }
  } finally { x.dispose(); }
}

const ops = {
  async init() {
    ap = ap ?? await init();
    return { version: ap.version, simd: ap.simd, simdArch: ap.simdArch };
  },
  async load({ key, url, files }, progress) {
    await ops.init();
    let config, weights, tokenizer;
    if (url) {
      config = JSON.parse(new TextDecoder().decode(await fetchBytes(`${url}/config.json`, () => {})));
      weights = await fetchBytes(`${url}/model.safetensors`, progress);
    } else {
      ({ config, weights, tokenizer } = files);
    }
    const m = ap.loadModel({ config, weights, tokenizer });
    models.get(key)?.dispose();
    models.set(key, m);
    ablated.delete(key);
    return describeModel(key, m);
  },
  analyze(args, _progress, transfer) {
    const m = model(args.key);
    const run = (t) => {
      switch (describeModel(args.key, m).kind) {
        case 'lm': return analyzeLm(m, args, t);
        case 'classifier': return analyzeClassifier(m, args, t);
        case 'seq2seq': return analyzeSeq2seq(m, args, t);
        default: return analyzeImage(m, args, t);
      }
    };
    const result = run(transfer);
    const off = ablated.get(args.key) ?? [];
    result.ablated = off;
    if (off.length) {  // the same input with every head on, for comparison
      m.ablateHeads([]);
      try {
        const intact = run([]);
        result.intact = { next: intact.next, probs: intact.probs, output: intact.output };
      } finally { m.ablateHeads(off); }
    }
    return result;
  },
  // Switches heads off ([{ layer, head, kind }]; [] = all on) for later requests.
  ablate({ key, heads }) {
    const m = model(key);
    m.ablateHeads(heads);
    ablated.set(key, heads);
    return { heads };
  },
  // One generation step: the next token drawn with the engine's sampler (seeded per step),
  // then the analysis of the longer sequence.
  step({ key, ids, temperature, topK, topP, seed }, _progress, transfer) {
    const m = model(key);
    if (ids.length >= m.maxPositions) throw new Error(`the context is full (${m.maxPositions} tokens)`);
    const r = m.generate(Int32Array.from(ids), { maxNewTokens: 1, temperature, topK, topP, seed });
    return analyzeLm(m, { ids: [...ids, ...r.ids] }, transfer);
  },
  // A bundled samples.safetensors: "images" (N, 1, H, W), grey values in [0, 1] or [0, 255],
  // and "labels" (N), read by the engine's safetensors parser.
  async samples({ url }, _progress, transfer) {
    await ops.init();
    const t = ap.loadSafetensors(await fetchBytes(url, () => {}));
    try {
      const im = t.images, lb = t.labels;
      if (!im || im.shape.length !== 4 || im.shape[1] !== 1) throw new Error(`${url}: no "images" tensor of shape (N, 1, H, W)`);
      if (!lb || lb.shape.length !== 1 || lb.shape[0] !== im.shape[0]) throw new Error(`${url}: no "labels" tensor of shape (N)`);
      const [n, , height, width] = im.shape;
      const images = im.toArray();
      let max = 0;
      for (const v of images) max = Math.max(max, v);
      if (max > 1) for (let i = 0; i < images.length; ++i) images[i] /= 255;
      const labels = Int32Array.from(lb.toArray());
      transfer.push(images.buffer, labels.buffer);
      return { n, height, width, images, labels };
    } finally {
      for (const x of Object.values(t)) x.dispose();
    }
  },
  // The attention lab: one attention computation with every stage, by the engine.
  // q (L, d), k (Lk, d), v (S, dv) as Float32Arrays with their sizes; rule 'dot' | 'scaled' |
  // 'general' | 'additive' | 'concat' | 'multihead' (heads); mask: a keep mask (L, S) of 0/1 or
  // null; selection options as the package takes them; seed for the learned rules' weights.
  async lab(a, _progress, transfer) {
    await ops.init();
    return lab(a, transfer);
  },
  // Positional encodings side by side (the Positions page): each encoding of n positions
  // in d dims, the similarity of positions under it, and its effect on one attention map of
  // seeded random q, k (n x d). learnedUrl: a bundled GPT's folder; its wpe gives the learned
  // table (its first d dims).
  async positions({ n, d, seed, causal, learnedUrl }, _progress, transfer) {
    await ops.init();
    return positions({ n, d, seed, causal, learnedUrl: learnedUrl ? await learnedTable(learnedUrl) : null }, transfer);
  },
  // Live training (the Train page): one Trainer at a time.
  async trainCreate({ options }) {
    await ops.init();
    training.running = false;
    training.trainer?.dispose();
    training.trainer = null;
    const t = ap.createTrainer(options);
    training.trainer = t;
    training.history = [];
    return { task: t.task, vocab: t.vocab, seqLen: t.seqLen, numParameters: t.numParameters, snapshot: snapshot(t, []) };
  },
  // Runs until trainPause or `steps` more steps; progress after every slice of about 60 ms, with the
  // probe's maps and the held-out accuracy at most every 400 ms.
  async trainRun({ steps = Infinity }, progress) {
    const t = trainer();
    training.running = true;
    const token = ++training.runs;
    let done = 0, lastProbe = 0;
    while (training.running && token === training.runs && done < steps) {
      const batch = [];
      const t0 = performance.now();
      while (done < steps && performance.now() - t0 < 60) { batch.push(t.step()); ++done; }
      const now = performance.now();
      const probe = now - lastProbe > 400;
      if (probe) lastProbe = now;
      progress(0, 0, probe ? snapshot(t, batch) : { steps: batch });
      await new Promise((r) => setTimeout(r, 0));  // lets trainPause (and any request) in
      if (!training.trainer) throw new Error('the trainer was reset');
    }
    training.running = false;
    return snapshot(t, []);
  },
  trainPause() {
    training.running = false;
    return { steps: training.trainer?.steps ?? 0 };
  },
  trainStep() {
    const t = trainer();
    return snapshot(t, [t.step()]);
  },
  trainSave({ name }) {
    const files = trainer().save({ name });
    return { config: files.config, weights: files.weights };
  },
  // The lab's "from a model": one head's queries, keys and values (and the model's own weights
  // for it) from a bundled language model's forward on `input`.
  async labFromModel({ url, input, layer, head }, _progress, transfer) {
    if (labModel.url !== url) {
      labModel.m?.dispose();
      labModel.m = null;
      const info = await ops.load({ key: 'lab', url }, () => {});
      labModel.url = url;
      labModel.info = info;
      labModel.m = models.get('lab');
    }
    const m = labModel.m, info = labModel.info;
    const ids = info.kind === 'seq2seq' ? m.encode(input, 'source') : m.encode(input);
    if (ids.length === 0) throw new Error('type at least one token');
    if (ids.length > 12) throw new Error(`the lab shows at most 12 tokens; "${input}" is ${ids.length}`);
    let out, tokens;
    if (info.kind === 'seq2seq') {  // the decoder reads its own greedy output (teacher forced)
      const t = m.translate(ids);
      const tgt = Int32Array.from([m.config.bos_id ?? 0, ...t.ids]);
      out = m.forward(ids, tgt, { capture: true, qkv: true });
      tokens = labelsOf(m, ids, 'source');
    } else {
      out = m.forward(ids, { capture: true, qkv: true });
      tokens = labelsOf(m, ids);
    }
    try {
      const { heads, layers } = info;
      if (!(layer >= 0 && layer < layers)) throw new Error(`the model has ${layers} layers`);
      if (!(head >= 0 && head < heads)) throw new Error(`the model has ${heads} heads`);
      const p = out.projections.find((x) => x.layer === layer);
      if (!p) throw new Error(`layer ${layer + 1} records no queries and keys`);
      const [, L, hs] = p.q.shape, S = p.k.shape[1];
      const slice = (t, rows) => t.toArray().slice(head * rows * hs, (head + 1) * rows * hs);
      const w = out.attentions.find((a) => a.layer === layer && a.kind === p.kind).weights.toArray()
        .slice(head * L * S, (head + 1) * L * S);
      const r = { tokens, kind: p.kind, causal: info.kind === 'lm', L, S, hs, layers, heads,
        q: slice(p.q, L), k: slice(p.k, S), v: slice(p.v, S), weights: w };
      transfer.push(r.q.buffer, r.k.buffer, r.v.buffer, r.weights.buffer);
      return r;
    } finally { out.dispose(); }
  },
  unload({ key }) {
    models.get(key)?.dispose();
    models.delete(key);
    return { heapBytes: ap?.heapBytesInUse() ?? 0 };
  },
};

function lab({ q, k, v, L, Lk, S, d, dv, rule, heads = 1, mask, selection, seed = 1 }, transfer) {
  const made = [];
  const t = (data, shape, dtype) => { const x = ap.tensor(data, shape, dtype); made.push(x); return x; };
  const opts = { ...selection, steps: true };
  let module = null;
  try {
    let r, h = 1, dh = d, dvh = dv;
    if (rule === 'multihead') {
      h = heads;
      if (d % h || dv % h) throw new Error(`${h} heads must divide d (${d}) and the value size (${dv})`);
      dh = d / h;
      dvh = dv / h;
      if (mask) opts.mask = t(mask, [L, S], 'bool');
      r = ap.scaledDotProductAttention(t(splitHeads(q, L, h, dh), [h, L, dh]), t(splitHeads(k, S, h, dh), [h, S, dh]),
        t(splitHeads(v, S, h, dvh), [h, S, dvh]), opts);
    } else {
      if (mask) opts.mask = t(mask, [L, S], 'bool');
      const Q = t(q, rule === 'concat' ? [1, L, d] : [L, d]);
      const K = t(k, rule === 'concat' ? [1, Lk, d] : [Lk, d]);
      const V = t(v, rule === 'concat' ? [1, S, dv] : [S, dv]);
      if (rule === 'dot') r = ap.dotProductAttention(Q, K, V, opts);
      else if (rule === 'scaled') r = ap.scaledDotProductAttention(Q, K, V, opts);
      else {
        module = rule === 'general' ? new ap.GeneralAttention(d, d)
          : rule === 'additive' ? new ap.AdditiveAttention(d, d, d) : new ap.ConcatAttention(d, d, S, dv, dv);
        module.loadStateDict(labParams(rule, d, S, dv, seed));
        r = module.forward(Q, K, V, opts);
      }
    }
    made.push(r.output, r.weights, ...Object.values(r.steps));
    const out = { heads: h, L, S, dv, output: r.output.toArray() };
    for (const [name, x] of Object.entries({ ...r.steps, weights: r.weights })) out[name] = x.toArray();
    if (rule === 'multihead') out.output = mergeHeads(out.output, h, L, dvh);
    for (const x of Object.values(out)) if (x instanceof Float32Array) transfer.push(x.buffer);
    return out;
  } finally {
    for (const x of made) if (x && !x.disposed) x.dispose();
    module?.dispose();
  }
}

const learnedCache = new Map();  // url -> { table: Float32Array (P, C), P, C }
async function learnedTable(url) {
  if (!learnedCache.has(url)) {
    const t = ap.loadSafetensors(await fetchBytes(`${url}/model.safetensors`, () => {}));
    try {
      const w = t['wpe.weight'] ?? t['transformer.wpe.weight'];
      if (!w) throw new Error(`${url}: no wpe.weight (learned positions) in the weights`);
      learnedCache.set(url, { table: w.toArray(), P: w.shape[0], C: w.shape[1] });
    } finally {
      for (const x of Object.values(t)) x.dispose();
    }
  }
  return learnedCache.get(url);
}

function positions({ n, d, seed, causal, learnedUrl: learned }, transfer) {
  const made = [];
  const keep = (x) => { made.push(x); return x; };
  const arr = (x) => { const a = x.toArray(); transfer.push(a.buffer); return a; };
  try {
    const random = rng(seed);
    const rand = () => Float32Array.from({ length: n * d }, () => random() * 2 - 1);
    const q = rand(), k = rand();
    const tables = {};
    tables.sinusoidal = keep(ap.sinusoidalTable(n, d));
    if (learned) {
      if (n > learned.P) throw new Error(`the learned table has ${learned.P} positions; pick at most that many`);
      const w = new Float32Array(n * d);
      for (let i = 0; i < n; ++i) for (let c = 0; c < Math.min(d, learned.C); ++c) w[i * d + c] = learned.table[i * learned.C + c];
      tables.learned = keep(ap.tensor(w, [n, d]));
    }
    // RoPE rotates q and k; its "table" is what it does to a vector of ones at each position.
    tables.rope = keep(ap.applyRope(keep(ap.tensor(new Float32Array(n * d).fill(1), [n, d]))));
    const out = { n, d, encodings: {}, similarity: {}, maps: {} };
    for (const [name, t] of Object.entries(tables)) {
      out.encodings[name] = arr(t);
      const tt = keep(ap.tensor(transpose(t.toArray(), n, d), [d, n]));
      out.similarity[name] = arr(keep(ap.matmul(t, tt)));
    }
    // ALiBi's steepest head of 8 (slope 2^-1): the 1-head slope, 2^-8, would barely move a map.
    const alibi = keep(ap.tensor(keep(ap.alibiBias(8, n, n)).toArray().subarray(0, n * n), [n, n]));
    out.encodings.alibi = arr(alibi);
    out.similarity.alibi = out.encodings.alibi;
    // One attention map, the same q and k, with each encoding.
    const Q = keep(ap.tensor(q, [n, d])), K = keep(ap.tensor(k, [n, d]));
    const V = keep(ap.tensor(new Float32Array(n).fill(1), [n, 1]));
    const map = (qq, kk, extra = {}) => {
      const r = ap.scaledDotProductAttention(qq, kk, V, { causal: causal && !extra.mask ? true : undefined, ...extra });
      made.push(r.output, r.weights);
      return arr(r.weights);
    };
    const plus = (a, t) => keep(ap.tensor(Float32Array.from(a, (x, i) => x + t.toArray()[i]), [n, d]));
    out.maps.none = map(Q, K);
    out.maps.sinusoidal = map(plus(q, tables.sinusoidal), plus(k, tables.sinusoidal));
    if (tables.learned) out.maps.learned = map(plus(q, tables.learned), plus(k, tables.learned));
    out.maps.rope = map(keep(ap.applyRope(Q)), keep(ap.applyRope(K)));
    let bias = out.encodings.alibi.slice();
    if (causal) bias = bias.map((b, i) => (i % n > Math.floor(i / n) ? -Infinity : b));
    out.maps.alibi = map(Q, K, { mask: keep(ap.tensor(bias, [n, n])) });
    return out;
  } finally {
    for (const x of made) if (x && !x.disposed) x.dispose();
  }
}

function transpose(a, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; ++i) for (let j = 0; j < cols; ++j) out[j * rows + i] = a[i * cols + j];
  return out;
}

const training = { trainer: null, running: false, runs: 0 };
const labModel = { url: null, m: null, info: null };
function trainer() {
  if (!training.trainer) throw new Error('no trainer: create one first');
  return training.trainer;
}
// The trainer's state for the page: the new steps' stats, the held-out loss and accuracy, and
// the probe sequence's tokens, next-token predictions and attention maps.
function snapshot(t, steps) {
  const evalStats = t.evaluate({ batches: 4 });
  const p = t.probe();
  try {
    // The argmax of each logits row, through the output vocabulary: next tokens, the class, or the output.
    const out = t.outputVocab, [rows, V] = p.output.logits.shape, logits = p.output.logits.toArray();
    const predicted = Array.from({ length: rows }, (_, i) => {
      let best = 0;
      for (let v = 1; v < V; ++v) if (logits[i * V + v] > logits[i * V + best]) best = v;
      return out[best];
    });
    const maps = p.output.attentions.map((a) => {
      const [heads, rows, cols] = a.weights.shape;
      return { layer: a.layer, kind: a.kind, heads, rows, cols, weights: a.weights.toArray() };
    });
    return { steps, total: t.steps, eval: evalStats, probe: { tokens: p.tokens, predicted, maps } };
  } finally {
    p.output.dispose();
  }
}

function model(key) {
  const m = models.get(key);
  if (!m) throw new Error(`no model '${key}' is loaded`);
  return m;
}

self.onmessage = async ({ data }) => {
  const { id, op } = data;
  const transfer = [];
  try {
    if (!Object.hasOwn(ops, op)) throw new Error(`unknown request '${op}'`);
    // Downloads report { loaded, total }; training reports its own payload.
    const progress = (loaded, total, data) => self.postMessage({ id, progress: data ?? { loaded, total } });
    const result = await ops[op](data, progress, transfer);
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (e) {
    self.postMessage({ id, ok: false, error: { name: e?.name ?? 'Error', message: String(e?.message ?? e) } });
  }
};
