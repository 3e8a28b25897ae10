// The attention lab's DOM-free helpers (Node tests import them): seeded matrices, typed
// matrices parsed from text, mask presets, and the head split/merge of multi-head attention
// (moving numbers, not computing with them: every number the lab shows comes from the engine).

/** Seeded uniform numbers in [0, 1) (mulberry32). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows x cols uniform in [-scale, scale), rounded to 2 decimals (readable in the lab). */
export function randomMatrix(random, rows, cols, scale = 1) {
  return Float32Array.from({ length: rows * cols }, () => Math.round((random() * 2 - 1) * scale * 100) / 100);
}

/**
 * A matrix typed as text: one row per line, numbers separated by spaces or commas.
 * Returns { data, rows, cols } or throws an Error saying which row is wrong.
 */
export function parseMatrix(text, name = 'matrix') {
  const lines = String(text).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) throw new Error(`${name}: type at least one row of numbers`);
  if (lines.length > 64) throw new Error(`${name}: at most 64 rows, got ${lines.length}`);
  let cols = -1;
  const data = [];
  lines.forEach((line, i) => {
    const cells = line.split(/[\s,;]+/).filter((c) => c !== '');
    if (cols < 0) cols = cells.length;
    if (cells.length !== cols) throw new Error(`${name}: row ${i + 1} has ${cells.length} numbers, row 1 has ${cols}`);
    if (cols > 64) throw new Error(`${name}: at most 64 columns, got ${cols}`);
    for (const c of cells) {
      const x = Number(c);
      if (!Number.isFinite(x)) throw new Error(`${name}: row ${i + 1}: '${c}' is not a finite number`);
      data.push(x);
    }
  });
  return { data: Float32Array.from(data), rows: lines.length, cols };
}

export function formatMatrix(data, rows, cols, digits = 2) {
  const out = [];
  for (let i = 0; i < rows; ++i) out.push(Array.from(data.subarray(i * cols, (i + 1) * cols), (x) => x.toFixed(digits)).join(' '));
  return out.join('\n');
}

/**
 * A keep mask (1 = the query may attend to the key), L x S:
 * none; causal (top-left: query i sees keys j <= i); causal-bottom-right (j <= i + S - L);
 * padding (the last `pad` keys hidden from every query).
 */
export function maskPreset(name, L, S, pad = 1) {
  const m = new Uint8Array(L * S);
  for (let i = 0; i < L; ++i) {
    for (let j = 0; j < S; ++j) {
      let keep = 1;
      if (name === 'causal') keep = j <= i ? 1 : 0;
      else if (name === 'causal-bottom-right') keep = j <= i + S - L ? 1 : 0;
      else if (name === 'padding') keep = j < S - pad ? 1 : 0;
      m[i * S + j] = keep;
    }
  }
  return m;
}

/** (L, h * dh) -> (h, L, dh): head `k` takes features k*dh .. (k+1)*dh of every row. */
export function splitHeads(x, L, h, dh) {
  const out = new Float32Array(h * L * dh);
  for (let k = 0; k < h; ++k) for (let i = 0; i < L; ++i) for (let c = 0; c < dh; ++c) out[(k * L + i) * dh + c] = x[i * h * dh + k * dh + c];
  return out;
}

/** (h, L, dh) -> (L, h * dh): the inverse of splitHeads (heads side by side). */
export function mergeHeads(x, h, L, dh) {
  const out = new Float32Array(L * h * dh);
  for (let k = 0; k < h; ++k) for (let i = 0; i < L; ++i) for (let c = 0; c < dh; ++c) out[i * h * dh + k * dh + c] = x[(k * L + i) * dh + c];
  return out;
}

/**
 * The learned rules' weights, by state_dict key: torch's default Linear init,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from the lab's seed. general: attn.weight (d, d);
 * additive (hidden size d): W_k.weight, W_q.weight (d, d), w_v.weight (1, d); concat (value
 * rows S, value size dv, output size dv): attn (S, 2d) + bias, attn_combine (dv, d + dv) + bias.
 */
export function labParams(rule, d, S, dv, seed) {
  const random = rng(seed ^ 0x5eed);
  const u = (n, fanIn) => Float32Array.from({ length: n }, () => (random() * 2 - 1) / Math.sqrt(fanIn));
  if (rule === 'general') return { 'attn.weight': u(d * d, d) };
  if (rule === 'additive') return { 'W_k.weight': u(d * d, d), 'W_q.weight': u(d * d, d), 'w_v.weight': u(d, d) };
  return { 'attn.weight': u(S * 2 * d, 2 * d), 'attn.bias': u(S, 2 * d),
    'attn_combine.weight': u(dv * (d + dv), d + dv), 'attn_combine.bias': u(dv, d + dv) };
}
