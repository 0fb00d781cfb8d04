import { randomBytes } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, establish } from '../helpers/handshake.js';
import { next, rejection, spawnChild, spawnWorker } from './helpers.js';

beforeAll(() => api.setBackend('fallback'));

describe('sendContext / receiveContext', () => {
  it('hands a context to a child process over IPC, and the context moves', async () => {
    const h = await establish();
    const child = spawnChild('receive');
    const imported = next<{ clientName: string; pid: number }>(child, 'imported');
    const sealed = h.client.encrypt(Buffer.from('before the handoff'));
    await api.sendContext(child, h.server);
    expect(h.server.isEstablished).toBe(false); // DELETE_OLD: the context moved
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
    const worker = spawnWorker('receive');
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
    await api.sendContext(port1, h.server);
    const ctx = await received;
    expect(ctx.names.clientName).toBe('CONTOSO\\alice');
    expect(h.server.isEstablished).toBe(false);
    expect(ctx.decrypt(h.client.encrypt(Buffer.from('port')))).toEqual(Buffer.from('port'));
    ctx.close();
    port1.close();
    h.close();
  });

  it('takes a context from a child that sends it to its parent (bound to this pid, the channel peer)', async () => {
    const child = spawnChild('send-to-parent');
    const sent = next<{ closedHere: boolean; sealed: string }>(child, 'sent');
    const ctx = await api.receiveContext({ from: child });
    expect(ctx.names.clientName).toBe('CONTOSO\\alice');
    const s = await sent;
    expect(s.closedHere).toBe(true);
    expect(ctx.decrypt(Buffer.from(s.sealed, 'base64')).toString()).toBe('from the child');
    ctx.close();
  });

  it('sends several contexts in a row to one child that listens again after each', async () => {
    const child = spawnChild('receive-loop', '3');
    const seen: number[] = [];
    child.on('message', (m: { kind?: string; i?: number }) => m?.kind === 'imported' && seen.push(m.i!));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 3; i++) {
      const h = await establish();
      await api.sendContext(child, h.server);
      expect(h.server.isEstablished).toBe(false);
      h.close();
    }
    await exited;
    expect(seen).toEqual([0, 1, 2]);
  });

  it('fails with SEC_E_INCOMPLETE_MESSAGE when the receiver vanishes before listening, and keeps the context', async () => {
    const h = await establish();
    const child = spawnChild('raw-exit-on-solicit');
    await next(child, 'ready');
    const e = await rejection(api.sendContext(child, h.server));
    expect(e.code).toBe('SEC_E_INCOMPLETE_MESSAGE');
    expect(e.message).toMatch(/still here/);
    // Nothing was exported: the context is still usable here.
    expect(h.server.isEstablished).toBe(true);
    expect(h.server.decrypt(h.client.encrypt(Buffer.from('mine')))).toEqual(Buffer.from('mine'));
    h.close();
  });

  it('times out with SEC_E_CONTEXT_EXPIRED when nobody sends', async () => {
    const child = spawnChild('receive-expect-failure', '300');
    expect((await next<{ code: string }>(child, 'code')).code).toBe('SEC_E_CONTEXT_EXPIRED');
  });

  it('fails in the receiver with SEC_E_INCOMPLETE_MESSAGE when the sender disconnects', async () => {
    const child = spawnChild('receive-expect-failure', '20000', { stdout: 'pipe' });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await new Promise<void>((resolve) => child.once('message', () => resolve())); // its Hello: it is listening
    child.disconnect();
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out.trim()).toBe('CODE=SEC_E_INCOMPLETE_MESSAGE');
  });
});

describe('envelope refusals in a separate process', () => {
  async function attempts(pidFor: (pid: number) => Promise<Array<{ envelope: Buffer; key?: Buffer; delayMs?: number }>>): Promise<string[]> {
    const child = spawnChild('envelope');
    const ready = await next<{ pid: number }>(child, 'ready');
    const items = await pidFor(ready.pid);
    const codes = next<{ codes: string[] }>(child, 'codes');
    child.send({ attempts: items.map((a) => ({ envelope: a.envelope.toString('base64'), key: a.key?.toString('base64'), delayMs: a.delayMs })) });
    return (await codes).codes;
  }

  it('refuses expired, wrong pid, second import, wrong key and a bit flip', async () => {
    const h = await establish();
    const key = randomBytes(32);
    const codes = await attempts(async (pid) => {
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
