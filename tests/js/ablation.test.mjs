// Head ablation through the packed package: model.ablateHeads([{ layer, head, kind }]) switches
// heads off for later forwards and generation. Checked against the same model with that head's
// rows of c_proj's weight (Hugging Face Conv1D layout: (in, out)) set to zero in the file: a
// different computation of the same thing. The switched-off head's own map is unchanged, later
// layers' maps change, [] restores the model exactly, and bad arguments get named errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, root } from './helpers.mjs';

const ap = await pkg.init();
const dir = join(root, 'web/models/induction-2l');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const weights = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
const input = '20 30 4 12 31 1 2 17 3 11 18 26 16 6 27 25 20 30 4 12 31 1 2 17';

/** A copy of a safetensors file with rows [r0, r1) of a 2-D float32 tensor set to zero. */
function zeroRows(bytes, name, r0, r1) {
  const out = bytes.slice();
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n)));
  const t = header[name];
  assert.ok(t && t.dtype === 'F32' && t.shape.length === 2, `${name} in the file`);
  const cols = t.shape[1], base = 8 + n + t.data_offsets[0];
  out.fill(0, base + r0 * cols * 4, base + r1 * cols * 4);
  return out;
}

function run(model) {
  const out = model.forward(input, { capture: true });
  const r = { logits: out.logits.toArray(), maps: out.attentions.map((a) => a.weights.toArray()) };
  out.dispose();
  return r;
}

const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('ablateHeads equals zeroing the head\'s c_proj rows, keeps its map, and [] restores the model', () => {
  const model = ap.loadModel({ config, weights });
  const hs = config.n_embd / config.n_head;
  const base = run(model);
  model.ablateHeads([{ layer: 0, head: 1 }]);
  const off = run(model);
  const surgery = ap.loadModel({ config, weights: zeroRows(weights, 'h.0.attn.c_proj.weight', hs, 2 * hs) });
  const want = run(surgery);
  const err = maxDiff(off.logits, want.logits);
  console.log(`# head (0, 1) off vs zeroed c_proj rows: max |diff| ${err.toExponential(2)}; vs intact ${maxDiff(off.logits, base.logits).toExponential(2)}`);
  assert.ok(err <= 1e-5, `max diff ${err}`);
  assert.ok(maxDiff(off.logits, base.logits) > 1e-3, 'switching the head off changes the output');
  assert.deepEqual(off.maps[0], base.maps[0], 'layer 0\'s maps, the switched-off head\'s included, are unchanged');
  assert.ok(maxDiff(off.maps[1], base.maps[1]) > 0, 'layer 1 sees a different input');
  // Generation runs with the head off too: greedy continuation = the surgically changed model's.
  const g1 = model.generate(input, { maxNewTokens: 5, temperature: 0 }).ids;
  const g2 = surgery.generate(input, { maxNewTokens: 5, temperature: 0 }).ids;
  assert.deepEqual(Array.from(g1), Array.from(g2));
  model.ablateHeads([]);
  assert.deepEqual(run(model).logits, base.logits, '[] switches every head back on');
  model.dispose();
  surgery.dispose();
});

test('ablateHeads refuses what the model does not have, with named errors', () => {
  const model = ap.loadModel({ config, weights });
  const before = ap.heapBytesInUse();
  assert.throws(() => model.ablateHeads({ layer: 0, head: 0 }), /LanguageModel\.ablateHeads: heads must be an array/);
  assert.throws(() => model.ablateHeads([{ layer: 2, head: 0 }]), /ablateHeads: heads\[0\]: this model has no self-attention in layer 2/);
  assert.throws(() => model.ablateHeads([{ layer: 0, head: 2 }]), /ablateHeads: heads\[0\]\.head must be an integer in \[0, 1\]/);
  assert.throws(() => model.ablateHeads([{ layer: 0, head: 0, kind: 'cross' }]), /no cross-attention in layer 0/);
  assert.throws(() => model.ablateHeads([{ layer: 0, head: 0, mask: 1 }]), /TypeError|unknown option|mask/);
  assert.throws(() => model.ablateHeads([{ layer: 0, head: 0, kind: 'channel' }]), /kind must be 'self' or 'cross'/);
  assert.equal(ap.heapBytesInUse(), before);
  model.dispose();
});
