// The head view (after BertViz): the tokens twice, queries on the left and keys on the
// right; a line from a query to a key for each head, its opacity the weight, one colour per
// head (colormap.mjs headColour). Head toggles in the heads' colours; hovering (or focusing)
// a token shows only its lines. SVG, so it exports as it is.
import { escapeXml, headColour } from '../colormap.mjs';

const ROW = 20, COL_W = 140, GAP = 170, PAD = 8;

export function createHeadView(container) {
  const root = document.createElement('div');
  root.className = 'headview';
  const toggles = document.createElement('div');
  toggles.className = 'head-toggles';
  toggles.setAttribute('role', 'group');
  toggles.setAttribute('aria-label', 'Heads shown');
  const box = document.createElement('div');
  root.append(toggles, box);
  container.append(root);
  let d = null, shown = [], focus = null;

  function svg() {
    const { maps, heads, queryLabels: ql, keyLabels: kl } = d;
    const T = ql.length, S = kl.length;
    const height = PAD * 2 + Math.max(T, S) * ROW, width = COL_W * 2 + GAP;
    const x1 = COL_W, x2 = COL_W + GAP;
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, monospace" font-size="13">`,
      '<rect width="100%" height="100%" fill="#fff"/>'];
    for (let h = 0; h < heads; ++h) {
      if (!shown[h]) continue;
      const colour = headColour(h);
      for (let i = 0; i < T; ++i) {
        if (focus !== null && focus !== i) continue;
        for (let j = 0; j < S; ++j) {
          const w = maps[(h * T + i) * S + j];
          if (!(w > 0.02)) continue;
          const opacity = Math.min(1, w * (focus === null ? 0.9 : 1)).toFixed(3);
          parts.push(`<line x1="${x1 + 4}" y1="${PAD + (i + 0.5) * ROW}" x2="${x2 - 4}" y2="${PAD + (j + 0.5) * ROW}" stroke="${colour}" stroke-opacity="${opacity}" stroke-width="2"/>`);
        }
      }
    }
    ql.forEach((t, i) => parts.push(`<text class="q" data-i="${i}" x="${x1 - 4}" y="${PAD + (i + 0.5) * ROW + 4}" text-anchor="end"${focus === i ? ' font-weight="bold"' : ''}>${escapeXml(t)}</text>`));
    kl.forEach((t, j) => parts.push(`<text x="${x2 + 4}" y="${PAD + (j + 0.5) * ROW + 4}">${escapeXml(t)}</text>`));
    parts.push('</svg>');
    return parts.join('');
  }

  function draw() {
    box.innerHTML = svg();
    for (const t of box.querySelectorAll('text.q')) {
      const i = Number(t.dataset.i);
      t.setAttribute('tabindex', '0');
      t.style.cursor = 'pointer';
      t.addEventListener('mouseenter', () => { focus = i; draw(); });
      t.addEventListener('focus', () => { if (focus !== i) { focus = i; draw(); box.querySelector(`text.q[data-i="${i}"]`)?.focus(); } });
    }
    box.firstChild?.addEventListener('mouseleave', () => { focus = null; draw(); });
  }

  return {
    update(data) {
      d = data;
      shown = Array.from({ length: d.heads }, () => true);
      focus = null;
      toggles.replaceChildren();
      for (let h = 0; h < d.heads; ++h) {
        const label = document.createElement('label');
        label.style.setProperty('--head', headColour(h));
        const cb = document.createElement('input');
        cb.type = 'checkbox';
        cb.checked = true;
        cb.addEventListener('change', () => { shown[h] = cb.checked; draw(); });
        label.append(cb, ` head ${h + 1}`);
        toggles.append(label);
      }
      draw();
    },
    toSvg: () => svg(),
    destroy() { root.remove(); },
  };
}
