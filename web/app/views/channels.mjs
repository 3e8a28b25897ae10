// Squeeze-and-Excitation channel weights: per block a strip of C cells (one per channel,
// the sigmoid excitation in (0, 1) in the sequential palette on a fixed 0..1 scale, so
// blocks and images compare), the value on hover.
import { cssColour, escapeXml, legendSvg, sequential } from '../colormap.mjs';

const CELL = 18;

export function createChannelView(container) {
  const root = document.createElement('div');
  root.className = 'channels';
  container.append(root);
  let d = { blocks: [] };
  return {
    update(data) {
      d = data;
      root.replaceChildren();
      for (const b of d.blocks) {
        const row = document.createElement('div');
        row.className = 'channel-row';
        const label = document.createElement('span');
        label.className = 'channel-label';
        label.textContent = b.label;
        const strip = document.createElement('div');
        strip.className = 'channel-strip';
        strip.setAttribute('role', 'list');
        b.weights.forEach((w, c) => {
          const cell = document.createElement('span');
          cell.className = 'channel-cell';
          cell.setAttribute('role', 'listitem');
          cell.tabIndex = 0;
          cell.style.background = cssColour(sequential(w));
          cell.title = `channel ${c + 1}: ${w.toFixed(4)}`;
          cell.setAttribute('aria-label', cell.title);
          strip.append(cell);
        });
        row.append(label, strip);
        root.append(row);
      }
      const legend = document.createElement('div');
      legend.innerHTML = legendSvg(220, 40, { min: 0, max: 1, label: 'channel weight' });
      root.append(legend);
    },
    toSvg() {
      const lab = 170, C = Math.max(1, ...d.blocks.map((b) => b.weights.length));
      const width = lab + C * CELL + 10, height = 10 + d.blocks.length * (CELL + 8) + 50;
      const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>`];
      d.blocks.forEach((b, i) => {
        const y = 10 + i * (CELL + 8);
        parts.push(`<text x="0" y="${y + 13}">${escapeXml(b.label)}</text>`);
        b.weights.forEach((w, c) => parts.push(`<rect x="${lab + c * CELL}" y="${y}" width="${CELL - 1}" height="${CELL}" fill="${cssColour(sequential(w))}"><title>channel ${c + 1}: ${w.toFixed(4)}</title></rect>`));
      });
      const y = 10 + d.blocks.length * (CELL + 8);
      parts.push(`<g transform="translate(${lab} ${y})">${legendSvg(220, 40, { min: 0, max: 1, label: 'channel weight' }).replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '')}</g></svg>`);
      return parts.join('');
    },
    destroy() { root.remove(); },
  };
}
