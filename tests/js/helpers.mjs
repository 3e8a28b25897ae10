// Shared by the JS tests: the package as installed from its packed tarball
// (scripts/pack_for_tests.mjs), the PyTorch fixtures, and closeness checks that
// print the max error.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const entry = join(root, 'build/pkg-test/entry.mjs');
if (!existsSync(entry)) throw new Error('build/pkg-test is missing: run `node scripts/pack_for_tests.mjs` (npm test does)');
export const pkg = await import(pathToFileURL(entry).href);

export const TORCH_ATOL = 1e-5;
export const TORCH_RTOL = 1e-5;

export function fixtureBytes(name) { return readFileSync(join(root, 'tests/fixtures', name)); }

/** The cases of the attention fixture: [{ name, meta, tensors: { q, k, ... } (Tensors), params: {...} }]. */
export function loadCases(ap) {
  const bytes = fixtureBytes('attention.safetensors');
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const all = ap.loadSafetensors(new Uint8Array(bytes));
  const cases = Object.entries(header.__metadata__).map(([name, meta]) => {
    const tensors = {}, params = {};
    for (const [key, t] of Object.entries(all)) {
      if (key.startsWith(`${name}.p.`)) params[key.slice(name.length + 3)] = t;
      else if (key.startsWith(`${name}.`)) tensors[key.slice(name.length + 1)] = t;
    }
    return { name, meta: JSON.parse(meta), tensors, params };
  });
  return { cases, dispose: () => Object.values(all).forEach((t) => t.dispose()) };
}

/** Throws with the max abs error unless |a - b| <= atol + rtol |b| everywhere (NaN must match NaN). */
export function assertClose(actual, expected, what, atol = TORCH_ATOL, rtol = TORCH_RTOL) {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs ${expected.length}`);
  let maxErr = 0, worst = -1, bad = 0;
  for (let i = 0; i < actual.length; ++i) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(a) || Number.isNaN(b)) { if (!(Number.isNaN(a) && Number.isNaN(b))) bad++; continue; }
    if (!Number.isFinite(a) || !Number.isFinite(b)) { if (a !== b) bad++; continue; }
    const err = Math.abs(a - b);
    if (err > maxErr) { maxErr = err; worst = i; }
    if (err > atol + rtol * Math.abs(b)) bad++;
  }
  if (bad) throw new Error(`${what}: ${bad} of ${actual.length} elements differ; max abs error ${maxErr} at ${worst}`);
  return maxErr;
}

/** A safetensors file of float32 tensors: { name: { shape, data (Float32Array) } } -> Uint8Array. */
export function saveSafetensors(entries) {
  const header = {};
  let offset = 0;
  const names = Object.keys(entries).sort();
  for (const name of names) {
    const bytes = entries[name].data.length * 4;
    header[name] = { dtype: 'F32', shape: entries[name].shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    out.set(new Uint8Array(Float32Array.from(entries[name].data).buffer), at);
    at += entries[name].data.length * 4;
  }
  return out;
}

/** The cases of a fixture file whose metadata kind is `kind`, as plain arrays: [{ name, meta, tensors, params }]. */
export function fixtureCases(ap, file, kind) {
  const bytes = fixtureBytes(file);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const all = ap.loadSafetensors(new Uint8Array(bytes));
  try {
    const plain = {};
    for (const [k, t] of Object.entries(all)) plain[k] = { shape: t.shape, data: t.toArray() };
    return Object.entries(header.__metadata__).map(([name, meta]) => ({ name, meta: JSON.parse(meta) }))
      .filter((c) => c.meta.kind === kind)
      .map(({ name, meta }) => {
        const tensors = {}, params = {};
        for (const [key, t] of Object.entries(plain)) {
          if (key.startsWith(`${name}.p.`)) params[key.slice(name.length + 3)] = t;
          else if (key.startsWith(`${name}.`)) tensors[key.slice(name.length + 1)] = t;
        }
        return { name, meta, tensors, params };
      });
  } finally {
    for (const t of Object.values(all)) t.dispose();
  }
}
