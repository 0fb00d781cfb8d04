import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, apiPath, establish } from '../helpers/handshake.js';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const env = { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' };
const live: Array<ChildProcess | Worker> = [];

beforeAll(() => api.setBackend('fallback'));
afterEach(async () => {
  for (const p of live.splice(0)) {
    if (p instanceof Worker) await p.terminate();
    else if (p.exitCode === null) p.kill();
  }
});

function spawnChild(mode: string, ...extra: string[]): ChildProcess {
  const p = fork(CHILD, [apiPath, mode, ...extra], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.push(p);
  return p;
}

function next<T = Record<string, unknown>>(t: ChildProcess | Worker, kind: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { kind?: string; error?: string }) => {
      if (m?.kind === 'error') reject(new Error(m.error));
      else if (m?.kind === kind) {
        t.off('message', on);
        resolve(m as T);
      }
    };
    t.on('message', on);
  });
}

async function sspiCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(api.SspiError);
    return (e as InstanceType<typeof api.SspiError>).code;
  }
}

describe('sendContext / receiveContext', () => {
  it('hands a context to a child process over IPC', async () => {
    const h = await establish();
    const child = spawnChild('receive');
    const imported = next<{ clientName: string; pid: number }>(child, 'imported');
    const sealed = h.client.encrypt(Buffer.from('before the handoff'));
    await api.sendContext(child, h.server);
    expect(h.server.isEstablished).toBe(false); // deleteOld by default: the context moved
    const r = await imported;
    expect(r.clientName).toBe('CONTOSO\\alice');
    expect(r.pid).toBe(child.pid);
    const answer = next<{ plaintext: string; reply: string }>(child, 'plaintext');
    child.send({ sealed: sealed.toString('base64') });
    const a = await answer;
    expect(a.plaintext).toBe('before the handoff');
    expect(h.client.decrypt(Buffer.from(a.reply, 'base64')).toString()).toBe('ack');
    h.close();
  });

  it('hands a context to a worker thread', async () => {
    const h = await establish();
    const worker = new Worker(CHILD, { workerData: { apiPath, mode: 'receive' }, env });
    live.push(worker);
    const imported = next<{ clientName: string; pid: number }>(worker, 'imported');
    await api.sendContext(worker, h.server);
    const r = await imported;
    expect(r.clientName).toBe('CONTOSO\\alice');
    expect(r.pid).toBe(process.pid);
    const answer = next<{ plaintext: string }>(worker, 'plaintext');
    worker.postMessage({ sealed: h.client.encrypt(Buffer.from('to the thread')).toString('base64') });
    expect((await answer).plaintext).toBe('to the thread');
    h.close();
  });

  it('hands a context over a MessagePort', async () => {
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    const received = api.receiveContext({ from: port2 });
    await api.sendContext(port1, h.server, { deleteOld: false });
    const ctx = await received;
    expect(ctx.names.clientName).toBe('CONTOSO\\alice');
    expect(h.server.isEstablished).toBe(true);
    expect(ctx.decrypt(h.client.encrypt(Buffer.from('port')))).toEqual(Buffer.from('port'));
    ctx.close();
    port1.close();
    h.close();
  });

  it('fails with SEC_E_INCOMPLETE_MESSAGE when the receiver vanishes mid-transfer, and keeps the context', async () => {
    const h = await establish();
    const child = spawnChild('drop-after-offer');
    await next(child, 'ready');
    expect(await sspiCode(api.sendContext(child, h.server))).toBe('SEC_E_INCOMPLETE_MESSAGE');
    // The export never happened: the context is still usable here.
    expect(h.server.isEstablished).toBe(true);
    h.close();
  });

  it('times out with SEC_E_CONTEXT_EXPIRED when nobody sends', async () => {
    const child = spawnChild('receive-expect-failure', '300');
    expect((await next<{ code: string }>(child, 'code')).code).toBe('SEC_E_CONTEXT_EXPIRED');
  });

  it('fails in the receiver with SEC_E_INCOMPLETE_MESSAGE when the sender disconnects mid-transfer', async () => {
    const child = fork(CHILD, [apiPath, 'receive-expect-failure', '20000'], { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    live.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    // Offer a transfer so the receiver is waiting for the envelope, then drop the channel.
    const { publicKey } = (await import('node:crypto')).generateKeyPairSync('x25519');
    child.send({ type: 'sspi-context/offer', id: randomBytes(16).toString('hex'), publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') });
    await new Promise<void>((resolve) => child.once('message', () => resolve())); // the receiver's accept
    child.disconnect();
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out.trim()).toBe('CODE=SEC_E_INCOMPLETE_MESSAGE');
  });
});

describe('envelope refusals in a separate process', () => {
  async function attempts(list: Array<{ envelope: Buffer; key?: Buffer; delayMs?: number }>, pidFor?: (pid: number) => Promise<Array<{ envelope: Buffer; key?: Buffer; delayMs?: number }>>): Promise<string[]> {
    const child = spawnChild('envelope');
    const ready = await next<{ pid: number }>(child, 'ready');
    const items = pidFor ? await pidFor(ready.pid) : list;
    const codes = next<{ codes: string[] }>(child, 'codes');
    child.send({ attempts: items.map((a) => ({ envelope: a.envelope.toString('base64'), key: a.key?.toString('base64'), delayMs: a.delayMs })) });
    return (await codes).codes;
  }

  it('refuses expired, wrong pid, second import, wrong key and a bit flip', async () => {
    const h = await establish();
    const key = randomBytes(32);
    const codes = await attempts([], async (pid) => {
      const exp = await h.server.export();
      const expired = api.encodeHandoff(exp, { key, targetPid: pid, ttlMs: 1 });
      await new Promise((r) => setTimeout(r, 20));
      const otherPid = api.encodeHandoff(exp, { key, targetPid: process.pid });
      const good = api.encodeHandoff(exp, { key, targetPid: pid });
      const flipped = Buffer.from(api.encodeHandoff(exp, { key, targetPid: pid }));
      flipped[flipped.length - 30]! ^= 0x01;
      const flippedHeader = Buffer.from(api.encodeHandoff(exp, { key, targetPid: pid }));
      flippedHeader[45]! ^= 0x80; // target pid byte, authenticated as associated data
      return [
        { envelope: expired, key },
        { envelope: otherPid, key },
        { envelope: good, key: randomBytes(32) },
        { envelope: flipped, key },
        { envelope: flippedHeader, key },
        { envelope: good, key },
        { envelope: good, key },
      ];
    });
    expect(codes).toEqual([
      'SEC_E_CONTEXT_EXPIRED',
      'SEC_E_WRONG_PRINCIPAL',
      'SEC_E_DECRYPT_FAILURE',
      'SEC_E_DECRYPT_FAILURE',
      'SEC_E_DECRYPT_FAILURE',
      'imported',
      'SEC_E_OUT_OF_SEQUENCE',
    ]);
    h.close();
  });
});

describe('a refused transfer keeps the sender its context', () => {
  it('rejects with the receiver status, and the context still works', async () => {
    const crypto = await import('node:crypto');
    const h = await establish();
    const { port1, port2 } = new MessageChannel();
    // A receiver that speaks the protocol and then refuses the envelope.
    port2.on('message', (m: { type: string; id: string }) => {
      if (m.type === 'sspi-context/offer') {
        const { publicKey } = crypto.generateKeyPairSync('x25519');
        port2.postMessage({ type: 'sspi-context/accept', id: m.id, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), pid: process.pid });
      } else if (m.type === 'sspi-context/envelope') {
        port2.postMessage({ type: 'sspi-context/result', id: m.id, ok: false, status: 0x80090308, detail: 'SEC_E_INVALID_TOKEN' });
      }
    });
    const err = await api.sendContext(port1, h.server).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(api.SspiError);
    expect((err as InstanceType<typeof api.SspiError>).code).toBe('SEC_E_INVALID_TOKEN');
    expect(h.server.isEstablished).toBe(true);
    expect(h.server.decrypt(h.client.encrypt(Buffer.from('still mine')))).toEqual(Buffer.from('still mine'));
    port1.close();
    h.close();
  });
});
