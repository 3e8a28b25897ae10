// The package inside a module Web Worker.
import { init } from '/pkg/dist/index.mjs';

self.onmessage = async ({ data }) => {
  const ap = await init();
  const q = ap.tensor(new Float32Array(data.q), data.qShape);
  const k = ap.tensor(new Float32Array(data.k), data.kShape);
  const v = ap.tensor(new Float32Array(data.v), data.vShape);
  const r = ap.scaledDotProductAttention(q, k, v, { causal: data.causal });
  self.postMessage({ output: Array.from(r.output.toArray()), weights: Array.from(r.weights.toArray()) });
  for (const t of [q, k, v, r.output, r.weights]) t.dispose();
};
