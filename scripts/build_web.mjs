// `npm run build:web`: the playground as one self-contained static folder (default
// build/site): the page (web/), the engine (dist/: the npm package's module and .wasm,
// under engine/) and every bundled model (web/models/<name>/), plus models/index.json,
// the gallery's list (each model's config summary, card and example inputs). Every URL in
// it is relative, so any static server can host it at any sub-path.
//   node scripts/build_web.mjs [--out DIR]
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--out');
const out = resolve(i > 0 ? process.argv[i + 1] : join(root, 'build/site'));
const engineFiles = ['index.mjs', 'attention_playground.mjs', 'attention_playground.wasm'];

for (const f of engineFiles) {
  if (!existsSync(join(root, 'dist', f))) {
    console.error(`build_web: dist/${f} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, 'web'), out, { recursive: true, filter: (src) => !src.startsWith(join(root, 'web/models')) });
mkdirSync(join(out, 'engine'));
for (const f of engineFiles) copyFileSync(join(root, 'dist', f), join(out, 'engine', f));

/** One gallery entry per web/models/<name>/ holding a config.json and model.safetensors. */
function modelEntry(name) {
  const dir = join(root, 'web/models', name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const card = existsSync(join(dir, 'MODEL_CARD.md')) ? readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8') : '';
  const page = existsSync(join(dir, 'page.json')) ? JSON.parse(readFileSync(join(dir, 'page.json'), 'utf8')) : {};
  const files = readdirSync(dir).filter((f) => f !== 'page.json');
  return {
    name,
    path: `models/${name}`,
    type: config.model_type,
    title: page.title ?? config.name ?? name,
    description: config.description ?? '',
    task: page.task ?? '',
    bytes: statSync(join(dir, 'model.safetensors')).size,
    card,
    examples: page.examples ?? [],
    samples: files.includes('samples.safetensors') ? `models/${name}/samples.safetensors` : null,
    order: page.order ?? 100,
  };
}

const modelsDir = join(root, 'web/models');
const entries = readdirSync(modelsDir)
  .filter((n) => existsSync(join(modelsDir, n, 'config.json')) && existsSync(join(modelsDir, n, 'model.safetensors')))
  .map(modelEntry)
  .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
mkdirSync(join(out, 'models'));
for (const e of entries) {
  cpSync(join(modelsDir, e.name), join(out, 'models', e.name), { recursive: true, filter: (src) => !src.endsWith('page.json') });
}
writeFileSync(join(out, 'models/index.json'), JSON.stringify({ models: entries }, null, 1) + '\n');
const total = entries.reduce((s, e) => s + e.bytes, 0);
console.log(`build_web: ${out} (${entries.length} models, ${(total / 1e6).toFixed(1)} MB of weights)`);
