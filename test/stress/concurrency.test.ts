// Concurrency: many handshakes interleaved on one event loop against one
// server credential, and handshake/export/import cycles in worker threads,
// some of them terminated mid-run. No timing assertions.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';

api.setBackend('fallback');

const DOMAIN = 'STRESS';
const N = 1000;

/** Yield to the event loop a random number of times, so the handshakes interleave in random order. */
async function jitter(): Promise<void> {
  const n = Math.floor(Math.random() * 4);
  for (let k = 0; k < n; k++) await new Promise((r) => setImmediate(r));
}

describe('concurrency', () => {
  it(`${N} handshakes at once against one server credential, each naming its own client`, async () => {
    const users = Array.from({ length: N }, (_, i) => ({ domain: DOMAIN, user: `user${String(i).padStart(4, '0')}`, password: `pw-${i}-${i * 7919}` }));
    const serverCred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users });
    const clientCreds = await Promise.all(users.map((identity) => api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity })));

    const pairs = await Promise.all(
      users.map(async (_, i) => {
        await jitter();
        const client = new api.ClientContext(clientCreds[i]!, { target: `HOST/stress${i}` });
        const server = new api.ServerContext(serverCred);
        const negotiate = await client.step();
        await jitter();
        const challenge = await server.step(negotiate.token);
        await jitter();
        const authenticate = await client.step(challenge.token);
        await jitter();
        const last = await server.step(authenticate.token);
        expect(authenticate.done && last.done).toBe(true);
        return { i, client, server };
      }),
    );

    // Every server context names the client that authenticated to it.
    for (const { i, server } of pairs) expect(server.names.clientName).toBe(`${DOMAIN}\\${users[i]!.user}`);

    // Keys are per pair: each pair talks, and a message from another pair's client is rejected.
    for (const { i, client, server } of pairs) {
      const msg = Buffer.from(`hello from ${i}`);
      expect(server.decrypt(client.encrypt(msg)).equals(msg)).toBe(true);
      expect(client.decrypt(server.encrypt(msg)).equals(msg)).toBe(true);
    }
    // Cross-talk probe on 50 disjoint pairs (a, b), which are then retired:
    // a rejected message consumes the receiver's slot, as in SSPI.
    const shuffled = [...pairs].sort(() => Math.random() - 0.5);
    const retired = new Set<number>();
    for (let k = 0; k < 50; k++) {
      const a = shuffled[2 * k]!;
      const b = shuffled[2 * k + 1]!;
      expect(() => a.server.decrypt(b.client.encrypt(Buffer.from('cross-talk')))).toThrow(api.SspiError);
      for (const p of [a, b]) {
        retired.add(p.i);
        p.client.close();
        p.server.close();
      }
    }
    const live = pairs.filter((p) => !retired.has(p.i));
    expect(live.length).toBe(N - 100);

    // Export+import all of them at once, too.
    const imported = await Promise.all(live.map(async (p) => ({ ...p, ctx: await api.importContext(await p.server.export({ deleteOld: true })) })));
    for (const { i, ctx, client } of imported) {
      expect(ctx.names.clientName).toBe(`${DOMAIN}\\${users[i]!.user}`);
      const msg = Buffer.from(`after import ${i}`);
      expect(ctx.decrypt(client.encrypt(msg)).equals(msg)).toBe(true);
      ctx.close();
      client.close();
    }
    for (const c of clientCreds) c.close();
    serverCred.close();
  });

  it('8 worker threads x 500 handshake/export/import cycles, 3 terminated mid-run; survivors finish correctly', async () => {
    const script = fileURLToPath(new URL('./cycle-worker.mjs', import.meta.url));
    const CYCLES = 500;
    const victims = new Set([1, 4, 6]);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) => {
        // Victims die somewhere in the middle: after 50..400 cycles.
        const killAt = victims.has(index) ? 50 + 25 * Math.floor(Math.random() * 15) : Infinity;
        return new Promise<{ index: number; done: number; progress: number; error?: string; code: number; terminated: boolean }>((resolve) => {
          const w = new Worker(script, { workerData: { index, cycles: CYCLES, usersPerWorker: 7 } });
          let done = 0;
          let progress = 0;
          let error: string | undefined;
          let terminated = false;
          w.on('message', (m: { progress?: number; done?: number }) => {
            if (m.done) done = m.done;
            if (m.progress) {
              progress = m.progress;
              if (progress >= killAt && !terminated) {
                terminated = true;
                void w.terminate();
              }
            }
          });
          w.on('error', (e) => (error = e.stack ?? String(e)));
          w.on('exit', (code) => resolve({ index, done, progress, code, terminated, ...(error ? { error } : {}) }));
        });
      }),
    );
    for (const o of outcomes) {
      expect(o.error, `worker ${o.index}`).toBeUndefined();
      if (victims.has(o.index) && o.terminated && o.done === 0) {
        expect(o.code).toBe(1); // terminated mid-run
      } else {
        // A survivor (or a victim that finished before terminate() landed).
        expect(o.done, `worker ${o.index}`).toBe(CYCLES);
        expect(o.code).toBe(0);
      }
    }
    expect(outcomes.filter((o) => o.terminated && o.done === 0).length).toBeGreaterThan(0);
    // And this thread still works.
    const { establish } = await import('../helpers/handshake.js');
    const h = await establish();
    expect(h.server.names.clientName).toBe('CONTOSO\\alice');
    h.close();
  });
});
