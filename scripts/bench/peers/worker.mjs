// One benchmark round of one engine in a fresh Node process (scripts/bench/run.mjs spawns it):
//   node scripts/bench/peers/worker.mjs <package|ort|tfjs|peak> <workload,...> <warmupS> <measureS>
// For each workload: set up, check the outputs against the PyTorch reference (a failed check
// means no timing), warm up, time; one JSON line per workload on stdout.
import { WORKLOADS, check, loadData, median, references, timeLoop } from './common.mjs';

const [engineName, list, warmup, measure] = process.argv.slice(2);
const opts = { warmupS: Number(warmup), measureS: Number(measure) };
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (engineName === 'peak') {
  const { measure: peak } = await import('./peak.mjs');
  emit({ engine: 'peak', workload: 'peak', ...(await peak(opts)) });
} else {
  const mod = await import(`./${engineName}.mjs`);
  const engine = await mod.load();
  for (const name of list.split(',')) {
    const w = WORKLOADS.find((x) => x.name === name);
    const base = { engine: engineName, version: engine.version, workload: name };
    try {
      const data = loadData(w);
      const bench = await engine.setup(w, data);
      if (!bench) { emit({ ...base, skipped: 'no API' }); continue; }
      const errors = check(w, await bench.outputs(), references(w, data));
      const ok = Object.values(errors).every((e) => e.ok);
      const ms = ok ? await timeLoop(() => bench.iterate(), opts) : [];
      await bench.dispose();
      emit({ ...base, ok, errors, iterations: ms.length, ms: ok ? median(ms) : null });
    } catch (e) {
      emit({ ...base, ok: false, error: String(e?.stack ?? e) });
    }
  }
}
