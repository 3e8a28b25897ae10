// Assembles the npm package contents in dist/: the Embind module (.mjs + .wasm)
// from build/wasm and the public JS API + types from src/js. Prints the .wasm
// size raw and gzipped.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const built = join(root, 'build/wasm/src/bindings');
for (const f of ['attention_playground.mjs', 'attention_playground.wasm']) copyFileSync(join(built, f), join(dist, f));
for (const f of readdirSync(join(root, 'src/js'))) {
  if (/\.(mjs|d\.ts)$/.test(f)) copyFileSync(join(root, 'src/js', f), join(dist, f));
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const f of ['attention_playground.wasm', 'attention_playground.mjs']) {
  const bytes = readFileSync(join(dist, f));
  console.log(`package: dist/${f}: ${kb(statSync(join(dist, f)).size)} raw, ${kb(gzipSync(bytes, { level: 9 }).length)} gzipped`);
}
