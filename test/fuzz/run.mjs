// `npm run fuzz -- --runs N [--seed S] [--targets a,b] [--concurrency C]`
//
// fast-check over every decoder (test/fuzz/targets.mjs). N inputs are split
// across the targets; each target runs in its own worker thread, watched by
// this thread: an input that does not finish (a synchronous hang) is killed
// after --kill-ms and reported with the input it was on, and a worker that
// dies is reported the same way. Failures print fast-check's shrunk
// counterexample, its seed and path. Each target's line and the
// `deep checks reached:` line say how many inputs got past its framing checks.
// The last line is `N inputs, F failures`.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { TARGET_NAMES } from './targets.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const SAB_BYTES = 24 + 256 * 1024;

function runTarget(target, runs, seed, killMs) {
  const sab = new SharedArrayBuffer(SAB_BYTES);
  const header = new Int32Array(sab, 0, 4);
  const started = new BigInt64Array(sab, 16, 1);
  const text = Buffer.from(sab, 24);
  const current = () => text.toString('utf8', 0, Atomics.load(header, 1));
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const worker = new Worker(WORKER, { workerData: { target, runs, seed, sab }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve({ target, ms: performance.now() - t0, ...r });
    };
    const lost = (why) => ({
      runs: Atomics.load(header, 0),
      failed: true,
      seed,
      counterexample: current(),
      error: why,
      shrinks: 0,
      path: null,
    });
    const watchdog = setInterval(() => {
      if (Atomics.load(header, 2) !== 1) return;
      const ms = Date.now() - Number(Atomics.load(started, 0));
      if (ms > killMs) {
        const r = lost(`hang: one input ran for over ${ms} ms without finishing (limit 1000 ms); the worker was terminated (not shrunk)`);
        worker.terminate();
        finish(r);
      }
    }, 100);
    worker.on('message', (m) => finish(m));
    worker.on('error', (e) => finish(lost(`the worker crashed: ${e?.stack ?? e}`)));
    worker.on('exit', (code) => finish(lost(`the worker exited with code ${code} before reporting`)));
  });
}

/** Run the fuzz. Returns { inputs, failures, results }. */
export async function runFuzz({ runs = 10_000, seed = Date.now() % 0x7fffffff, targets = TARGET_NAMES, concurrency = Math.min(availableParallelism(), 4), killMs = 3000, log = () => {} } = {}) {
  const per = targets.map((t, i) => ({ target: t, runs: Math.floor(runs / targets.length) + (i < runs % targets.length ? 1 : 0), seed: (seed + i * 7919) % 0x7fffffff }));
  const queue = per.filter((p) => p.runs > 0);
  const results = [];
  const lanes = Array.from({ length: Math.max(1, concurrency) }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const r = await runTarget(p.target, p.runs, p.seed, killMs);
      results.push(r);
      log(r);
    }
  });
  await Promise.all(lanes);
  results.sort((a, b) => targets.indexOf(a.target) - targets.indexOf(b.target));
  return { inputs: results.reduce((n, r) => n + r.runs, 0), failures: results.filter((r) => r.failed).length, results, seed };
}

export function describeResult(r) {
  const deep = r.depth ? `  deep ${String(r.depth.deep).padStart(7)} (${((100 * r.depth.deep) / Math.max(1, r.depth.inputs)).toFixed(0).padStart(3)}%), accepted ${r.depth.accepted}` : '';
  const head = `${r.target.padEnd(15)} ${String(r.runs).padStart(7)} inputs  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.failed ? 'FAILED' : 'ok'}${deep}`;
  if (!r.failed) return head;
  return [
    head,
    `  seed ${r.seed}${r.path ? `, path ${r.path}` : ''}${r.shrinks ? `, ${r.shrinks} shrinks` : ''}`,
    `  counterexample: ${r.counterexample}`,
    `  error: ${String(r.error).split('\n').slice(0, 12).join('\n  ')}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      targets: { type: 'string' },
      concurrency: { type: 'string' },
      'kill-ms': { type: 'string', default: '3000' },
      stats: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error('--runs must be a positive integer');
  const targets = values.targets ? values.targets.split(',') : TARGET_NAMES;
  for (const t of targets) if (!TARGET_NAMES.includes(t) && !t.startsWith("selftest")) throw new Error(`unknown target ${t}; targets: ${TARGET_NAMES.join(', ')}`);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 0x7fffffff;
  const t0 = performance.now();
  console.log(`fuzz: ${runs} inputs over ${targets.length} decoders (${targets.join(', ')}), seed ${seed}`);
  const { inputs, failures, results } = await runFuzz({
    runs,
    seed,
    targets,
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    killMs: Number(values['kill-ms']),
    log: (r) => {
      console.log(describeResult(r));
      if (values.stats && r.outcomes) for (const [k, n] of r.outcomes) console.log(`    ${String(n).padStart(7)}  ${k}`);
    },
  });
  console.log(`time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Deep: accepted, or refused by a check past the decoder's framing (each target's `shallow` pattern).
  console.log(`deep checks reached: ${results.map((r) => `${r.target} ${r.depth?.deep ?? 0}/${r.runs}`).join(', ')}`);
  console.log(`${inputs} inputs, ${failures} failures`);
  process.exitCode = failures ? 1 : 0;
}
