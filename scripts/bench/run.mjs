// `npm run bench`: this package against onnxruntime-web and tfjs-wasm on the same weights in the
// same run (issue 9). Each round runs every engine in a fresh Node process (peers/worker.mjs):
// outputs checked against PyTorch, warm-up, timing; the table reports medians over rounds.
//   node scripts/bench/run.mjs [--rounds N] [--filter a,b] [--engines package,ort,tfjs]
//                              [--warmup S] [--measure S] [--out FILE_PREFIX] [--no-native]
// --filter keeps workloads whose name contains one of the comma-separated strings (e.g. mha_64,gpt).
// Writes FILE_PREFIX.json and FILE_PREFIX.svg (default scripts/bench/results/latest).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GPT, TOLERANCE, WORKLOADS, dataDir, defaultDataDir, median, root } from './peers/common.mjs';

const PEERS = ['ort', 'tfjs'];
const ENGINES = ['package', ...PEERS];
const NAMES = { package: 'this package', ort: 'onnxruntime-web', tfjs: 'tfjs-wasm', native: 'native (C++)', peak: 'wasm peak' };

function parseArgs(argv) {
  const a = { rounds: 3, filter: null, engines: ENGINES, warmup: 2, measure: 1, out: join(root, 'scripts/bench/results/latest'), native: true };
  for (let i = 0; i < argv.length; ++i) {
    const val = () => { if (i + 1 >= argv.length) throw new Error(`bench: ${argv[i]} needs a value`); return argv[++i]; };
    const num = (name, v) => { const n = Number(v); if (!(n >= 0)) throw new Error(`bench: ${name} must be a number >= 0, got '${v}'`); return n; };
    switch (argv[i]) {
      case '--rounds': a.rounds = Math.max(1, Math.floor(num('--rounds', val()))); break;
      case '--filter': a.filter = val().split(',').filter(Boolean); break;
      case '--engines': a.engines = val().split(','); break;
      case '--warmup': a.warmup = num('--warmup', val()); break;
      case '--measure': a.measure = num('--measure', val()); break;
      case '--out': a.out = val(); break;
      case '--no-native': a.native = false; break;
      default: throw new Error(`bench: unknown argument '${argv[i]}' (see scripts/bench/README.md)`);
    }
  }
  for (const e of a.engines) if (!ENGINES.includes(e)) throw new Error(`bench: unknown engine '${e}'; engines: ${ENGINES.join(', ')}`);
  return a;
}

/**
 * Exports the graphs, weights and references (PyTorch) when missing or older than the export
 * script (only into the default data directory), and compiles peak.wat.
 */
function prepare(workloads) {
  const script = join(root, 'scripts/bench/export_onnx.py');
  const files = (w) => (w.kind === 'train' ? [] : w.kind.startsWith('gpt') ? ['gpt_decode.onnx', 'gpt_ref.safetensors'] : [`${w.name}.onnx`, `${w.name}.safetensors`]);
  const older = (f) => dataDir === defaultDataDir && statSync(join(dataDir, f)).mtimeMs < statSync(script).mtimeMs;
  const stale = workloads.filter((w) => files(w).some((f) => !existsSync(join(dataDir, f)) || older(f)));
  if (stale.length && dataDir !== defaultDataDir) {
    throw new Error(`bench: ${dataDir} (ATTN_BENCH_DATA) lacks the inputs of ${stale.map((w) => w.name).join(', ')}`);
  }
  if (stale.length) {
    const only = [...new Set(stale.map((w) => (w.kind.startsWith('gpt') ? 'gpt' : w.name)))];
    console.error(`bench: exporting ${only.join(', ')} (PyTorch -> ${relative(root, dataDir)})`);
    execFileSync('/usr/bin/python3', [script, dataDir, `--only=${only.join(',')}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const wat = join(root, 'scripts/bench/peak.wat'), wasm = join(root, 'build/bench/peak.wasm');
  if (!existsSync(wasm) || statSync(wasm).mtimeMs < statSync(wat).mtimeMs) {
    mkdirSync(dirname(wasm), { recursive: true });
    execFileSync('wat2wasm', [wat, '-o', wasm]);
  }
}

function worker(engine, names, a) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/bench/peers/worker.mjs'), engine, names.join(','), String(a.warmup), String(a.measure)],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  if (r.status !== 0 || !lines.length) {
    const error = `worker ${engine} exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    return names.map((workload) => ({ engine, workload, ok: false, error }));
  }
  return lines;
}

/** The native build's GPT timings (scripts/bench/bench_models.cpp: its own random weights, same shapes). */
function native() {
  const bin = join(root, 'build/native/scripts/bench/attn_bench_models');
  if (!existsSync(bin)) return null;
  const out = execFileSync(bin, ['--quick'], { encoding: 'utf8' });
  const m = out.match(/capture off\s+prefill (\d+) tokens:\s+([\d.]+) ms.*decode (\d+) tokens:\s+([\d.]+) tokens\/s/);
  if (!m || Number(m[1]) !== GPT.T) return null;
  return { prefillMs: Number(m[2]), decodeTokens: Number(m[3]), decodeTokensPerS: Number(m[4]), simd: out.match(/SIMD: (\S+)/)?.[1] };
}

async function wasmSizes(engines) {
  const sizes = {};
  for (const e of engines) {
    const { wasmFiles, version } = await import(`./peers/${e}.mjs`);
    const files = wasmFiles.map((f) => { const b = readFileSync(f); return { file: relative(root, f), raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; });
    sizes[e] = { version, files, raw: files.reduce((s, f) => s + f.raw, 0), gzip: files.reduce((s, f) => s + f.gzip, 0) };
  }
  return sizes;
}

const fmtMs = (ms) => (ms == null ? 'n/a' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const fmtX = (x) => (x == null || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`);
const kb = (b) => `${(b / 1024).toFixed(0)} KB`;

function summarize(a, workloads, rounds, peakRounds, nat) {
  const peak = peakRounds.length ? median(peakRounds.map((p) => p.gflops)) : null;
  const rows = workloads.map((w) => {
    const engines = {};
    for (const e of a.engines) {
      const runs = rounds.flat().filter((r) => r.engine === e && r.workload === w.name);
      const skipped = runs.find((r) => r.skipped);
      const failed = runs.filter((r) => !r.skipped && !r.ok);
      const times = runs.filter((r) => r.ok).map((r) => r.ms);
      const ms = times.length && !failed.length ? median(times) : null;
      engines[e] = {
        ms, rounds: times, gflops: ms ? w.flops / (ms * 1e6) : null,
        ...(w.tokens && ms ? { tokensPerS: (w.tokens * 1000) / ms } : {}),
        ...(w.kind === 'train' && ms ? { stepsPerS: 1000 / ms } : {}),
        maxAbsError: runs.find((r) => r.errors)?.errors ?? null,
        ...(skipped ? { skipped: 'no API yet' } : {}),
        ...(failed.length ? { failed: failed.map((r) => r.error ?? `outside tolerance: ${JSON.stringify(r.errors)}`) } : {}),
      };
    }
    const p = engines.package?.ms;
    const ratio = Object.fromEntries(PEERS.filter((e) => engines[e]).map((e) => [e, p && engines[e].ms ? engines[e].ms / p : null]));
    const row = { workload: w.name, label: w.label, flops: w.flops, engines, speedup: ratio, packageOfPeak: p && peak ? w.flops / (p * 1e6) / peak : null };
    if (nat && w.kind === 'gpt_prefill') row.native = { ms: nat.prefillMs, gflops: w.flops / (nat.prefillMs * 1e6), note: 'own random weights, not checked' };
    if (nat && w.kind === 'gpt_decode') row.native = { tokensPerS: nat.decodeTokensPerS, note: `own random weights, not checked; ${nat.decodeTokens} steps over ${GPT.T + 1}..${GPT.T + nat.decodeTokens} keys` };
    return row;
  });
  return { peakGflops: peak, rows };
}

function table(a, s) {
  const head = ['workload', 'GFLOP', ...a.engines.map((e) => `${NAMES[e]} ms (GFLOP/s)`), ...PEERS.filter((e) => a.engines.includes(e) && a.engines.includes('package')).map((e) => `vs ${NAMES[e]}`), 'package / peak', 'native (C++)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of s.rows) {
    const cells = a.engines.map((e) => {
      const x = r.engines[e];
      if (x.skipped) return 'n/a (no API yet)';
      if (x.failed) return 'FAILED';
      const tok = x.tokensPerS ? `, ${x.tokensPerS.toFixed(0)} tok/s` : '';
      return `${fmtMs(x.ms)} (${x.gflops.toFixed(1)}${tok})`;
    });
    const ratios = PEERS.filter((e) => a.engines.includes(e) && a.engines.includes('package')).map((e) => fmtX(r.speedup[e]));
    const nat = r.native ? (r.native.ms ? `${fmtMs(r.native.ms)} ms` : `${r.native.tokensPerS.toFixed(0)} tok/s`) : '–';
    lines.push(`| ${r.label} | ${(r.flops / 1e9).toFixed(3)} | ${cells.join(' | ')} | ${ratios.join(' | ')} | ${r.packageOfPeak == null ? '–' : `${(100 * r.packageOfPeak).toFixed(0)}%`} | ${nat} |`);
  }
  return lines.join('\n');
}

function svg(a, s) {
  const engines = a.engines, colors = { package: '#0072B2', ort: '#E69F00', tfjs: '#009E73' };
  const rows = s.rows, barH = 12, groupH = engines.length * barH + 14, left = 220, width = 760, plotW = width - left - 70;
  const maxG = Math.max(s.peakGflops ?? 0, ...rows.flatMap((r) => engines.map((e) => r.engines[e].gflops ?? 0))) * 1.05 || 1;
  const x = (g) => left + (g / maxG) * plotW;
  const h = 40 + rows.length * groupH + 30;
  const esc = (t) => String(t).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' }[c]));
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13" font-weight="bold">GFLOP/s, median of ${a.rounds} fresh-process round(s), one thread (higher is better)</text>`];
  rows.forEach((r, i) => {
    const y0 = 34 + i * groupH;
    out.push(`<text x="${left - 8}" y="${y0 + (engines.length * barH) / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`);
    engines.forEach((e, j) => {
      const g = r.engines[e].gflops, y = y0 + j * barH;
      if (g == null) { out.push(`<text x="${left + 4}" y="${y + 9}" fill="#666">${esc(NAMES[e])}: ${r.engines[e].skipped ? 'n/a (no API yet)' : 'failed'}</text>`); return; }
      out.push(`<rect x="${left}" y="${y}" width="${(x(g) - left).toFixed(1)}" height="${barH - 2}" fill="${colors[e]}"><title>${esc(NAMES[e])}: ${fmtMs(r.engines[e].ms)} ms</title></rect>`,
        `<text x="${(x(g) + 4).toFixed(1)}" y="${y + 9}">${g.toFixed(1)}</text>`);
    });
  });
  const yEnd = 34 + rows.length * groupH;
  if (s.peakGflops) out.push(`<line x1="${x(s.peakGflops).toFixed(1)}" x2="${x(s.peakGflops).toFixed(1)}" y1="28" y2="${yEnd}" stroke="#D55E00" stroke-dasharray="4 3"/>`,
    `<text x="${x(s.peakGflops).toFixed(1)}" y="${yEnd + 12}" text-anchor="middle" fill="#D55E00">wasm f32x4 peak ${s.peakGflops.toFixed(1)}</text>`);
  engines.forEach((e, j) => out.push(`<rect x="${10 + j * 150}" y="${h - 14}" width="10" height="10" fill="${colors[e]}"/>`, `<text x="${24 + j * 150}" y="${h - 5}">${esc(NAMES[e])}</text>`));
  out.push('</svg>');
  return out.join('\n');
}

function usage(message) { console.error(message); process.exit(2); }
let a;
try { a = parseArgs(process.argv.slice(2)); } catch (e) { usage(e.message); }
const workloads = WORKLOADS.filter((w) => !a.filter || a.filter.some((f) => w.name.includes(f)));
if (!workloads.length) usage(`bench: --filter ${a.filter.join(',')} matches no workload; workloads: ${WORKLOADS.map((w) => w.name).join(', ')}`);
prepare(workloads);
const started = Date.now();
const rounds = [], peakRounds = [];
for (let r = 0; r < a.rounds; ++r) {
  const round = [];
  for (const e of a.engines) round.push(...worker(e, workloads.map((w) => w.name), a));
  const [p] = worker('peak', ['peak'], a);
  if (p.gflops) peakRounds.push(p);
  rounds.push(round);
  console.error(`bench: round ${r + 1}/${a.rounds} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
const nat = a.native && workloads.some((w) => w.kind.startsWith('gpt')) ? native() : null;
const s = summarize(a, workloads, rounds, peakRounds, nat);
const sizes = await wasmSizes(a.engines);
const result = {
  date: new Date().toISOString(), node: process.version, cpu: (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? null,
  method: { rounds: a.rounds, warmupS: a.warmup, measureS: a.measure, threads: 1, tolerance: TOLERANCE, ratio: 'peer median ms / package median ms (> 1: the package is faster)' },
  peakGflops: s.peakGflops, native: nat, wasmSizes: sizes, rows: s.rows, rounds,
};
mkdirSync(dirname(a.out), { recursive: true });
writeFileSync(`${a.out}.json`, `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(`${a.out}.svg`, `${svg(a, s)}\n`);
console.log(table(a, s));
console.log(`\nwasm f32x4 mul+add peak: ${s.peakGflops?.toFixed(1) ?? 'n/a'} GFLOP/s (median of ${peakRounds.length} round(s)); one thread, Node ${process.version}`);
console.log(`\n| engine | .wasm | raw | gzip -9 |\n|---|---|---|---|`);
for (const [e, z] of Object.entries(sizes)) console.log(`| ${NAMES[e]} ${z.version} | ${z.files.map((f) => f.file.split('/').pop()).join(', ')} | ${kb(z.raw)} | ${kb(z.gzip)} |`);
console.log(`\n${relative(root, a.out)}.json, .svg written (${((Date.now() - started) / 1000).toFixed(0)} s)`);
const failed = s.rows.flatMap((r) => Object.entries(r.engines).filter(([, x]) => x.failed).map(([e, x]) => `${r.workload} ${e}: ${x.failed[0]}`));
if (failed.length) { console.error(`bench: failed:\n  ${failed.join('\n  ')}`); process.exitCode = 1; }
