/**
 * serveContexts: the worker side of a ContextPool. For each job the pool
 * announces, receive the context (receiveContext), run the handler, answer
 * with its result, and close the context unless the handler kept it.
 */
import { isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import type { SecurityContext } from '../context.js';
import { SspiError } from '../errors.js';
import { receiveContext } from '../transfer.js';
import { MSG, WORKER_OP, describeFailure, isPoolToWorker, type PoolToWorker, type WorkerToPool } from './messages.js';

/** What the handler learns about its job besides the context. */
export interface ServeContextInfo {
  /** Keep the context: serveContexts will not close it after the handler; the handler's code must. */
  keep(): SecurityContext;
  /** This attempt's id (unique within the pool). */
  readonly attemptId: number;
}

export type ServeContextsHandler<Job = unknown, Result = unknown> = (ctx: SecurityContext, job: Job, info: ServeContextInfo) => Result | Promise<Result>;

/** The worker's state: explicit, so a job never overlaps another or a stop. */
type WorkerState = { readonly name: 'idle' } | { readonly name: 'busy'; readonly id: number } | { readonly name: 'stopping' };

interface ParentChannel {
  from: MessagePort | NodeJS.Process;
  post(m: WorkerToPool): void;
  on(l: (m: unknown) => void): void;
  exit(): never;
}

function parentChannel(): ParentChannel {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    return { from: port, post: (m) => port.postMessage(m), on: (l) => port.on('message', l), exit: () => process.exit(0) };
  }
  if (typeof process.send === 'function') {
    return {
      from: process,
      post: (m) => {
        // A vanished pool has no one to tell.
        if (process.connected) process.send!(m);
      },
      on: (l) => process.on('message', l),
      exit: () => process.exit(0),
    };
  }
  throw new SspiError('SEC_E_INVALID_PARAMETER', WORKER_OP, 'serveContexts runs in a ContextPool worker (a forked process or a worker thread)');
}

let serving = false;

/**
 * Serve the pool this worker belongs to. Call it once, at the top level of the
 * worker module. The handler's return value (structured-cloneable) is the
 * result of the pool's run(); what it throws reaches the pool as an SspiError
 * with its status and operation (SEC_E_INTERNAL_ERROR for other errors) but
 * never its message. The context is closed after the handler settles unless
 * the handler called `info.keep()`.
 */
export function serveContexts<Job = unknown, Result = unknown>(handler: ServeContextsHandler<Job, Result>): void {
  if (typeof handler !== 'function') throw new SspiError('SEC_E_INVALID_PARAMETER', WORKER_OP, 'serveContexts needs a handler function');
  if (serving) throw new SspiError('SEC_E_INVALID_PARAMETER', WORKER_OP, 'serveContexts is already serving in this worker');
  const ch = parentChannel();
  serving = true;
  let state: WorkerState = { name: 'idle' };

  const reply = (m: WorkerToPool, id: number) => {
    try {
      ch.post(m);
    } catch (e) {
      ch.post(describeFailure(e, id, 'reply'));
    }
  };

  const runJob = async (m: Extract<PoolToWorker, { type: typeof MSG.job }>, received: Promise<SecurityContext>) => {
    let ctx: SecurityContext;
    try {
      ctx = await received;
    } catch (e) {
      return describeFailure(e, m.id, 'receive');
    }
    let kept = false;
    const info: ServeContextInfo = {
      keep: () => ((kept = true), ctx),
      attemptId: m.id,
    };
    try {
      const value = await handler(ctx, m.job as Job, info);
      return { type: MSG.result, id: m.id, value } as WorkerToPool;
    } catch (e) {
      return describeFailure(e, m.id, 'handler');
    } finally {
      if (!kept) ctx.close();
    }
  };

  ch.on((m) => {
    if (!isPoolToWorker(m)) return; // the transfer's own messages
    if (m.type === MSG.stop) {
      if (state.name === 'idle') ch.exit();
      state = { name: 'stopping' };
      return;
    }
    if (state.name !== 'idle') {
      reply(describeFailure(new SspiError('SEC_E_INTERNAL_ERROR', WORKER_OP, 'busy'), m.id, 'receive'), m.id);
      return;
    }
    state = { name: 'busy', id: m.id };
    // Listen now, synchronously: the transfer's first message follows on the same channel.
    const received = receiveContext({ from: ch.from, timeoutMs: m.timeoutMs });
    void runJob(m, received).then((answer) => {
      reply(answer, m.id);
      if (state.name === 'stopping') ch.exit();
      state = { name: 'idle' };
    });
  });
  // The pool's process went away: nothing more to serve.
  if (ch.from === process) process.on('disconnect', () => process.exit(0));
  ch.post({ type: MSG.ready, pid: process.pid });
}
