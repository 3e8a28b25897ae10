// Horizontal probability bars (next-token or class probabilities): a label, a bar whose
// length is the probability, and the number. HTML for the page, SVG for export.
import { escapeXml } from '../colormap.mjs';

export function createBars(container) {
  const root = document.createElement('figure');
  root.className = 'bars';
  container.append(root);
  let d = { items: [], title: '' };
  return {
    update(data) {
      d = data;
      root.replaceChildren();
      const cap = document.createElement('figcaption');
      cap.textContent = d.title;
      root.append(cap);
      const list = document.createElement('ol');
      for (const it of d.items) {
        const li = document.createElement('li');
        if (it.highlight) li.className = 'highlight';
        const label = document.createElement('span');
        label.className = 'bar-label';
        label.textContent = it.label;
        const track = document.createElement('span');
        track.className = 'bar-track';
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.max(0, Math.min(1, it.value)) * 100}%`;
        track.append(bar);
        const value = document.createElement('span');
        value.className = 'bar-value';
        value.textContent = `${(100 * it.value).toFixed(1)}%`;
        li.append(label, track, value);
        list.append(li);
      }
      root.append(list);
    },
    toSvg() {
      const row = 22, width = 420, lab = 120, barW = 220;
      const height = 30 + d.items.length * row;
      const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="#fff"/>`,
        `<text x="0" y="16" font-weight="bold">${escapeXml(d.title)}</text>`];
      d.items.forEach((it, i) => {
        const y = 26 + i * row;
        parts.push(`<text x="${lab - 6}" y="${y + 14}" text-anchor="end">${escapeXml(it.label)}</text>`,
          `<rect x="${lab}" y="${y + 3}" width="${barW}" height="14" fill="#eef2f7"/>`,
          `<rect x="${lab}" y="${y + 3}" width="${(barW * Math.max(0, Math.min(1, it.value))).toFixed(1)}" height="14" fill="${it.highlight ? '#08519c' : '#4292c6'}"/>`,
          `<text x="${lab + barW + 6}" y="${y + 14}">${(100 * it.value).toFixed(1)}%</text>`);
      });
      parts.push('</svg>');
      return parts.join('');
    },
    destroy() { root.remove(); },
  };
}
