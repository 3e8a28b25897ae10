// Assembles the npm package contents in dist/: the Embind module (.mjs + .wasm)
// from build/wasm and the public JS API + types from src/js. Prints the .wasm
// size raw and gzipped.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const built = join(root, 'build/wasm/src/bindings');
copyFileSync(join(built, 'attention_playground.wasm'), join(dist, 'attention_playground.wasm'));
// Embind 3.1.6 converts value_object structs with `for (var f in fields)`, which also walks
// enumerable properties someone added to Object.prototype, and then fails inside Embind.
// Iterate the struct's own fields instead. Each pattern must be found, so an Emscripten
// upgrade that changes the generated code fails here rather than silently.
let glue = readFileSync(join(built, 'attention_playground.mjs'), 'utf8');
for (const [from, to] of [['for(var fieldName in fields)', 'for(var fieldName of Object.keys(fields))'],
  ['for(fieldName in fields)', 'for(fieldName of Object.keys(fields))'],
  ['for(var i in fields)', 'for(var i of Object.keys(fields))']]) {
  if (!glue.includes(from)) throw new Error(`package: Embind glue no longer contains '${from}': re-check the value_object patch`);
  glue = glue.split(from).join(to);
}
writeFileSync(join(dist, 'attention_playground.mjs'), glue);
for (const f of readdirSync(join(root, 'src/js'))) {
  if (/\.(mjs|d\.ts)$/.test(f)) copyFileSync(join(root, 'src/js', f), join(dist, f));
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const f of ['attention_playground.wasm', 'attention_playground.mjs']) {
  const bytes = readFileSync(join(dist, f));
  console.log(`package: dist/${f}: ${kb(statSync(join(dist, f)).size)} raw, ${kb(gzipSync(bytes, { level: 9 }).length)} gzipped`);
}
