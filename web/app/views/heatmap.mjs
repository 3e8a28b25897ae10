// The heatmap of one attention matrix: queries down the left, keys along the top, one cell
// per weight in the sequential palette (colormap.mjs), drawn to one canvas through an
// ImageData of the matrix itself scaled up without smoothing, so 1,000+ tokens stay fast.
// Hover or the arrow keys (the canvas is focusable) show a cell's exact weight; labels are
// drawn where they fit (every n-th otherwise).
import { cssColour, diverging, escapeXml, legendSvg, sequential } from '../colormap.mjs';

const FONT = '12px system-ui, sans-serif';
const MAX_WIDTH = 760;   // CSS px for the cells
const MAX_CELL = 30;
const LABEL_MAX = 130;   // CSS px for a label column / row

const plural = (noun) => (/[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`);

function clip(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > width) s = s.slice(0, -1);
  return `${s}…`;
}

export function createHeatmap(container, { onHover, maxWidth = MAX_WIDTH, maxHeight = 900 } = {}) {
  const root = document.createElement('div');
  root.className = 'heatmap';
  const title = document.createElement('p');
  title.className = 'heatmap-title';
  const wrap = document.createElement('div');
  wrap.className = 'heatmap-canvas';
  const canvas = document.createElement('canvas');
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  const overlay = document.createElement('canvas');
  overlay.className = 'heatmap-overlay';
  overlay.setAttribute('aria-hidden', 'true');
  const tip = document.createElement('div');
  tip.className = 'heatmap-tip';
  tip.hidden = true;
  const live = document.createElement('p');
  live.className = 'visually-hidden';
  live.setAttribute('aria-live', 'polite');
  const legend = document.createElement('div');
  legend.className = 'heatmap-legend';
  wrap.append(canvas, overlay, tip);
  root.append(title, wrap, legend, live);
  container.append(root);

  let m = null;        // the matrix shown
  // A cell's colour: weights in the sequential palette scaled to the max; signed matrices
  // (`signed: true`: encodings, similarities, biases) in the diverging one scaled to the max |value|.
  const colourOf = (w) => (m.signed ? diverging(w / m.max) : sequential(w / m.max));
  let geo = null;      // { left, top, cell, width, height, dpr }
  let cursor = null;   // [q, k] of the keyboard cursor

  function layout() {
    const ctx = canvas.getContext('2d');
    ctx.font = FONT;
    const longest = (labels) => Math.min(LABEL_MAX, Math.max(0, ...labels.map((l) => ctx.measureText(l).width)));
    const cell = Math.max(1, Math.min(MAX_CELL, Math.floor(maxWidth / Math.max(m.cols, 1)), Math.floor(maxHeight / Math.max(m.rows, 1))));
    const showRows = cell >= 10, showCols = cell >= 10;
    const left = (showRows ? longest(m.rowLabels) : 0) + 36;
    const top = (showCols ? longest(m.colLabels) * 0.8 : 0) + 40;
    return { left, top, cell, width: left + cell * m.cols + 12, height: top + cell * m.rows + 10, showRows, showCols,
      dpr: window.devicePixelRatio || 1 };
  }

  function draw() {
    geo = layout();
    const { left, top, cell, width, height, dpr } = geo;
    for (const c of [canvas, overlay]) {
      c.width = Math.ceil(width * dpr);
      c.height = Math.ceil(height * dpr);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    const img = new ImageData(m.cols, m.rows);
    for (let i = 0; i < m.rows * m.cols; ++i) {
      const [r, g, b] = colourOf(m.weights[i]);
      img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
    }
    const small = new OffscreenCanvas(m.cols, m.rows);
    small.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, left, top, cell * m.cols, cell * m.rows);
    ctx.strokeStyle = '#bbb';
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, cell * m.cols + 1, cell * m.rows + 1);
    // Labels: every step-th, so they never overlap.
    ctx.fillStyle = '#222';
    ctx.font = FONT;
    const step = Math.max(1, Math.ceil(14 / cell));
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    if (geo.showRows) for (let i = 0; i < m.rows; i += step) ctx.fillText(clip(ctx, m.rowLabels[i] ?? '', LABEL_MAX), left - 6, top + (i + 0.5) * cell);
    if (geo.showCols) {
      ctx.textAlign = 'left';
      for (let j = 0; j < m.cols; j += step) {
        ctx.save();
        ctx.translate(left + (j + 0.5) * cell, top - 6);
        ctx.rotate(-Math.PI / 3);
        ctx.fillText(clip(ctx, m.colLabels[j] ?? '', LABEL_MAX), 0, 0);
        ctx.restore();
      }
    }
    ctx.fillStyle = '#555';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(`${plural(m.colName ?? 'key')} →`, left, 12);
    ctx.save();
    ctx.translate(12, top);
    ctx.rotate(Math.PI / 2);
    ctx.fillText(`${plural(m.rowName ?? 'query')} →`, 0, 0);
    ctx.restore();
    canvas.setAttribute('aria-label', `${m.title}: ${m.rows} queries by ${m.cols} keys. Focus and use the arrow keys to read the weights.`);
    legend.innerHTML = legendSvg(220, 40, m.signed ? { min: -m.max, max: m.max, label: m.legend ?? 'value', signed: true }
      : { min: 0, max: m.max, label: m.legend ?? 'attention weight' });
  }

  function cellAt(ev) {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left - geo.left, y = ev.clientY - r.top - geo.top;
    const k = Math.floor(x / geo.cell), q = Math.floor(y / geo.cell);
    return q >= 0 && q < m.rows && k >= 0 && k < m.cols ? [q, k] : null;
  }

  function describe(q, k) {
    const w = m.weights[q * m.cols + k];
    return `${m.rowName ?? 'query'} “${m.rowLabels[q] ?? q}” (${q + 1}) → ${m.colName ?? 'key'} “${m.colLabels[k] ?? k}” (${k + 1}): ${w.toFixed(4)}`;
  }

  function highlight(q, k, x, y) {
    const ctx = overlay.getContext('2d');
    ctx.setTransform(geo.dpr, 0, 0, geo.dpr, 0, 0);
    ctx.clearRect(0, 0, geo.width, geo.height);
    if (q === null) { tip.hidden = true; return; }
    const c = geo.cell;
    ctx.strokeStyle = '#f0a30a';
    ctx.lineWidth = 2;
    ctx.strokeRect(geo.left + k * c - 1, geo.top + q * c - 1, c + 2, c + 2);
    // guide lines to the labels
    ctx.strokeStyle = 'rgba(240, 163, 10, 0.5)';
    ctx.lineWidth = 1;
    ctx.strokeRect(geo.left - 0.5, geo.top + q * c - 0.5, geo.cell * m.cols + 1, c + 1);
    ctx.strokeRect(geo.left + k * c - 0.5, geo.top - 0.5, c + 1, geo.cell * m.rows + 1);
    tip.textContent = describe(q, k);
    tip.hidden = false;
    tip.style.left = `${Math.min(x + 14, geo.width - 10)}px`;
    tip.style.top = `${y + 14}px`;
    onHover?.(q, k, m.weights[q * m.cols + k]);
  }

  canvas.addEventListener('mousemove', (ev) => {
    if (!m) return;
    const at = cellAt(ev);
    const r = canvas.getBoundingClientRect();
    if (at) highlight(at[0], at[1], ev.clientX - r.left, ev.clientY - r.top);
    else highlight(null);
  });
  canvas.addEventListener('mouseleave', () => m && highlight(null));
  canvas.addEventListener('keydown', (ev) => {
    if (!m) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -Infinity], End: [0, Infinity] };
    const d = moves[ev.key];
    if (!d) return;
    ev.preventDefault();
    const [q0, k0] = cursor ?? [0, -d[1] > 0 ? 0 : 0];
    const q = Math.max(0, Math.min(m.rows - 1, q0 + d[0]));
    const k = Math.max(0, Math.min(m.cols - 1, Number.isFinite(d[1]) ? k0 + d[1] : (d[1] > 0 ? m.cols - 1 : 0)));
    cursor = cursor ? [q, k] : [0, 0];
    highlight(cursor[0], cursor[1], geo.left + (cursor[1] + 1) * geo.cell, geo.top + (cursor[0] + 1) * geo.cell);
    live.textContent = describe(cursor[0], cursor[1]);
  });
  canvas.addEventListener('blur', () => { if (m) highlight(null); });

  return {
    canvas,
    update(matrix) {
      let max = matrix.max;
      if (!(max > 0)) { max = 0; for (const w of matrix.weights) if ((matrix.signed ? Math.abs(w) : w) > max) max = matrix.signed ? Math.abs(w) : w; }
      m = { ...matrix, max: max > 0 ? max : 1 };
      cursor = null;
      title.textContent = m.title ?? '';
      draw();
    },
    /** Device-pixel centre of cell (q, k) on the canvas: where tests read its colour. */
    cellCentre(q, k) {
      return [Math.floor((geo.left + (k + 0.5) * geo.cell) * geo.dpr), Math.floor((geo.top + (q + 0.5) * geo.cell) * geo.dpr)];
    },
    toJson() {
      const weights = [];
      for (let i = 0; i < m.rows; ++i) weights.push(Array.from(m.weights.subarray(i * m.cols, (i + 1) * m.cols)));
      return { title: m.title, rows: m.rows, cols: m.cols, max: m.max, queries: m.rowLabels, keys: m.colLabels, weights };
    },
    toSvg() {
      const { left, top, cell, width, height } = geo;
      const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 50}" viewBox="0 0 ${width} ${height + 50}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(m.title ?? 'attention')}</title><rect width="100%" height="100%" fill="#fff"/>`];
      if (m.rows * m.cols <= 100 * 100) {
        for (let i = 0; i < m.rows; ++i) {
          for (let j = 0; j < m.cols; ++j) {
            const w = m.weights[i * m.cols + j];
            parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${cssColour(colourOf(w))}"><title>${escapeXml(`${m.rowLabels[i]} → ${m.colLabels[j]}: ${w.toFixed(4)}`)}</title></rect>`);
          }
        }
      } else {
        parts.push(`<image x="0" y="0" width="${width}" height="${height}" href="${canvas.toDataURL('image/png')}"/>`);
      }
      if (geo.showRows) m.rowLabels.forEach((l, i) => parts.push(`<text x="${left - 6}" y="${top + (i + 0.5) * cell + 4}" text-anchor="end">${escapeXml(l)}</text>`));
      if (geo.showCols) m.colLabels.forEach((l, j) => parts.push(`<text transform="translate(${left + (j + 0.5) * cell} ${top - 6}) rotate(-60)">${escapeXml(l)}</text>`));
      parts.push(`<g transform="translate(${left} ${height + 4})">${legendSvg(220, 40, m.signed ? { min: -m.max, max: m.max, label: m.legend ?? 'value', signed: true } : { min: 0, max: m.max }).replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '')}</g></svg>`);
      return parts.join('');
    },
    destroy() { root.remove(); },
  };
}
