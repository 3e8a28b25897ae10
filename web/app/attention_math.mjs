// What the page derives from the engine's numbers, DOM-free (Node tests import it).
// Maps are row-major Float32Arrays: one head (T, S), or all heads (H, T, S).

/** The mean over heads of a (H, T, S) map -> (T, S). */
export function headAverage(map, H, T, S) {
  const out = new Float32Array(T * S);
  for (let h = 0; h < H; ++h) for (let i = 0; i < T * S; ++i) out[i] += map[h * T * S + i];
  for (let i = 0; i < T * S; ++i) out[i] /= H;
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"):
 * each layer's heads averaged, the residual connection added as A' = 0.5 A + 0.5 I with rows
 * renormalised, then the layers multiplied from the first up: R_0 = A'_0, R_l = A'_l R_{l-1}.
 * Row i of the result: how much position i's output draws on each input token through every
 * layer. layers[l]: (H, T, T) with H = layers[l].length / (T * T).
 */
export function rollout(layers, T) {
  let r = null;
  for (const map of layers) {
    const H = map.length / (T * T);
    const a = headAverage(map, H, T, T);
    for (let i = 0; i < T; ++i) {
      let sum = 0;
      for (let j = 0; j < T; ++j) sum += (a[i * T + j] = 0.5 * a[i * T + j] + (i === j ? 0.5 : 0));
      if (sum > 0) for (let j = 0; j < T; ++j) a[i * T + j] /= sum;
    }
    if (!r) { r = a; continue; }
    const next = new Float32Array(T * T);
    for (let i = 0; i < T; ++i) {
      for (let k = 0; k < T; ++k) {
        const w = a[i * T + k];
        if (w === 0) continue;
        for (let j = 0; j < T; ++j) next[i * T + j] += w * r[k * T + j];
      }
    }
    r = next;
  }
  return r ?? new Float32Array(0);
}

/** The k largest values: [{ index, value }], largest first (ties: lower index first). */
export function topK(values, k) {
  return Array.from(values, (value, index) => ({ index, value }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, Math.max(0, k));
}

/** softmax(logits / temperature), computed stably (max subtracted). */
export function softmax(logits, temperature = 1) {
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; ++i) sum += (out[i] = Math.exp((logits[i] - max) / t));
  for (let i = 0; i < out.length; ++i) out[i] /= sum;
  return out;
}

/** Shannon entropy (nats) of a probability row; zero entries contribute 0. */
export function entropy(row) {
  let h = 0;
  for (const p of row) if (p > 0) h -= p * Math.log(p);
  return h;
}
