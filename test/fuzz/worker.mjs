// One fuzz target in one worker thread. Before each input it publishes the
// input (as JSON) and its start time in a SharedArrayBuffer, so the main
// thread can report the input if this thread hangs synchronously or dies.
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { depth, outcomes, PER_INPUT_LIMIT_MS, TARGETS } from './targets.mjs';

const { target: name, runs, seed, sab } = workerData;
const target = TARGETS[name];
const header = new Int32Array(sab, 0, 4); // [inputs started, json length, busy]
const started = new BigInt64Array(sab, 16, 1);
const text = Buffer.from(sab, 24);

function publish(input) {
  let json = JSON.stringify(input);
  if (Buffer.byteLength(json) > text.length) json = json.slice(0, Math.floor(text.length / 4));
  const len = text.write(json, 0, 'utf8');
  Atomics.store(header, 1, len);
  Atomics.store(started, 0, BigInt(Date.now()));
  Atomics.store(header, 2, 1);
  Atomics.add(header, 0, 1);
}

const state = await target.setup();
const t0 = performance.now();
const details = await fc.check(
  fc.asyncProperty(target.arb(state), async (input) => {
    publish(input);
    const t = performance.now();
    await target.run(state, input);
    Atomics.store(header, 2, 0);
    const ms = performance.now() - t;
    if (ms > PER_INPUT_LIMIT_MS) throw new Error(`one input took ${ms.toFixed(0)} ms (limit ${PER_INPUT_LIMIT_MS} ms)`);
  }),
  { numRuns: runs, seed, endOnFailure: false },
);
const err = details.errorInstance;
parentPort.postMessage({
  target: name,
  runs: details.numRuns,
  failed: details.failed,
  seed: details.seed,
  path: details.counterexamplePath,
  shrinks: details.numShrinks,
  counterexample: details.counterexample ? JSON.stringify(details.counterexample[0]) : null,
  error: err ? (err instanceof Error ? err.stack ?? err.message : String(err)) : null,
  ms: performance.now() - t0,
  outcomes: [...outcomes].sort((a, b) => b[1] - a[1]),
  depth,
});
