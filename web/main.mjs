// Minimal page: loads the package's wasm engine, runs scaled dot-product
// attention on seeded random inputs and draws the weights. The full playground
// replaces this page; the engine calls stay the same.
import { init } from '/dist/index.mjs';

const $ = (id) => document.getElementById(id);

function mulberry32(seed) {  // page-side seeded numbers for the demo inputs
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sequential light-to-dark blue map (reads without hue discrimination).
function colour(w) {
  const t = Math.max(0, Math.min(1, w));
  return [Math.round(247 - t * 239), Math.round(251 - t * 203), Math.round(255 - t * 148)];
}

function draw(canvas, weights, rows, cols) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; ++i) {
    const [r, g, b] = colour(weights[i]);
    img.data.set([r, g, b, 255], i * 4);
  }
  const off = new OffscreenCanvas(cols, rows);
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

async function main() {
  let ap;
  try {
    ap = await init();
  } catch (e) {
    $('status').textContent = `Could not load the engine: ${e.message}`;
    $('status').classList.add('error');
    return;
  }
  $('status').textContent = `Engine ${ap.version} running (${ap.simd ? 'WebAssembly SIMD' : 'scalar'}).`;
  document.body.dataset.ready = 'true';

  const run = () => {
    const L = Math.max(1, Math.min(32, Number($('seq').value) | 0));
    const d = Math.max(1, Math.min(128, Number($('dim').value) | 0));
    const rand = mulberry32(Number($('seed').value) | 0);
    const causal = $('causal').checked;
    const make = () => ap.tensor(Float32Array.from({ length: L * d }, () => rand() * 2 - 1), [L, d]);
    const q = make(), k = make(), v = make();
    try {
      const { output, weights } = ap.scaledDotProductAttention(q, k, v, { causal });
      const w = weights.toArray();
      draw($('heatmap'), w, L, L);
      $('legend').textContent = `${L}×${L} weights${causal ? ' (causal mask)' : ''}; each row sums to 1; `
        + `max weight ${Math.max(...w).toFixed(3)}. Light = 0, dark blue = 1.`;
      document.body.dataset.maxWeight = String(Math.max(...w));
      output.dispose();
      weights.dispose();
    } finally {
      q.dispose(); k.dispose(); v.dispose();
    }
  };
  $('controls').addEventListener('input', run);
  run();
}

main();
