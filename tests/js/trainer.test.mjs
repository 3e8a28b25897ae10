// Training in the packed package: ap.createTrainer(options) -> Trainer. A seeded run learns
// its task (held-out accuracy), the same seed gives the same losses, and the first losses
// equal the native build's for the same options (tests/native/trainer_test.cpp writes them
// next to build/native/parity.safetensors); run() hands control back to the event loop; a
// saved model loads with ap.loadModel and gives the trainer's probe logits; bad options get
// named errors; dispose returns the heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, root } from './helpers.mjs';

const ap = await pkg.init();

test('a seeded run learns copy and induction; the same seed gives the same run', async () => {
  for (const [task, extra] of [['copy', { length: 4 }], ['induction', { length: 6, vocab: 12 }]]) {
    const t = ap.createTrainer({ task, ...extra, layers: 2, heads: 2, dModel: 32, batch: 16, seed: 5 });
    const twin = ap.createTrainer({ task, ...extra, layers: 2, heads: 2, dModel: 32, batch: 16, seed: 5 });
    const before = t.evaluate();
    const losses = [];
    await t.run({ steps: 300, onProgress: (s) => losses.push(s.loss) });
    const after = t.evaluate();
    console.log(`# ${task}: loss ${losses[0].toFixed(3)} -> ${losses.at(-1).toFixed(3)}, held-out accuracy ${before.accuracy.toFixed(3)} -> ${after.accuracy.toFixed(3)}`);
    assert.equal(losses.length, 300);
    assert.equal(t.steps, 300);
    assert.ok(after.accuracy > 0.95 && before.accuracy < 0.3, `${task}: accuracy ${before.accuracy} -> ${after.accuracy}`);
    for (let i = 0; i < 3; ++i) assert.equal(twin.step().loss, losses[i], `${task}: step ${i + 1} of the same seed`);
    t.dispose();
    twin.dispose();
  }
});

test('the encoder tasks: brackets trains the classifier, dates the encoder-decoder; both save for loadModel', async () => {
  for (const [task, Model] of [['brackets', pkg.TextClassifier], ['dates', pkg.Seq2SeqModel]]) {
    const t = ap.createTrainer({ task, layers: 2, heads: 4, dModel: 32, batch: 16, lr: 0.002, seed: 3 });
    const before = t.evaluate({ batches: 4 });
    await t.run({ steps: 250 });
    const after = t.evaluate({ batches: 4 });
    console.log(`# ${task}: held-out accuracy ${before.accuracy.toFixed(3)} -> ${after.accuracy.toFixed(3)}`);
    assert.ok(after.accuracy > before.accuracy + 0.15, `${task}: ${before.accuracy} -> ${after.accuracy}`);
    const probe = t.probe();
    assert.ok(probe.output.attentions.length >= 2);
    const m = ap.loadModel(t.save());
    assert.ok(m instanceof Model);
    const out = task === 'brackets' ? m.forward(probe.tokens.join(''), { capture: true }) : null;
    if (out) {
      assert.deepEqual(Array.from(out.logits.toArray()), Array.from(probe.output.logits.toArray()), 'the saved classifier gives the probe\'s logits');
      out.dispose();
    }
    probe.output.dispose();
    m.dispose();
    t.dispose();
  }
});

test('training gives the native build\'s numbers', () => {
  const file = join(root, 'build/native/trainer_parity.json');
  assert.ok(existsSync(file), `${file} is written by the native tests (npm test runs them first)`);
  const rec = JSON.parse(readFileSync(file, 'utf8'));
  const t = ap.createTrainer(rec.options);
  const got = rec.losses.map(() => t.step().loss);
  assert.deepEqual(got, rec.losses);
  t.dispose();
});

test('run() yields to the event loop and stops on an AbortSignal', async () => {
  const t = ap.createTrainer({ task: 'sort', length: 5, dModel: 32, batch: 8 });
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 0);
  const ac = new AbortController();
  const last = await t.run({ steps: 100000, sliceMs: 5, onProgress: (s) => { if (s.step === 150) ac.abort(); }, signal: ac.signal });
  clearInterval(timer);
  assert.equal(last.step, 150);
  assert.ok(ticks > 0, 'timers ran while training');
  assert.ok(['step', 'loss', 'accuracy', 'lr', 'gradNorm', 'tokensPerSecond'].every((k) => Number.isFinite(last[k])));
  t.dispose();
});

test('save() -> loadModel gives the probe\'s logits and maps; the vocabulary types in', () => {
  const t = ap.createTrainer({ task: 'reverse', length: 3, dModel: 32, batch: 8, clip: { mode: 'clamp', min: -0.1, max: 1 } });
  for (let i = 0; i < 20; ++i) t.step();
  const probe = t.probe();
  assert.equal(probe.tokens.length, t.seqLen);
  assert.equal(probe.output.attentions.length, 2);
  const files = t.save({ name: 'reverse-test' });
  assert.equal(files.config.name, 'reverse-test');
  const m = ap.loadModel(files);
  const out = m.forward(probe.tokens.join(' '), { capture: true });
  assert.deepEqual(Array.from(out.logits.toArray()), Array.from(probe.output.logits.toArray()));
  assert.deepEqual(Array.from(out.attentions[1].weights.toArray()), Array.from(probe.output.attentions[1].weights.toArray()));
  out.dispose(); probe.output.dispose(); m.dispose(); t.dispose();
});

test('bad options get named errors and the heap comes back', () => {
  const warm = ap.createTrainer({ task: 'copy', dModel: 16, batch: 2 });  // the GEMM's packing scratch grows once
  warm.step();
  warm.dispose();
  const before = ap.heapBytesInUse();
  const cases = [
    [{ task: 'divide' }, /createTrainer: task must be one of induction, copy, reverse, sort, addition/],
    [{ heads: 3, dModel: 32 }, /createTrainer: heads \(3\) must divide dModel \(32\)/],
    [{ lr: -1 }, /createTrainer: lr must be a finite number in \[0, 10\]/],
    [{ optimiser: 'sgd' }, /createTrainer: unknown option 'optimiser'/],
    [{ clip: { mode: 'value', maxNorm: 1 } }, /clip\.maxNorm does not apply to clip mode 'value'/],
    [{ clip: 'norm' }, /createTrainer: clip must be \{ mode, \.\.\. \} or null, got "norm"/],
    [{ clip: { mode: 'clamp', min: 1, max: -1 } }, /clip min \(1\) must not exceed max \(-1\)/],
    [{ task: 'induction', length: 20, vocab: 8 }, /induction needs length <= vocab/],
    [{ layers: 12, dModel: 1024, batch: 1024, length: 64, task: 'copy' }, /createTrainer: this call would take about/],
  ];
  for (const [opts, re] of cases) assert.throws(() => ap.createTrainer(opts), re);
  const t = ap.createTrainer({ task: 'addition', length: 2, dModel: 16, batch: 4 });
  t.step();
  t.dispose();
  assert.throws(() => t.step(), /Trainer\.step: used after dispose/);
  assert.equal(ap.heapBytesInUse(), before);
});
