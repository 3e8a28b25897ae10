// Packs the npm package (npm pack) and installs the tarball into a throwaway
// project at build/pkg-test, so the JS and browser tests import it exactly as a
// user would: by name, through package.json "exports". Offline: the package has
// no runtime dependencies.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'build/pkg-test');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root))[0];
console.log(`pack: ${packed.filename}: ${(packed.size / 1024).toFixed(1)} KB packed, ${(packed.unpackedSize / 1024).toFixed(1)} KB unpacked, files: ${packed.files.map((f) => f.path).join(', ')}`);
writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pkg-test', private: true, type: 'module' }, null, 2));
npm(['install', '--no-audit', '--no-fund', '--offline', '--no-save', join(dir, packed.filename)], dir);
// The tests import this file: a bare specifier resolved by Node from inside the throwaway project.
writeFileSync(join(dir, 'entry.mjs'), "export * from 'attention-playground';\nexport { default } from 'attention-playground';\n");
console.log(`pack: installed into ${dir}/node_modules/attention-playground (${readdirSync(join(dir, 'node_modules/attention-playground/dist')).join(', ')})`);
