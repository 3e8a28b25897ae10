// The page's DOM-free modules (web/app): attention rollout against a case worked by hand,
// the probability helpers, the palette, XML escaping, and the URL state (a link is
// untrusted input: malformed values fall back to defaults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entropy, headAverage, rollout, softmax, topK } from '../../web/app/attention_math.mjs';
import { escapeXml, headColour, luminance, sequential } from '../../web/app/colormap.mjs';
import { DEFAULTS, formatState, parseHeads, parseState } from '../../web/app/state.mjs';

const close = (a, b, what, tol = 1e-6) => {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `${what}[${i}]: ${x} vs ${b[i]}`));
};

test('rollout: two layers worked by hand, identity maps, rows summing to 1', () => {
  // Each layer: heads [[1,0],[1,0]] and [[1,0],[0,1]], whose mean is A = [[1,0],[.5,.5]].
  // A' = .5 A + .5 I = [[1,0],[.25,.75]] (rows already sum to 1); A' A' = [[1,0],[.4375,.5625]].
  const layer = Float32Array.from([1, 0, 1, 0, 1, 0, 0, 1]);
  close(headAverage(layer, 2, 2, 2), [1, 0, 0.5, 0.5], 'head average');
  close(rollout([layer], 2), [1, 0, 0.25, 0.75], 'one layer');
  close(rollout([layer, layer], 2), [1, 0, 0.4375, 0.5625], 'two layers');
  const eye = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  close(rollout([eye, eye, eye], 3), eye, 'identity');
  const T = 4, rnd = (s) => Float32Array.from({ length: 2 * T * T }, (_, i) => ((i * 7919 + s) % 13) / 13);
  const r = rollout([rnd(1), rnd(5)], T);
  for (let i = 0; i < T; ++i) assert.ok(Math.abs(r.subarray(i * T, i * T + T).reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} sums to 1`);
});

test('softmax, topK and entropy', () => {
  const p = softmax([1, 2, 3]);
  const e = [Math.exp(-2), Math.exp(-1), 1], s = e[0] + e[1] + e[2];
  close(p, e.map((x) => x / s), 'softmax');
  close(softmax([1000, 1000]), [0.5, 0.5], 'large logits stay finite');
  close(softmax([0, Math.log(3)], 0.5), [1 / 10, 9 / 10], 'temperature 0.5 squares the odds');
  assert.deepEqual(topK([0.1, 0.5, 0.5, 0.2], 3).map((x) => x.index), [1, 2, 3]);
  assert.ok(Math.abs(entropy([0.5, 0.5]) - Math.log(2)) < 1e-12);
  assert.equal(entropy([1, 0, 0]), 0);
});

test('the sequential palette runs from white to dark, monotonically; heads get distinct colours', () => {
  assert.deepEqual(sequential(0), [247, 251, 255]);
  assert.deepEqual(sequential(1), [8, 48, 107]);
  assert.deepEqual(sequential(-3), sequential(0));
  assert.deepEqual(sequential(Number.NaN), sequential(0));
  let last = Infinity;
  for (let i = 0; i <= 100; ++i) {
    const l = luminance(sequential(i / 100));
    assert.ok(l <= last + 1e-12, `lightness falls at ${i / 100}`);
    last = l;
  }
  const heads = new Set(Array.from({ length: 8 }, (_, h) => headColour(h)));
  assert.equal(heads.size, 8);
  assert.equal(headColour(8), headColour(0));
});

test('XML escaping of labels', () => {
  assert.equal(escapeXml('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  assert.equal(escapeXml('\u0001'), '\ufffd');
});

test('URL state: round trip, defaults left out, malformed values ignored', () => {
  const s = { ...DEFAULTS, model: 'fortunes-char', input: 'A fool & his money = ?', view: 'heads', layer: 2, head: 1, off: '0.1,1.0c' };
  const hash = formatState(s);
  assert.doesNotMatch(hash, /t=|tk=|s=1/, 'defaults are not written');
  assert.deepEqual(parseState(hash), s);
  const bad = parseState('#m=../../x&v=nope&l=-1&h=1.5&t=NaN&tk=1e9&s=-4&off=0.1,zz,9999.9999c,1.2.3');
  assert.equal(bad.model, 'x', 'model names keep word characters only');
  assert.equal(bad.view, DEFAULTS.view);
  assert.equal(bad.layer, 0);
  assert.equal(bad.head, 0);
  assert.equal(bad.temperature, DEFAULTS.temperature);
  assert.equal(bad.topK, 0);
  assert.equal(bad.seed, 1);
  assert.deepEqual(parseHeads(bad.off), [{ layer: 0, head: 1, kind: 'self' }, { layer: 9999, head: 9999, kind: 'cross' }]);
  assert.deepEqual(parseState(''), { ...DEFAULTS });
});
