// The page's whole state as a URL fragment, so any view is a link that restores it.
// DOM-free (Node tests import it). Unknown or malformed values fall back to defaults:
// a link is untrusted input too.
export const DEFAULTS = Object.freeze({
  model: '', input: '', view: 'heatmap', kind: 'self', layer: 0, head: 0,
  temperature: 0.8, topK: 0, topP: 1, seed: 1, sample: -1, off: '',
});
export const VIEWS = ['heatmap', 'heads', 'model', 'rollout', 'cross', 'generate', 'ablation', 'channels'];
const KINDS = ['self', 'cross', 'channel'];
const KEYS = { model: 'm', input: 'in', view: 'v', kind: 'k', layer: 'l', head: 'h', temperature: 't', topK: 'tk', topP: 'tp', seed: 's', sample: 'img', off: 'off' };

function num(v, d, { min = -Infinity, max = Infinity, int = false } = {}) {
  const x = Number(v);
  if (v === null || v === '' || !Number.isFinite(x) || x < min || x > max || (int && !Number.isInteger(x))) return d;
  return x;
}

/** A state from a fragment ("#m=...&in=..."), every field checked. */
export function parseState(hash) {
  const p = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const s = { ...DEFAULTS };
  const str = (k, max) => { const v = p.get(k); return v === null ? null : v.slice(0, max); };
  s.model = (str(KEYS.model, 200) ?? '').replace(/[^\w-]/g, '');
  s.input = str(KEYS.input, 20000) ?? '';
  const view = p.get(KEYS.view);
  if (VIEWS.includes(view)) s.view = view;
  const kind = p.get(KEYS.kind);
  if (KINDS.includes(kind)) s.kind = kind;
  s.layer = num(p.get(KEYS.layer), 0, { min: 0, max: 1000, int: true });
  s.head = num(p.get(KEYS.head), 0, { min: -1, max: 1000, int: true });
  s.temperature = num(p.get(KEYS.temperature), DEFAULTS.temperature, { min: 0, max: 5 });
  s.topK = num(p.get(KEYS.topK), 0, { min: 0, max: 100000, int: true });
  s.topP = num(p.get(KEYS.topP), 1, { min: 0.01, max: 1 });
  s.seed = num(p.get(KEYS.seed), 1, { min: 0, max: 2 ** 32 - 1, int: true });
  s.sample = num(p.get(KEYS.sample), -1, { min: -1, max: 100000, int: true });
  const off = p.get(KEYS.off);
  if (off !== null) s.off = formatHeads(parseHeads(off));
  return s;
}

/** The fragment of a state; fields at their defaults are left out. */
export function formatState(s) {
  const p = new URLSearchParams();
  for (const [field, key] of Object.entries(KEYS)) {
    const v = s[field];
    if (v === undefined || v === DEFAULTS[field]) continue;
    p.set(key, String(v));
  }
  return `#${p.toString()}`;
}

/**
 * Switched-off heads as a URL value: "layer.head" for self-attention, "layer.headc" for
 * cross-attention, comma-separated ("0.1,2.0c"); malformed entries are dropped.
 */
export function parseHeads(text) {
  const out = [];
  for (const part of String(text).split(',').slice(0, 4096)) {
    const m = /^(\d{1,4})\.(\d{1,4})(c?)$/.exec(part.trim());
    if (m) out.push({ layer: Number(m[1]), head: Number(m[2]), kind: m[3] ? 'cross' : 'self' });
  }
  return out;
}

export function formatHeads(heads) {
  return heads.map((h) => `${h.layer}.${h.head}${h.kind === 'cross' ? 'c' : ''}`).join(',');
}
