// The hand-written index.d.ts, type-checked (tsc --strict) against a usage file
// that imports the packed package by name, exactly as a TypeScript user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './helpers.mjs';

test('index.d.ts type-checks a typical program, and rejects misuse', () => {
  const dir = join(root, 'build/pkg-test');
  writeFileSync(join(dir, 'usage.ts'), `
    import { init, MultiheadAttention, AttentionError, LanguageModel, type Tensor, type AttentionResult, type ModelOutput, type AttentionMap } from 'attention-playground';
    async function main(): Promise<number> {
      const ap = await init({ wasmUrl: new URL('https://example.invalid/a.wasm') });
      const q: Tensor = ap.tensor(new Float32Array(8), [1, 2, 4]);
      const mask = ap.tensor(new Uint8Array(4), [2, 2], 'bool');
      const r: AttentionResult = ap.scaledDotProductAttention(q, q, q, { mask, causal: false, selection: 'top_k', k: 1 });
      const mha = new ap.MultiheadAttention({ embedDim: 4, numHeads: 2, batchFirst: true, kdim: null });
      const mha2: MultiheadAttention = new MultiheadAttention(ap, { embedDim: 4, numHeads: 1 });
      const isMha: boolean = mha instanceof MultiheadAttention;
      mha2.dispose();
      try { ap.sinusoidalTable(1, 1).dispose(); } catch (e) { if (e instanceof AttentionError) console.log(e.message); }
      mha.loadStateDict({ in_proj_weight: new Float32Array(48), 'out_proj.weight': q }, { strict: false });
      const m = mha.forward(q, q, q, { keyPaddingMask: null, needWeights: true, averageAttnWeights: false, isCausal: true });
      const se = new ap.SqueezeExcitation(8, 2);
      const shape: number[] = m.output.shape;
      const data: Float32Array | Uint8Array = r.output.toArray();
      for (const t of [q, mask, mha, se]) t.dispose();
      r.dispose();
      m.dispose();
      const model = ap.loadModel({ config: { model_type: 'gpt2' }, weights: new Uint8Array(8), tokenizer: { 'vocab.json': '{}' } });
      let generated = '';
      if (model instanceof LanguageModel) {
        const out: ModelOutput = model.forward('some text', { capture: true, position: 0 });
        const maps: AttentionMap[] = out.attentions;
        const w: Float32Array | Uint8Array = maps[0].weights.view();
        generated = model.generate([1, 2], { maxNewTokens: 4, topK: 5, onToken: (id, text) => id > 0 && text !== null }).text ?? '';
        out.dispose();
        data.length + w.length;
      }
      const files = model.save();
      const tok = ap.loadTokenizer({ type: 'char', vocab: ['a'] });
      const ids: Int32Array = tok.encode('a');
      tok.dispose();
      model.dispose();
      return (isMha ? 1 : 0) + shape.length + data.length + ap.heapBytesInUse() + (ap.simd ? 1 : 0) + generated.length + files.weights.length + ids.length;
    }
    main();
  `);
  writeFileSync(join(dir, 'misuse.ts'), `
    import { init } from 'attention-playground';
    const ap = await init();
    ap.scaledDotProductAttention(new Float32Array(4), 1, 2);
    new ap.MultiheadAttention({ numHeads: 2 });
    ap.tensor(new Uint8Array(4), [4]);
    ap.loadModel({ config: {} });
  `);
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const opts = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,esnext.disposable,dom'];
  execFileSync(process.execPath, [tsc, ...opts, join(dir, 'usage.ts')], { cwd: dir, encoding: 'utf8' });
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, ...opts, join(dir, 'misuse.ts')], { cwd: dir, encoding: 'utf8' });
  } catch (e) { out = e.stdout; }
  assert.match(out, /misuse\.ts\(4,\d+\): error TS\d+: .*Float32Array.*Tensor/, 'a Float32Array is not a Tensor');
  assert.match(out, /embedDim/, 'embedDim is required');
  assert.match(out, /misuse\.ts\(6,\d+\): error TS\d+/, 'a Uint8Array needs an explicit dtype');
  assert.match(out, /misuse\.ts\(7,\d+\): error TS\d+: .*weights/, 'loadModel needs weights');
});
