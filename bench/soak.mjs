// The soak of `npm run bench`: N cycles of handshake -> export -> import ->
// seal/unseal -> close in this one process, with RSS after global.gc() at the
// start and at the end. Run by bench/run.mjs in a fresh process (so earlier
// benchmarks do not skew the baseline); also runnable alone:
//   node --expose-gc bench/soak.mjs [--cycles N] [--envelope-every K] [--json]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { acquirePair, api, handshake } from './workloads.mjs';

const MB = 1024 * 1024;

function settle() {
  if (typeof global.gc !== 'function') throw new Error('the soak needs --expose-gc');
  for (let k = 0; k < 4; k++) global.gc();
  const m = process.memoryUsage();
  // Committed size of each V8 heap space: RSS growth with flat heapUsed is V8 keeping pages (e.g. a grown new space), not a leak.
  m.spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, +(s.space_size / MB).toFixed(2)]));
  return m;
}

/**
 * One cycle. Every `envelopeEvery`-th cycle goes through a sealed handoff
 * envelope (encodeHandoff/importContext(bytes, { key })) instead of the
 * in-process ExportedContext, so both import paths are soaked.
 */
async function cycle(creds, i, envelopeEvery, key, msg) {
  const { client, server } = await handshake(creds);
  const exported = await server.export({ deleteOld: true });
  let imported;
  if (envelopeEvery > 0 && i % envelopeEvery === 0) {
    const bytes = api.encodeHandoff(exported, { key });
    exported.dispose();
    imported = await api.importContext(bytes, { key });
  } else {
    imported = await api.importContext(exported);
    exported.dispose();
  }
  const back = imported.decrypt(client.encrypt(msg));
  const forth = client.decrypt(imported.encrypt(back));
  imported.verify(forth, client.sign(forth));
  if (forth.length !== msg.length || forth[0] !== msg[0] || forth[forth.length - 1] !== msg[msg.length - 1]) throw new Error(`cycle ${i}: seal/unseal mismatch`);
  if (imported.names.clientName !== 'EXAMPLE\\alice') throw new Error(`cycle ${i}: wrong client name ${imported.names.clientName}`);
  client.close();
  imported.close();
  server.close(); // already deleted by deleteOld: a no-op, as on Windows
}

export async function soak({ cycles = 100_000, envelopeEvery = 10, messageBytes = 1024, onProgress } = {}) {
  const creds = await acquirePair();
  const key = randomBytes(32);
  const msg = randomBytes(messageBytes);
  // A short warm-up so JIT code and first-use allocations are not counted as growth.
  const warm = Math.min(200, cycles);
  const before = settle();
  for (let i = 0; i < warm; i++) await cycle(creds, i, envelopeEvery, key, msg);
  const start = settle();
  const t0 = performance.now();
  const curve = [];
  const step = Math.max(1, Math.floor(cycles / 10));
  for (let i = 0; i < cycles; i++) {
    await cycle(creds, i, envelopeEvery, key, msg);
    if ((i + 1) % step === 0) {
      curve.push({ cycle: i + 1, rssMB: +(process.memoryUsage().rss / MB).toFixed(1) });
      onProgress?.(i + 1);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const end = settle();
  creds.close();
  const closed = settle();
  const r = (n) => +(n / MB).toFixed(2);
  return {
    cycles,
    rssStartMB: r(start.rss),
    rssEndMB: r(end.rss),
    rssGrowthMB: r(end.rss - start.rss),
    limitMB: 20,
    ok: end.rss - start.rss < 20 * MB,
    heapUsedStartMB: r(start.heapUsed),
    heapUsedEndMB: r(end.heapUsed),
    externalStartMB: r(start.external),
    externalEndMB: r(end.external),
    arrayBuffersStartMB: r(start.arrayBuffers),
    arrayBuffersEndMB: r(end.arrayBuffers),
    heapSpacesStartMB: start.spaces,
    heapSpacesEndMB: end.spaces,
    heapTotalStartMB: r(start.heapTotal),
    heapTotalEndMB: r(end.heapTotal),
    rssBeforeWarmupMB: r(before.rss),
    warmupCycles: warm,
    rssAfterCredentialsClosedMB: r(closed.rss),
    heapUsedAfterCredentialsClosedMB: r(closed.heapUsed),
    envelopeEvery,
    messageBytes,
    seconds: +seconds.toFixed(2),
    cyclesPerSec: Math.round(cycles / seconds),
    rssCurveMB: curve,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '100000' },
      'envelope-every': { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
    },
  });
  const cycles = Number(values.cycles);
  if (!Number.isInteger(cycles) || cycles <= 0) throw new Error('--cycles must be a positive integer');
  const result = await soak({
    cycles,
    envelopeEvery: Number(values['envelope-every']),
    onProgress: values.json ? undefined : (n) => process.stderr.write(`  soak: ${n}/${cycles} cycles, rss ${(process.memoryUsage().rss / MB).toFixed(1)} MB\n`),
  });
  process.stdout.write(values.json ? JSON.stringify(result) + '\n' : JSON.stringify(result, null, 2) + '\n');
}
