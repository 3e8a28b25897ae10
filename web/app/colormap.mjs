// Colours of the views. DOM-free (Node tests import it).
// - sequential(t): attention weights, 0 = white to 1 = dark blue: ColorBrewer's 9-class
//   "Blues" ramp (one hue, so it reads the same without hue discrimination, and in grey),
//   interpolated linearly between its anchors. Lightness falls monotonically with t.
// - headColour(h): one colour per head from Okabe & Ito's colour-blind-safe palette.
const BLUES = [
  [247, 251, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225], [107, 174, 214],
  [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107],
];
// ColorBrewer's 11-class "PuOr" (purple-white-orange): diverging and colour-blind safe.
const PUOR = [
  [45, 0, 75], [84, 39, 136], [128, 115, 172], [178, 171, 210], [216, 218, 235], [247, 247, 247],
  [254, 224, 182], [253, 184, 99], [224, 130, 20], [179, 88, 6], [127, 59, 8],
];
const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** [r, g, b] of a weight t in [0, 1] (clamped; NaN reads as 0). */
export function sequential(t) {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const f = x * (BLUES.length - 1), i = Math.min(BLUES.length - 2, Math.floor(f)), u = f - i;
  const a = BLUES[i], b = BLUES[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * u));
}

/** [r, g, b] of a signed value t in [-1, 1] (clamped): -1 purple, 0 white, +1 orange. */
export function diverging(t) {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(-1, t)) : 0;
  const f = (x + 1) / 2 * (PUOR.length - 1), i = Math.min(PUOR.length - 2, Math.floor(f)), u = f - i;
  const a = PUOR[i], b = PUOR[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * u));
}

export function cssColour([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}

/** A head's colour ('#rrggbb'), cycling through the 8 colours. */
export function headColour(h) {
  return OKABE_ITO[((h % OKABE_ITO.length) + OKABE_ITO.length) % OKABE_ITO.length];
}

/** Relative luminance (WCAG) of [r, g, b]: for choosing a readable text colour on a cell. */
export function luminance([r, g, b]) {
  const lin = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

let legendCount = 0;

/** A standalone SVG legend: the ramp from min to max with its label. */
export function legendSvg(width, height, { min = 0, max = 1, label = 'attention weight', signed = false } = {}) {
  const colour = (u) => (signed ? diverging(2 * u - 1) : sequential(u));
  const stops = Array.from({ length: 11 }, (_, i) => `<stop offset="${i * 10}%" stop-color="${cssColour(colour(i / 10))}"/>`).join('');
  const id = `ramp-${signed ? 'div' : 'seq'}-${++legendCount}`;  // unique: inline SVGs share one id space
  const bar = Math.max(8, height - 28);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`
    + `<defs><linearGradient id="${id}" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>`
    + `<rect x="0.5" y="0.5" width="${width - 1}" height="${bar}" fill="url(#${id})" stroke="#999"/>`
    + `<text x="0" y="${bar + 16}" font-size="12" font-family="sans-serif">${fmt(min)}</text>`
    + `<text x="${width / 2}" y="${bar + 16}" font-size="12" font-family="sans-serif" text-anchor="middle">${escapeXml(label)}</text>`
    + `<text x="${width}" y="${bar + 16}" font-size="12" font-family="sans-serif" text-anchor="end">${fmt(max)}</text></svg>`;
}

function fmt(v) { return Number(v).toFixed(Math.abs(v) >= 0.01 || v === 0 ? 2 : 4); }

/** Text for XML content and attribute values. */
export function escapeXml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c])
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
}
