// ContextPool with both kinds of worker (forked processes and worker threads):
// real NTLM contexts (the fallback package) move to the workers through
// sendContext; the worker module is test/pool/worker.cjs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, apiPath, establish } from '../helpers/handshake.js';

type Pool = InstanceType<typeof api.ContextPool>;
type Kind = 'process' | 'thread';

const WORKER = fileURLToPath(new URL('./worker.cjs', import.meta.url));
const env = { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' };
const CLIENT_NAME = 'CONTOSO\\alice';
const pools: Pool[] = [];
const pairs: Array<{ close(): void }> = [];
let dir: string;

beforeAll(() => {
  api.setBackend('fallback');
  dir = mkdtempSync(join(tmpdir(), 'sspi-pool-'));
  writeFileSync(join(dir, 'exits.cjs'), 'process.exit(3);\n');
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close({ timeoutMs: 2_000 })));
  for (const p of pairs.splice(0)) p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newPool(kind: Kind, options: Partial<ConstructorParameters<typeof api.ContextPool>[1]> = {}): Pool {
  const pool = new api.ContextPool(WORKER, { size: 1, kind, args: [apiPath], env, ...options });
  pools.push(pool);
  return pool;
}

async function context() {
  const pair = await establish();
  pairs.push(pair);
  return pair;
}

/** The SspiError a promise rejects with (the test fails if it resolves or rejects with anything else). */
async function rejection(p: Promise<unknown>): Promise<InstanceType<typeof api.SspiError>> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(api.SspiError);
    return e as InstanceType<typeof api.SspiError>;
  }
  throw new Error('expected a rejection');
}

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};
let fileSeq = 0;
const tempFile = (name: string) => join(dir, `${name}-${++fileSeq}`);

/** Resolves once the worker's handler logged its job (bounded wait, no timing asserted). */
async function handlerEntered(log: string): Promise<void> {
  for (let i = 0; i < 2_000 && lines(log).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(lines(log)).toHaveLength(1);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(['process', 'thread'] as const)('ContextPool, kind %s', (kind) => {
  /** Where a result came from, compared by the worker's identity for this kind. */
  const workerId = (r: { pid: number; threadId: number }) => (kind === 'process' ? r.pid : r.threadId);

  it('moves the context to a worker, which unseals and seals with it, and resolves to the typed result', async () => {
    const pool = newPool(kind, { size: 2 });
    const { client, server } = await context();
    const sealed = client.encrypt(Buffer.from('to the worker')).toString('base64');
    const r = (await pool.run(server, { action: 'seal', sealed })) as { clientName: string; pid: number; threadId: number; plain: string; sealed: string };
    expect(r.clientName).toBe(CLIENT_NAME);
    expect(r.plain).toBe('to the worker');
    expect(client.decrypt(Buffer.from(r.sealed, 'base64')).toString()).toBe('ack to the worker');
    expect(server.isEstablished).toBe(false); // it moved: the pool's process holds it no more
    if (kind === 'process') expect(r.pid).not.toBe(process.pid);
    else expect([r.pid, r.threadId === 0]).toEqual([process.pid, false]);
  });

  it('structured-clones jobs and results both ways', async () => {
    const pool = newPool(kind);
    const { server } = await context();
    const job = { action: 'echo', nested: { list: [1, 'two', null], when: new Date(0) } };
    const r = (await pool.run(server, job)) as { job: typeof job; bytes: Uint8Array; map: Map<string, number> };
    expect(r.job).toEqual(job);
    expect(r.job.nested.when).toBeInstanceOf(Date);
    expect(Buffer.from(r.bytes).toString()).toBe('abc');
    expect(r.map).toBeInstanceOf(Map);
    expect([...r.map]).toEqual([['k', 1]]);
  });

  it('a worker killed in the handler (the context had left): the job fails with an SspiError, is not retried, and the worker is replaced', async () => {
    const exits: Array<{ pid: number | undefined; reason: string; replacementPid: number | undefined }> = [];
    const pool = newPool(kind, { onWorkerExit: (e: (typeof exits)[number]) => exits.push(e) });
    const log = tempFile('die');
    const { server } = await context();
    const err = await rejection(pool.run(server, { action: 'die', log }));
    expect([err.code, err.operation]).toEqual(['SEC_E_INCOMPLETE_MESSAGE', 'ContextPool']);
    expect(lines(log)).toHaveLength(1); // the handler ran once: no second attempt
    expect(server.isEstablished).toBe(false);
    expect(exits).toHaveLength(1);
    expect(exits[0]!.reason).toBe(kind === 'process' ? 'SIGKILL' : 'exit 1');
    // The replacement serves the next job.
    const next = await context();
    const r = (await pool.run(next.server, { action: 'echo' })) as { clientName: string; pid: number; threadId: number };
    expect(r.clientName).toBe(CLIENT_NAME);
    expect(pool.stats().restarts).toBe(1);
    const dead = lines(log)[0]!.split(' ')[1]!.split('/').map(Number);
    expect(workerId(r)).not.toBe(kind === 'process' ? dead[0] : dead[1]);
    if (kind === 'process') expect(r.pid).toBe(exits[0]!.replacementPid);
  });

  it('a worker killed before the context left: the job is retried on the restarted worker and succeeds', async () => {
    const pool = newPool(kind);
    const marker = tempFile('marker');
    const log = tempFile('retry');
    const { client, server } = await context();
    const r = (await pool.run(server, { action: 'die-on-announce', marker, log })) as { clientName: string; pid: number; threadId: number; attemptId: number };
    expect(r.clientName).toBe(CLIENT_NAME);
    expect(readFileSync(marker, 'utf8')).not.toBe(''); // the first worker did die on the job
    expect(lines(log)).toHaveLength(1); // only the second attempt reached the handler
    expect(r.attemptId).toBe(2);
    expect(pool.stats().restarts).toBe(1);
    if (kind === 'process') expect(r.pid).not.toBe(Number(readFileSync(marker, 'utf8')));
    expect(server.isEstablished).toBe(false);
    client.close();
  });

  it('a worker killed after the envelope left: the transfer\'s SspiError, not retried, the worker replaced', async () => {
    const pool = newPool(kind);
    const marker = tempFile('marker');
    const log = tempFile('gone');
    await pool.run((await context()).server, { action: 'echo' }); // the pool now holds this worker's next Hello
    const { server } = await context();
    const err = await rejection(pool.run(server, { action: 'die-on-announce', marker, log }));
    expect(err.operation).toBe('SendContext');
    expect(err.message).toMatch(/DELETE_OLD/); // the transfer says the context is gone
    expect(server.isEstablished).toBe(false);
    expect(lines(log)).toEqual([]); // no handler ran it, and no second attempt
    const next = await context();
    expect(((await pool.run(next.server, { action: 'echo' })) as { clientName: string }).clientName).toBe(CLIENT_NAME);
    expect(pool.stats().restarts).toBe(1);
  });

  it('maxQueue: beyond it run() rejects with SEC_E_INSUFFICIENT_MEMORY and the context stays with the caller', async () => {
    const pool = newPool(kind, { maxQueue: 2 });
    const ctxs = await Promise.all([context(), context(), context(), context()]);
    // The worker is still starting: every job waits in the queue.
    const first = [pool.run(ctxs[0]!.server, { action: 'echo' }), pool.run(ctxs[1]!.server, { action: 'echo' })];
    const full = await rejection(pool.run(ctxs[2]!.server, { action: 'echo' }));
    expect([full.code, full.operation]).toEqual(['SEC_E_INSUFFICIENT_MEMORY', 'ContextPool']);
    expect(ctxs[2]!.server.isEstablished).toBe(true);
    for (const r of await Promise.all(first)) expect((r as { clientName: string }).clientName).toBe(CLIENT_NAME);
    // With the worker idle: one job in flight and two queued fit; a fourth does not.
    const more = await Promise.all([context(), context(), context()]);
    const inFlight = pool.run(ctxs[3]!.server, { action: 'slow', ms: 50, n: 0 });
    const queued = [pool.run(more[0]!.server, { action: 'slow', ms: 0, n: 1 }), pool.run(more[1]!.server, { action: 'slow', ms: 0, n: 2 })];
    expect((await rejection(pool.run(more[2]!.server, { action: 'echo' }))).code).toBe('SEC_E_INSUFFICIENT_MEMORY');
    expect(more[2]!.server.isEstablished).toBe(true);
    expect((await Promise.all([inFlight, ...queued])).map((r) => (r as { n: number }).n)).toEqual([0, 1, 2]);
  });

  it('close() during work: accepted jobs finish, new ones are refused, the workers exit', async () => {
    const pool = newPool(kind, { size: 2 });
    const ctxs = await Promise.all(Array.from({ length: 5 }, () => context()));
    const jobs = ctxs.map((c, n) => pool.run(c.server, { action: 'slow', ms: 20, n }));
    const pids = new Set<number>();
    const closed = pool.close();
    expect(pool.state).toBe('closing');
    const late = await context();
    const refused = await rejection(pool.run(late.server, { action: 'echo' }));
    expect([refused.code, refused.operation]).toEqual(['SEC_E_SHUTDOWN_IN_PROGRESS', 'ContextPool']);
    expect(late.server.isEstablished).toBe(true);
    const results = (await Promise.all(jobs)) as Array<{ n: number; pid: number; clientName: string }>;
    expect(results.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    for (const r of results) pids.add(r.pid);
    await closed;
    expect(pool.state).toBe('closed');
    expect(pool.stats().pids).toEqual([]);
    expect(pool.close()).toBe(closed);
    if (kind === 'process') for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('close({ timeoutMs }) with a job that never ends: that job fails, the queued one is refused, close() resolves', async () => {
    const pool = newPool(kind);
    const a = await context();
    const b = await context();
    const log = tempFile('hang');
    const hung = rejection(pool.run(a.server, { action: 'hang', log }));
    const waiting = rejection(pool.run(b.server, { action: 'echo' }));
    await handlerEntered(log);
    await pool.close({ timeoutMs: 200 });
    const e1 = await hung;
    expect(e1.code).toBe('SEC_E_INCOMPLETE_MESSAGE'); // the context had left; the worker was killed
    const e2 = await waiting;
    expect(e2.code).toBe('SEC_E_SHUTDOWN_IN_PROGRESS');
    expect(b.server.isEstablished).toBe(true); // never left: still the caller's
    expect(pool.stats().pids).toEqual([]);
  });

  it('workers that exit before they are ready: the pool gives up after three starts and refuses jobs', async () => {
    const exits: string[] = [];
    // A worker module that never calls serveContexts: it exits at once.
    const pool = new api.ContextPool(join(dir, 'exits.cjs'), { size: 1, kind, env, onWorkerExit: (e: { reason: string }) => exits.push(e.reason) });
    pools.push(pool);
    const { server } = await context();
    const e = await rejection(pool.run(server, { action: 'echo' }));
    expect([e.code, e.operation]).toEqual(['SEC_E_INTERNAL_ERROR', 'ContextPool']);
    expect(exits).toEqual(['exit 3', 'exit 3', 'exit 3']);
    expect(server.isEstablished).toBe(true); // never left
    expect((await rejection(pool.run(server, { action: 'echo' }))).code).toBe('SEC_E_INTERNAL_ERROR');
    expect(pool.stats()).toMatchObject({ restarts: 2, pids: [] });
  });

  it("a handler's errors arrive as SspiErrors with status and operation, never the worker's message", async () => {
    const pool = newPool(kind);
    const secret = 'hunter2-do-not-leak';
    const t = await rejection(pool.run((await context()).server, { action: 'throw-type', secret }));
    expect([t.code, t.operation]).toEqual(['SEC_E_INTERNAL_ERROR', 'ContextPoolWorker']);
    expect(t.message).toContain('TypeError');
    const s = await rejection(pool.run((await context()).server, { action: 'throw-sspi', secret }));
    expect([s.code, s.operation]).toEqual(['SEC_E_LOGON_DENIED', 'AcceptSecurityContext']);
    const u = await rejection(pool.run((await context()).server, { action: 'uncloneable', secret }));
    expect(u.code).toBe('SEC_E_INTERNAL_ERROR');
    for (const e of [t, s, u]) expect(`${e.message} ${e.stack}`).not.toContain(secret);
    // The worker survived all three.
    const r = (await pool.run((await context()).server, { action: 'echo' })) as { clientName: string };
    expect(r.clientName).toBe(CLIENT_NAME);
    expect(pool.stats().restarts).toBe(0);
  });

  it('a job that cannot be cloned is refused before the context leaves', async () => {
    const pool = newPool(kind);
    const { server } = await context();
    await pool.run((await context()).server, { action: 'echo' }); // the worker is ready
    const e = await rejection(pool.run(server, { action: 'echo', fn: () => 1 } as unknown as object));
    expect([e.code, e.operation]).toEqual(['SEC_E_INVALID_PARAMETER', 'ContextPool']);
    expect(server.isEstablished).toBe(true);
    expect(((await pool.run(server, { action: 'echo' })) as { clientName: string }).clientName).toBe(CLIENT_NAME);
  });

  it('closes the context after the handler unless the handler kept it', async () => {
    const pool = newPool(kind);
    for (const keep of [false, true]) {
      await pool.run((await context()).server, { action: 'stash', keep });
      const r = (await pool.run((await context()).server, { action: 'stash-state' })) as { kept: boolean; stashedClientName: string | null };
      expect(r).toMatchObject({ kept: keep, stashedClientName: keep ? CLIENT_NAME : null });
    }
  });
});

describe('ContextPool input checks', () => {
  it('refuses bad options with SEC_E_INVALID_PARAMETER before starting a worker', () => {
    const bad: unknown[] = [
      { size: 0, kind: 'process' },
      { size: 1.5, kind: 'thread' },
      { size: 2, kind: 'cluster' },
      { size: 1, kind: 'thread', maxQueue: -1 },
      { size: 1, kind: 'thread', maxAttempts: 0 },
      { size: 1, kind: 'thread', timeoutMs: 0 },
      null,
    ];
    for (const o of bad) {
      let err: unknown;
      try {
        new api.ContextPool(WORKER, o as never);
      } catch (e) {
        err = e;
      }
      expect(api.isSspiError(err, 'SEC_E_INVALID_PARAMETER')).toBe(true);
    }
    let err: unknown;
    try {
      new api.ContextPool('', { size: 1, kind: 'thread' });
    } catch (e) {
      err = e;
    }
    expect(api.isSspiError(err, 'SEC_E_INVALID_PARAMETER')).toBe(true);
  });

  it('refuses a context that is not established, or is already in the pool', async () => {
    const pool = newPool('thread');
    const { server } = await context();
    const first = pool.run(server, { action: 'slow', ms: 10, n: 1 });
    expect((await rejection(pool.run(server, { action: 'echo' }))).code).toBe('SEC_E_INVALID_PARAMETER');
    await first;
    expect((await rejection(pool.run(server, { action: 'echo' }))).code).toBe('SEC_E_INVALID_HANDLE'); // it moved
    expect((await rejection(pool.run({} as never, { action: 'echo' }))).code).toBe('SEC_E_INVALID_PARAMETER');
  });

  it('serveContexts outside a pool worker is an SspiError', () => {
    // A plain process: no IPC channel, not a worker thread.
    const script = `try { require(${JSON.stringify(apiPath)}).serveContexts(async () => 1); console.log('served'); } catch (e) { console.log(e.name, e.code, e.operation); }`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(out.trim()).toBe('SspiError SEC_E_INVALID_PARAMETER ContextPoolWorker');
  });
});
