// The handoff part of `npm run bench`: sendContext to a forked child against a
// bare IPC round trip of the same bytes to the same child, measured in
// alternating rounds of one run, plus what each step of a transfer costs.
import { fork } from 'node:child_process';
import { createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquirePair, api, handshake, quartiles } from './workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The quartiles, rounded to 0.1 µs, as the other bench figures' spread. */
function spread(values) {
  const r = (n) => +n.toFixed(1);
  const q = quartiles(values);
  return { min: r(q.min), q1: r(q.q1), median: r(q.median), q3: r(q.q3), max: r(q.max), samples: q.samples, batch: 1 };
}

const now = () => process.hrtime.bigint();
const micros = (t0) => Number(process.hrtime.bigint() - t0) / 1e3;

const WARM = 200;

/** Mean µs per call of `fn` over `n` calls, after WARM calls; `fn` gets a running call index. */
async function perCall(n, fn) {
  let k = 0;
  for (let i = 0; i < WARM; i++) await fn(k++);
  const t0 = now();
  for (let i = 0; i < n; i++) await fn(k++);
  return +(micros(t0) / n).toFixed(2);
}

/** Each step of one transfer, in this process, so the doc and the report can say where the time goes. */
async function steps(creds, quick) {
  const n = quick ? 500 : 3000;
  const a = generateKeyPairSync('x25519');
  const b = generateKeyPairSync('x25519');
  const ax = a.publicKey.export({ format: 'jwk' }).x;
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ax }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: b.privateKey, publicKey: peer });
  const key = randomBytes(32);
  const prk = createHmac('sha512', 'salt').update(shared).digest();
  const info = randomBytes(20 + 32 + 64 + 1);
  const base = (await handshake(creds)).server;
  const copies = [];
  for (let i = 0; i < n + WARM; i++) copies.push(await api.importContext(await base.export()));
  const exports = [];
  const envelopes = [];
  const out = {
    x25519KeyPair: await perCall(n, () => generateKeyPairSync('x25519')),
    rawPublicKeyExport: await perCall(n, () => a.publicKey.export({ format: 'jwk' }).x),
    spkiPublicKeyExportOld: await perCall(n, () => a.publicKey.export({ type: 'spki', format: 'der' })),
    rawPublicKeyImport: await perCall(n, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ax }, format: 'jwk' })),
    x25519Agreement: await perCall(n, () => diffieHellman({ privateKey: b.privateKey, publicKey: peer })),
    hkdfSyncOld: await perCall(n, () => hkdfSync('sha256', shared, key, 'sspi-context transfer v2', 64)),
    transferKeysHmac: await perCall(n, () => createHmac('sha512', prk).update(info).digest()),
    exportDeleteOld: await perCall(n, async (i) => exports.push(await copies[i].export({ deleteOld: true }))),
    encodeSealed: await perCall(n, (i) => {
      envelopes.push(api.encodeHandoff(exports[i], { key, targetPid: process.pid }));
      exports[i].dispose();
    }),
    base64Both: await perCall(n, (i) => Buffer.from(envelopes[i].toString('base64'), 'base64')),
    importSealed: await perCall(n, async (i) => (await api.importContext(envelopes[i], { key })).close()),
  };
  base.close();
  return { ...out, envelopeBytes: envelopes[0].length, calls: n };
}

/**
 * `rounds` alternating blocks of `perRound` bare round trips and `perRound`
 * sendContext calls to one forked child (keep-alive: the same child, one
 * transfer at a time, the same concurrency of 1 on both sides).
 */
async function roundTrips(creds, quick) {
  const rounds = quick ? 4 : 10;
  const perRound = quick ? 50 : 100;
  const child = fork(join(here, 'transfer-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const base = (await handshake(creds)).server;
    const fresh = async () => api.importContext(await base.export());
    // The baseline message: the envelope message's fields and sizes, and a reply shaped like a result.
    const sample = await fresh();
    const exp = await sample.export({ deleteOld: true });
    const envelopeChars = api.encodeHandoff(exp, { key: randomBytes(32), targetPid: child.pid }).toString('base64').length;
    exp.dispose();
    const echo = {
      type: 'bench/echo',
      listener: randomBytes(16).toString('hex'),
      transfer: randomBytes(16).toString('hex'),
      publicKey: randomBytes(32).toString('base64url'),
      envelope: randomBytes(Math.ceil((envelopeChars * 3) / 4)).toString('base64').slice(0, envelopeChars),
    };
    let acked;
    let cpuReply;
    child.on('message', (m) => {
      if (m?.type === 'bench/echo-ack') acked?.();
      else if (m?.type === 'bench/cpu') cpuReply?.(m.usage);
    });
    /** CPU time (user + system, µs) used so far by this process and by the child. */
    const cpuNow = async () => {
      const childUsage = await new Promise((resolve) => {
        cpuReply = resolve;
        child.send({ type: 'bench/cpu' });
      });
      const own = process.cpuUsage();
      return { sender: own.user + own.system, receiver: childUsage.user + childUsage.system };
    };
    const cpu = { ipc: { sender: 0, receiver: 0 }, send: { sender: 0, receiver: 0 } };
    const addCpu = (into, a, b) => {
      into.sender += b.sender - a.sender;
      into.receiver += b.receiver - a.receiver;
    };
    const ipcOnce = () =>
      new Promise((resolve) => {
        acked = resolve;
        child.send(echo);
      });
    const ipc = [];
    const send = [];
    const contexts = [];
    const batch = async (n) => {
      contexts.length = 0;
      for (let i = 0; i < n; i++) contexts.push(await fresh());
    };
    // Warm-up of both, then alternate.
    for (let i = 0; i < 50; i++) await ipcOnce();
    await batch(50);
    for (const c of contexts) await api.sendContext(child, c);
    for (let r = 0; r < rounds; r++) {
      let c0 = await cpuNow();
      for (let i = 0; i < perRound; i++) {
        const t0 = now();
        await ipcOnce();
        ipc.push(micros(t0));
      }
      let c1 = await cpuNow();
      addCpu(cpu.ipc, c0, c1);
      await batch(perRound);
      c0 = await cpuNow();
      for (const c of contexts) {
        const t0 = now();
        await api.sendContext(child, c);
        send.push(micros(t0));
      }
      c1 = await cpuNow();
      addCpu(cpu.send, c0, c1);
    }
    base.close();
    const n = rounds * perRound;
    // (The cpuNow() exchanges themselves are in both figures alike: two small messages per block.)
    const perOp = (x) => ({ sender: +(x.sender / n).toFixed(1), receiver: +(x.receiver / n).toFixed(1) });
    return { ipc: spread(ipc), send: spread(send), cpu: { sendContext: perOp(cpu.send), ipcRoundTrip: perOp(cpu.ipc) }, envelopeChars, rounds, perRound };
  } finally {
    child.send({ type: 'bench/stop' });
    await exited;
  }
}

export async function runTransferBench({ quick = false } = {}) {
  const creds = await acquirePair();
  try {
    const rt = await roundTrips(creds, quick);
    const stepsMicros = await steps(creds, quick);
    return {
      sendContextMicros: rt.send.median,
      ipcRoundTripMicros: rt.ipc.median,
      sendContextToIpcRatio: +(rt.send.median / rt.ipc.median).toFixed(2),
      spread: { sendContextMicros: rt.send, ipcRoundTripMicros: rt.ipc },
      cpuMicrosPerOp: rt.cpu,
      stepsMicros,
      config: {
        transport: 'child_process.fork IPC (json serialization), one forked child, one transfer at a time',
        alternatingRounds: rt.rounds,
        perRound: rt.perRound,
        baselineMessage: `an envelope-shaped message with a ${rt.envelopeChars}-character base64 envelope, answered with a result-shaped message`,
      },
    };
  } finally {
    creds.close();
  }
}

/** Lines for the printed report. */
export function transferTable(h) {
  const s = (x) => `${x.min} / ${x.q1} / ${x.q3} / ${x.max}`;
  const st = h.stepsMicros;
  const cpu = (x) => `sender ${x.sender} + receiver ${x.receiver} µs`;
  return [
    `handoff: sendContext to a forked child ${h.sendContextMicros} µs vs bare IPC round trip of the same bytes ${h.ipcRoundTripMicros} µs: ` +
      `${h.sendContextToIpcRatio}x (goal <= 2x: ${h.sendContextToIpcRatio <= 2 ? 'MET' : 'MISSED'})`,
    `  spread (min / q1 / q3 / max): sendContext ${s(h.spread.sendContextMicros)} (${h.spread.sendContextMicros.samples} samples), IPC ${s(h.spread.ipcRoundTripMicros)} (${h.spread.ipcRoundTripMicros.samples} samples)`,
    `  CPU per operation (user+system, both processes): sendContext ${cpu(h.cpuMicrosPerOp.sendContext)}; IPC round trip ${cpu(h.cpuMicrosPerOp.ipcRoundTrip)}`,
    `  steps (µs/call): X25519 pair ${st.x25519KeyPair} (off the critical path), raw key export ${st.rawPublicKeyExport} (SPKI was ${st.spkiPublicKeyExportOld}), ` +
      `raw key import ${st.rawPublicKeyImport}, X25519 agreement ${st.x25519Agreement} (once per channel key, each side), ` +
      `transfer keys (one HMAC-SHA512) ${st.transferKeysHmac} (x2; hkdfSync was ${st.hkdfSyncOld}), ` +
      `export(DELETE_OLD) ${st.exportDeleteOld}, encode+seal ${st.encodeSealed}, base64 both ways ${st.base64Both}, decode+open+import ${st.importSealed} (${st.envelopeBytes}-byte envelope)`,
  ];
}
