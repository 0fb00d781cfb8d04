// Issue 13 "The transfer" and issue 10 item 1: who the envelope is bound to,
// one context one owner, fail closed, and every failure an SspiError.
import { spawn } from 'node:child_process';
import { MessageChannel } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, apiPath, establish } from '../helpers/handshake.js';
import { CHILD, env, hexId, next, rawPublicKey, rawReceiver, rejection, spawnChild, spawnWorker, type RawEnvelope } from './helpers.js';

beforeAll(() => api.setBackend('fallback'));

/** The context is gone here: no handle, and protection refuses. */
function expectGone(h: Awaited<ReturnType<typeof establish>>) {
  expect(h.server.isEstablished).toBe(false);
  // (The client's sequence numbers are left alone: the receiver may still use the context.)
  expect(() => h.server.encrypt(Buffer.from('x'))).toThrow(/SEC_E_INVALID_HANDLE/);
}

/** The context is still here and still works. */
function expectKept(h: Awaited<ReturnType<typeof establish>>) {
  expect(h.server.isEstablished).toBe(true);
  expect(h.server.decrypt(h.client.encrypt(Buffer.from('still mine')))).toEqual(Buffer.from('still mine'));
}

describe('the envelope is bound to the pid the channel reports', () => {
  it('binds to child.pid even when the receiver claims pid 1', async () => {
    const h = await establish();
    const child = spawnChild('raw-claims-pid');
    const bound = next<{ targetPid: number; pid: number }>(child, 'bound');
    const sent = api.sendContext(child, h.server, { timeoutMs: 20_000 });
    const b = await bound;
    expect(b.targetPid).toBe(child.pid);
    expect(b.targetPid).toBe(b.pid);
    child.kill();
    expect((await rejection(sent)).code).toBe('SEC_E_CONTEXT_EXPIRED');
    h.close();
  });

  it('binds a MessagePort transfer to this process (the import checks it)', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    let targetPid = -1;
    rawReceiver(port2, (m) => {
      targetPid = api.readHandoffHeader(Buffer.from(m.envelope, 'base64')).header.targetPid;
      port2.close();
    }, { pid: 1 });
    await rejection(api.sendContext(port1, h.server));
    expect(targetPid).toBe(process.pid);
    h.close();
  });
});

describe('one context, one owner (fail closed)', () => {
  it('a lost acknowledgement deletes the sender context: SEC_E_CONTEXT_EXPIRED', async () => {
    const h = await establish();
    const child = spawnChild('raw-exit-on-envelope');
    const e = await rejection(api.sendContext(child, h.server, { timeoutMs: 20_000 }));
    expect(e.code).toBe('SEC_E_CONTEXT_EXPIRED');
    expect(e.message).toMatch(/gone from this process, and the receiver may hold it/);
    expectGone(h);
    h.close();
  });

  it('a time-out after the envelope left deletes the sender context: SEC_E_CONTEXT_EXPIRED', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    let took = 0;
    rawReceiver(port2, () => took++); // takes the envelope, never answers
    const e = await rejection(api.sendContext(port1, h.server, { timeoutMs: 200 }));
    expect(took).toBe(1);
    expect(e.code).toBe('SEC_E_CONTEXT_EXPIRED');
    expect(e.message).toMatch(/no acknowledgement.*gone from this process/);
    expectGone(h);
    port1.close();
    h.close();
  });

  it('a time-out before any receiver listened keeps the context', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    port2.on('message', () => undefined); // a port nobody answers on
    const e = await rejection(api.sendContext(port1, h.server, { timeoutMs: 100 }));
    expect(e.code).toBe('SEC_E_CONTEXT_EXPIRED');
    expect(e.message).toMatch(/still here/);
    expectKept(h);
    port1.close();
    h.close();
  });

  it('with two receiveContext() calls in flight, one transfer reaches exactly one receiver', async () => {
    const child = spawnChild('two-receivers');
    const events: Array<{ kind: string; which: number; clientName?: string; code?: string }> = [];
    child.on('message', (m: { kind?: string }) => (m?.kind === 'imported' || m?.kind === 'failed') && events.push(m as never));
    const first = await establish();
    await api.sendContext(child, first.server);
    expectGone(first);
    const second = await establish();
    await api.sendContext(child, second.server);
    expectGone(second);
    // Both settled: each listener took exactly one envelope, and neither failed.
    await new Promise<void>((resolve) => (events.length >= 2 ? resolve() : child.on('message', () => events.length >= 2 && resolve())));
    expect(events.map((e) => e.kind)).toEqual(['imported', 'imported']);
    expect(events.map((e) => e.which).sort()).toEqual([0, 1]);
    first.close();
    second.close();
  });

  it('never keeps a context that another process imported, even when a refusal races the result', async () => {
    const h = await establish();
    const child = spawnChild('receive-and-echo-refusal');
    const imported = next<{ clientName: string }>(child, 'imported');
    const outcome = await api.sendContext(child, h.server).then(
      () => 'resolved',
      (e: InstanceType<typeof api.SspiError>) => e.code,
    );
    // Whichever answer came first, the receiver holds the context and the sender does not.
    expect((await imported).clientName).toBe('CONTOSO\\alice');
    expect(['resolved', 'SEC_E_INVALID_TOKEN']).toContain(outcome);
    expectGone(h);
    const answer = next<{ plaintext: string }>(child, 'plaintext');
    child.send({ sealed: h.client.encrypt(Buffer.from('only there')).toString('base64') });
    expect((await answer).plaintext).toBe('only there');
    h.close();
  });

  it('a receiver that withdrew is not sent to: its Hello is dropped', async () => {
    const h1 = await establish();
    const worker = spawnWorker('expire-then-receive', '50');
    const first = next(worker, 'first');
    await api.sendContext(worker, h1.server); // the sender now listens on this worker between transfers
    await first;
    const expired = await next<{ code: string }>(worker, 'expired');
    expect(expired.code).toBe('SEC_E_CONTEXT_EXPIRED');
    const h2 = await establish();
    const imported = next<{ clientName: string }>(worker, 'imported');
    worker.postMessage({ kind: 'go' });
    await api.sendContext(worker, h2.server, { timeoutMs: 20_000 });
    expect((await imported).clientName).toBe('CONTOSO\\alice');
    h1.close();
    h2.close();
  });

  it('a refused transfer cannot give the sender its context back (DELETE_OLD), and says so', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    rawReceiver(port2, (m) => port2.postMessage({ type: 'sspi-context/result', ok: false, listener: m.listener, transfer: m.transfer, status: 0x80090308 }));
    const e = await rejection(api.sendContext(port1, h.server));
    expect(e.code).toBe('SEC_E_INVALID_TOKEN');
    expect(e.operation).toBe('SendContext');
    expect(e.message).toMatch(/refused.*exported with DELETE_OLD and is gone/);
    expectGone(h);
    port1.close();
    h.close();
  });

  it('refuses deleteOld: false (a handoff moves the context) before anything is sent', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    let messages = 0;
    port2.on('message', () => messages++);
    const e = await rejection(api.sendContext(port1, h.server, { deleteOld: false }));
    expect(e.code).toBe('SEC_E_INVALID_PARAMETER');
    expect(messages).toBe(0);
    expectKept(h);
    port1.close();
    h.close();
  });
});

describe('every failure is an SspiError', () => {
  const badKeys: Array<[string, unknown]> = [
    ['malformed', 'not-a-key'],
    ['small-order (all zero)', Buffer.alloc(32).toString('base64url')],
    // u = 1 is a point of order 4 (RFC 7748 §6.1 / cr.yp.to/ecdh.html): the shared secret is 0
    ['small-order (u = 1)', Buffer.from([1, ...Buffer.alloc(31)]).toString('base64url')],
    ['8 MB', 'A'.repeat(8 * 1024 * 1024)],
    ['an object', { kty: 'OKP' }],
  ];

  for (const [label, publicKey] of badKeys) {
    it(`a ${label} peer public key gives SEC_E_INVALID_TOKEN, and the context is kept`, async () => {
      const h = await establish();
      const { port1, port2 } = new MessageChannel();
      let envelopes = 0;
      rawReceiver(port2, () => envelopes++, { publicKey });
      const e = await rejection(api.sendContext(port1, h.server));
      expect(e.code).toBe('SEC_E_INVALID_TOKEN');
      expect(e.message).not.toMatch(/OSSL|error:|ERR_/);
      expect(envelopes).toBe(0);
      expectKept(h);
      port1.close();
      h.close();
    });
  }

  it('a bad sender public key in the envelope gives the receiver SEC_E_INVALID_TOKEN, and the sender a status only', async () => {
    const { port1, port2 } = new MessageChannel();
    const received = api.receiveContext({ from: port2 });
    const hello = await new Promise<{ listener: string }>((resolve) => port1.once('message', resolve));
    const answer = new Promise<Record<string, unknown>>((resolve) => port1.once('message', resolve));
    const transfer = hexId();
    port1.postMessage({ type: 'sspi-context/envelope', listener: hello.listener, transfer, publicKey: Buffer.alloc(32).toString('base64url'), envelope: 'AAAA' });
    const e = await rejection(received);
    expect(e.code).toBe('SEC_E_INVALID_TOKEN');
    expect(await answer).toEqual({ type: 'sspi-context/result', ok: false, listener: hello.listener, transfer, status: 0x80090308 });
    port1.close();
  });

  const statuses: Array<[string, unknown, string]> = [
    ['0', 0, 'SEC_E_INTERNAL_ERROR'],
    ['NaN', NaN, 'SEC_E_INTERNAL_ERROR'],
    ['an object', { status: 0x80090308 }, 'SEC_E_INTERNAL_ERROR'],
    ['a string', 'SEC_E_INVALID_TOKEN', 'SEC_E_INTERNAL_ERROR'],
    ['a success code (SEC_I_CONTINUE_NEEDED)', 0x00090312, 'SEC_E_INTERNAL_ERROR'],
    ['a failure code', 0x8009030c, 'SEC_E_LOGON_DENIED'],
    ['a failure code as a signed int32', 0x80090308 | 0, 'SEC_E_INVALID_TOKEN'],
  ];
  for (const [label, status, code] of statuses) {
    it(`a refusal whose status is ${label} gives ${code}`, async () => {
      const h = await establish();
      const { port1, port2 } = new MessageChannel();
      rawReceiver(port2, (m) => port2.postMessage({ type: 'sspi-context/result', ok: false, listener: m.listener, transfer: m.transfer, status }));
      expect((await rejection(api.sendContext(port1, h.server))).code).toBe(code);
      port1.close();
      h.close();
    });
  }

  it("never copies the peer's detail text into the error (log injection)", async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    const detail = 'INJECTED\n2026-01-01 admin logged in';
    rawReceiver(port2, (m) => port2.postMessage({ type: 'sspi-context/result', ok: false, listener: m.listener, transfer: m.transfer, status: 0x80090308, detail }));
    const e = await rejection(api.sendContext(port1, h.server));
    expect(e.message).not.toContain('INJECTED');
    expect(e.message).not.toContain('\n');
    port1.close();
    h.close();
  });

  it('an "imported" answer without a valid proof is not trusted: SEC_E_INTERNAL_ERROR, context gone', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    rawReceiver(port2, (m) => port2.postMessage({ type: 'sspi-context/result', ok: true, listener: m.listener, transfer: m.transfer, proof: 'AAAAAAAAAAAAAAAAAAAAAA' }));
    const e = await rejection(api.sendContext(port1, h.server));
    expect(e.code).toBe('SEC_E_INTERNAL_ERROR');
    expectGone(h);
    port1.close();
    h.close();
  });

  it('ignores answers for another listener or transfer', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    rawReceiver(port2, (m: RawEnvelope) => {
      port2.postMessage({ type: 'sspi-context/result', ok: false, listener: hexId(), transfer: m.transfer, status: 0x80090308 });
      port2.postMessage({ type: 'sspi-context/result', ok: false, listener: m.listener, transfer: hexId(), status: 0x80090308 });
      port2.postMessage({ type: 'sspi-context/result', ok: false, listener: m.listener, transfer: m.transfer, status: 0x8009030c });
    });
    expect((await rejection(api.sendContext(port1, h.server))).code).toBe('SEC_E_LOGON_DENIED');
    port1.close();
    h.close();
  });
});

describe('options', () => {
  it('timeoutMs Infinity and 0 wait without limit (no 1 ms TimeoutOverflowWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      for (const timeoutMs of [Infinity, 0]) {
        const h = await establish();
        const { port1, port2 } = new MessageChannel();
        const sent = api.sendContext(port1, h.server, { timeoutMs });
        await new Promise((r) => setTimeout(r, 50)); // longer than the 1 ms the overflow gave
        const received = api.receiveContext({ from: port2, timeoutMs });
        await sent;
        const ctx = await received;
        expect(ctx.names.clientName).toBe('CONTOSO\\alice');
        ctx.close();
        port1.close();
        h.close();
      }
      const { port1, port2 } = new MessageChannel();
      const waiting = api.receiveContext({ from: port2, timeoutMs: Infinity });
      await new Promise((r) => setTimeout(r, 50));
      port1.close(); // only the channel ends it
      expect((await rejection(waiting)).code).toBe('SEC_E_INCOMPLETE_MESSAGE');
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('refuses bad options and targets with SEC_E_INVALID_PARAMETER, keeping the context', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    const child = spawnChild('receive-expect-failure', '20000');
    for (const timeoutMs of [-1, NaN, '10', 2 ** 31, -Infinity]) {
      expect((await rejection(api.sendContext(port1, h.server, { timeoutMs: timeoutMs as number }))).code).toBe('SEC_E_INVALID_PARAMETER');
      expect((await rejection(api.receiveContext({ from: port2, timeoutMs: timeoutMs as number }))).code).toBe('SEC_E_INVALID_PARAMETER');
    }
    for (const ttlMs of [0, -5, 1e20, NaN]) {
      expect((await rejection(api.sendContext(port1, h.server, { ttlMs }))).code).toBe('SEC_E_INVALID_PARAMETER');
    }
    expect((await rejection(api.sendContext(child, h.server, { targetPid: 1 }))).code).toBe('SEC_E_INVALID_PARAMETER');
    for (const target of [null, {}, 42, { postMessage() {} }]) {
      expect((await rejection(api.sendContext(target as never, h.server))).code).toBe('SEC_E_INVALID_PARAMETER');
    }
    expect((await rejection(api.sendContext(port1, {} as never))).code).toBe('SEC_E_INVALID_PARAMETER');
    expectKept(h);
    h.server.close();
    expect((await rejection(api.sendContext(port1, h.server))).code).toBe('SEC_E_INVALID_HANDLE');
    port1.close();
    h.close();
  });

  it('refuses a second sendContext of a context already being sent', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    const first = api.sendContext(port1, h.server);
    expect((await rejection(api.sendContext(port1, h.server))).code).toBe('SEC_E_INVALID_PARAMETER');
    const ctx = await api.receiveContext({ from: port2 });
    await first;
    ctx.close();
    port1.close();
    h.close();
  });
});

describe('NODE_DEBUG=sspi-context', () => {
  it('logs the handoff steps and no key, envelope or packed bytes', async () => {
    const child = spawn(process.execPath, [CHILD, apiPath, 'debug-roundtrip'], { env: { ...env, NODE_DEBUG: 'sspi-context' }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const done = next(child, 'done');
    await done;
    await new Promise((resolve) => child.once('exit', resolve));
    expect(err).toMatch(/SSPI-CONTEXT \d+: send [0-9a-f]{8}: listener [0-9a-f]{8}/);
    expect(err).toMatch(/send [0-9a-f]{8}: sealed for pid \d+, \d+ bytes/);
    expect(err).toMatch(/receive [0-9a-f]{8}: imported/);
    expect(err).toMatch(/send [0-9a-f]{8}: imported/);
    // Keys are 43 base64url characters and envelopes far longer: no transfer line holds anything of that shape.
    const lines = err.split('\n').filter((l) => / (send|receive) [0-9a-f]{8}: /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const l of lines) expect(l).not.toMatch(/[A-Za-z0-9+/_-]{24,}/);
  });
});

it('rawPublicKey makes real 32-byte keys (the by-hand peers above use them)', () => {
  expect(Buffer.from(rawPublicKey(), 'base64url')).toHaveLength(32);
});
