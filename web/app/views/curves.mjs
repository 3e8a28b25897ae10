// Training curves: series of (step, value) drawn as SVG polylines on shared axes, with a
// legend; a log scale for losses. Redrawn whole on each update (a few thousand points).
import { escapeXml } from '../colormap.mjs';

const W = 420, H = 200, PAD = { l: 44, r: 10, t: 10, b: 28 };

export function createCurves(container, { title, log = false, yMax = null } = {}) {
  const root = document.createElement('figure');
  root.className = 'curves';
  container.append(root);
  let series = [];
  function svg() {
    const pts = series.flatMap((s) => s.points);
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]).filter((y) => Number.isFinite(y) && (!log || y > 0));
    const x0 = 0, x1 = Math.max(1, ...xs);
    const f = log ? Math.log10 : (y) => y;
    let y0 = log ? f(Math.min(...ys, 1)) : 0, y1 = yMax ?? (ys.length ? Math.max(...ys) : 1);
    y1 = f(y1 > 0 || !log ? y1 : 1);
    if (!(y1 > y0)) y1 = y0 + 1;
    const X = (x) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
    const Y = (y) => H - PAD.b - ((f(y) - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
      `<rect width="${W}" height="${H}" fill="#fff"/>`,
      `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#999"/>`,
      `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#999"/>`,
      `<text x="${W - PAD.r}" y="${H - 8}" text-anchor="end">step ${x1}</text>`];
    const ticks = log ? Array.from({ length: Math.floor(y1) - Math.ceil(y0) + 1 }, (_, i) => 10 ** (Math.ceil(y0) + i)) : [0, 0.25, 0.5, 0.75, 1].map((u) => u * (yMax ?? 10 ** y1));
    for (const t of ticks) {
      if (!Number.isFinite(Y(t))) continue;
      parts.push(`<line x1="${PAD.l - 3}" y1="${Y(t)}" x2="${W - PAD.r}" y2="${Y(t)}" stroke="#eee"/>`,
        `<text x="${PAD.l - 5}" y="${Y(t) + 4}" text-anchor="end">${log && t < 1 ? t.toPrecision(1) : +t.toFixed(2)}</text>`);
    }
    series.forEach((s, i) => {
      const p = s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0));
      if (p.length) parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="${s.width ?? 1.5}" points="${p.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
      parts.push(`<rect x="${PAD.l + 8 + i * 130}" y="${PAD.t + 2}" width="10" height="10" fill="${s.colour}"/><text x="${PAD.l + 22 + i * 130}" y="${PAD.t + 11}">${escapeXml(s.label)}</text>`);
    });
    parts.push('</svg>');
    return parts.join('');
  }
  return {
    update(next) {
      series = next;
      root.innerHTML = `<figcaption>${escapeXml(title)}</figcaption>${svg()}`;
    },
    toSvg: svg,
    destroy() { root.remove(); },
  };
}
