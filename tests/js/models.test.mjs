// Models loaded from files through the packed package: ap.loadModel({ config, weights, tokenizer })
// with PyTorch's numbers (the fixtures' torch twins), captured attention maps, and broken files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkg, assertClose, fixtureCases, saveSafetensors } from './helpers.mjs';

const ap = await pkg.init();
const TOL = 1e-5;

test('SE-CNN image classifier: torch logits and per-block channel attention', () => {
  const cases = fixtureCases(ap, 'rnn_cnn.safetensors', 'se_cnn');
  assert.ok(cases.length >= 2);
  for (const c of cases) {
    const { in_channels, num_classes, stem_channels, block_channels, reduction } = c.meta;
    const config = { model_type: 'se-cnn', in_channels, num_classes, stem_channels, block_channels, reduction };
    const model = ap.loadModel({ config, weights: saveSafetensors(c.params) });
    assert.ok(model instanceof pkg.ImageClassifier);
    assert.equal(model.type, 'se-cnn');
    assert.deepEqual(model.config.block_channels, block_channels);
    const x = ap.tensor(c.tensors.x.data, c.tensors.x.shape);
    const out = model.forward(x, { capture: true });
    const err = assertClose(out.logits.toArray(), c.tensors.logits.data, `${c.name} logits`, TOL, TOL);
    assert.equal(out.attentions.length, block_channels.length);
    out.attentions.forEach((a, i) => {
      assert.equal(a.layer, i);
      assert.equal(a.kind, 'channel');
      assert.deepEqual(a.weights.shape, c.tensors[`se${i}`].shape);
      assertClose(a.weights.view(), c.tensors[`se${i}`].data, `${c.name} se${i}`, TOL, TOL);
    });
    console.log(`${c.name}: logits max abs error ${err.toExponential(2)} (tolerance ${TOL})`);
    const plain = model.forward(x);
    assert.equal(plain.attentions.length, 0, 'nothing captured unless asked');
    assert.deepEqual(plain.logits.toArray(), out.logits.toArray());
    out.dispose(); plain.dispose(); x.dispose(); model.dispose();
  }
});

test('RNN seq2seq with attention: torch logits, weights and greedy translation for every rule', () => {
  const cases = fixtureCases(ap, 'rnn_cnn.safetensors', 'seq2seq_rnn');
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const m = c.meta;
    const config = { model_type: 'seq2seq-rnn', src_vocab: m.src_vocab, tgt_vocab: m.tgt_vocab, embed_dim: m.embed_dim,
      hidden_size: m.hidden_size, num_layers: m.num_layers, cell: m.cell, rule: m.rule, max_src_len: m.max_src_len,
      bos_id: m.bos, eos_id: m.eos };
    const model = ap.loadModel({ config: JSON.stringify(config), weights: saveSafetensors(c.params) });
    assert.ok(model instanceof pkg.Seq2SeqModel);
    const [N, S] = c.tensors.src.shape, T = c.tensors.tgt_in.shape[1], V = m.tgt_vocab;
    for (let n = 0; n < N; ++n) {
      const src = Array.from(c.tensors.src.data.subarray(n * S, (n + 1) * S));
      const tgt = Array.from(c.tensors.tgt_in.data.subarray(n * T, (n + 1) * T));
      const out = model.forward(src, tgt, { capture: true });
      assertClose(out.logits.toArray(), c.tensors.logits.data.subarray(n * T * V, (n + 1) * T * V), `${c.name}[${n}] logits`, TOL, TOL);
      assert.equal(out.attentions.length, 1);
      assert.equal(out.attentions[0].kind, 'cross');
      assert.deepEqual(out.attentions[0].weights.shape, [T, S]);
      assertClose(out.attentions[0].weights.toArray(), c.tensors.weights.data.subarray(n * T * S, (n + 1) * T * S), `${c.name}[${n}] weights`, TOL, TOL);
      out.dispose();
      // Greedy decoding of one source row: torch's ids up to and including its eos.
      const r = model.translate(src, { maxLength: m.max_len, capture: true });
      const width = c.tensors.greedy_ids.shape[1];
      const want = Array.from(c.tensors.greedy_ids.data.subarray(n * width, (n + 1) * width));
      const stop = want.indexOf(m.eos);
      assert.deepEqual(Array.from(r.ids), stop >= 0 ? want.slice(0, stop + 1) : want, `${c.name}[${n}] greedy ids`);
      assert.equal(r.text, null, 'no target tokenizer in this config');
      assert.deepEqual(r.attentions[0].weights.shape, [r.ids.length, S]);
      for (const a of r.attentions) a.weights.dispose();
    }
    model.dispose();
  }
});

test('loadModel: broken configs and weight files get errors that name the problem; the heap stays flat', () => {
  const [c] = fixtureCases(ap, 'rnn_cnn.safetensors', 'se_cnn');
  const { in_channels, num_classes, stem_channels, block_channels, reduction } = c.meta;
  const config = { model_type: 'se-cnn', in_channels, num_classes, stem_channels, block_channels, reduction };
  const weights = saveSafetensors(c.params);
  ap.loadModel({ config, weights }).dispose();
  const before = ap.heapBytesInUse();
  const bad = (files, re, name = 'AttentionError') => assert.throws(() => ap.loadModel(files), { name, message: re });
  bad({ config: { ...config, model_type: 'gpt5' }, weights }, /^loadModel: config\.model_type must be one of .*'gpt5'/);
  bad({ config: { ...config, stem_channels: 0 }, weights }, /^loadModel: config\.stem_channels must be in \[1, 4096\], got 0/);
  bad({ config: { ...config, dropout: 0.5 }, weights }, /^loadModel: config has an unknown key 'dropout'/);
  bad({ config: '{"model_type": "se-cnn",', weights }, /^loadModel: the config is not valid JSON/);
  bad({ config: { ...config, block_channels: Array(8).fill(2048) }, weights }, /^loadModel: the config describes a model larger than its weights file/);
  bad({ config, weights: weights.subarray(0, 100) }, /^loadModel: /);
  const { 'fc.bias': _, ...missing } = c.params;
  bad({ config, weights: saveSafetensors(missing) }, /^loadModel: missing key 'fc\.bias'/);
  bad({ config, weights: saveSafetensors({ ...c.params, 'fc.weight': { shape: [2, 2], data: new Float32Array(4) } }) }, /^loadModel: 'fc\.weight' has shape \[2, 2\] but the module expects \[10, 16\]/);
  bad({ config, weights: saveSafetensors({ ...c.params, extra: { shape: [1], data: new Float32Array(1) } }) }, /^loadModel: unexpected key 'extra'/);
  bad({ config }, /^loadModel: weights \(the safetensors bytes\) are required/, 'TypeError');
  bad({ config, weights: [1, 2] }, /^loadModel: weights must be a Uint8Array or ArrayBuffer/, 'TypeError');
  bad({ config, weights, vocab: 1 }, /^loadModel: unknown option 'vocab'/, 'TypeError');
  assert.equal(ap.heapBytesInUse(), before);
});
