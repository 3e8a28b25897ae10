// The model view: every layer × head as a thumbnail (rows = layers, columns = heads), drawn
// with the heatmap's palette, each scaled to its own maximum. A thumbnail is a button:
// click or Enter opens it (onSelect(layerIndex, head)).
import { cssColour, escapeXml, sequential } from '../colormap.mjs';

const THUMB = 140;

function drawThumb(canvas, weights, rows, cols) {
  let max = 0;
  for (const w of weights) if (w > max) max = w;
  const img = new ImageData(cols, rows);
  for (let i = 0; i < rows * cols; ++i) {
    const [r, g, b] = sequential(max > 0 ? weights[i] / max : 0);
    img.data.set([r, g, b, 255], i * 4);
  }
  canvas.width = cols;
  canvas.height = rows;
  canvas.getContext('2d').putImageData(img, 0, 0);
}

export function createModelView(container, { onSelect } = {}) {
  const root = document.createElement('div');
  root.className = 'modelview';
  container.append(root);
  let d = null;
  return {
    update(data) {
      d = data;
      root.replaceChildren();
      const heads = Math.max(...d.layers.map((l) => l.heads));
      root.style.setProperty('--heads', heads);
      root.append(document.createElement('span'));
      for (let h = 0; h < heads; ++h) {
        const c = document.createElement('span');
        c.className = 'mv-col';
        c.textContent = `head ${h + 1}`;
        root.append(c);
      }
      d.layers.forEach((l, li) => {
        const cap = document.createElement('span');
        cap.className = 'mv-row';
        cap.textContent = l.label;
        root.append(cap);
        for (let h = 0; h < heads; ++h) {
          if (h >= l.heads) { root.append(document.createElement('span')); continue; }
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'mv-thumb';
          b.dataset.layer = li;
          b.dataset.head = h;
          b.setAttribute('aria-label', `${l.label}, head ${h + 1}: open as a heatmap`);
          if (d.selected?.layer === li && d.selected?.head === h) b.classList.add('selected');
          const c = document.createElement('canvas');
          c.style.width = `${THUMB}px`;
          c.style.height = `${Math.round(THUMB * Math.min(2, l.rows / l.cols))}px`;
          drawThumb(c, l.weights.subarray(h * l.rows * l.cols, (h + 1) * l.rows * l.cols), l.rows, l.cols);
          b.append(c);
          b.addEventListener('click', () => onSelect?.(li, h));
          root.append(b);
        }
      });
    },
    toSvg() {
      const heads = Math.max(...d.layers.map((l) => l.heads)), cell = 4, pad = 12, lab = 130;
      const tw = Math.max(...d.layers.map((l) => l.cols)) * cell, th = Math.max(...d.layers.map((l) => l.rows)) * cell;
      const width = lab + heads * (tw + pad), height = 24 + d.layers.length * (th + pad);
      const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>`];
      for (let h = 0; h < heads; ++h) parts.push(`<text x="${lab + h * (tw + pad)}" y="14">head ${h + 1}</text>`);
      d.layers.forEach((l, li) => {
        const y0 = 24 + li * (th + pad);
        parts.push(`<text x="0" y="${y0 + 14}">${escapeXml(l.label)}</text>`);
        for (let h = 0; h < l.heads; ++h) {
          const m = l.weights.subarray(h * l.rows * l.cols, (h + 1) * l.rows * l.cols);
          let max = 0;
          for (const w of m) if (w > max) max = w;
          for (let i = 0; i < l.rows; ++i) for (let j = 0; j < l.cols; ++j) {
            parts.push(`<rect x="${lab + h * (tw + pad) + j * cell}" y="${y0 + i * cell}" width="${cell}" height="${cell}" fill="${cssColour(sequential(max > 0 ? m[i * l.cols + j] / max : 0))}"/>`);
          }
        }
      });
      parts.push('</svg>');
      return parts.join('');
    },
    destroy() { root.remove(); },
  };
}
