/**
 * serveContexts: the worker side of a ContextPool. The worker keeps one
 * receiveContext listening ahead of the next job, so the pool's sendContext
 * finds a listener at once (docs/transfer-protocol.md: a cached Hello means a
 * single round trip). For each job: take that listener's context, run the
 * handler, listen again, answer, and close the context unless it was kept.
 */
import { isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import type { SecurityContext } from '../context.js';
import { SspiError } from '../errors.js';
import type { StatusCode } from '../status.js';
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

type JobMessage = Extract<PoolToWorker, { type: typeof MSG.job }>;

/** One receiveContext in flight: free (listening ahead), or taken by a job. */
interface Listener {
  readonly received: Promise<SecurityContext>;
  owner: number | undefined;
}

/** The worker's state: explicit, so a job never overlaps another or a stop. */
type WorkerState =
  | { readonly name: 'idle' }
  | { readonly name: 'awaiting-context'; readonly id: number; readonly cancel: () => void }
  | { readonly name: 'running'; readonly id: number }
  | { readonly name: 'stopping' };

interface ParentChannel {
  from: MessagePort | NodeJS.Process;
  post(m: WorkerToPool): void;
  on(l: (m: unknown) => void): void;
}

function parentChannel(): ParentChannel {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    return { from: port, post: (m) => port.postMessage(m), on: (l) => port.on('message', l) };
  }
  if (typeof process.send === 'function') {
    return {
      from: process,
      post: (m) => {
        // A vanished pool has no one to tell.
        if (process.connected) process.send!(m);
      },
      on: (l) => process.on('message', l),
    };
  }
  throw new SspiError('SEC_E_INVALID_PARAMETER', WORKER_OP, 'serveContexts runs in a ContextPool worker (a forked process or a worker thread)');
}

/** A listener ahead of the next job waits as long as a timer can (setTimeout's ceiling, ~24.8 days). */
const LISTEN_AHEAD_MS = 0x7fffffff;

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
  let listener: Listener;
  let channelOpen = true;

  const reply = (m: WorkerToPool, id: number) => {
    try {
      ch.post(m);
    } catch (e) {
      ch.post(describeFailure(e, id, 'reply'));
    }
  };

  /** Listen for the next context; one that arrives for no job is closed (it has no one to serve). */
  const listen = () => {
    const l: Listener = { received: receiveContext({ from: ch.from, timeoutMs: LISTEN_AHEAD_MS }), owner: undefined };
    listener = l;
    l.received.then(
      (ctx) => {
        if (l.owner !== undefined) return;
        ctx.close();
        if (listener === l) listen();
      },
      (e: unknown) => {
        if (e instanceof SspiError && e.code === 'SEC_E_INCOMPLETE_MESSAGE') channelOpen = false;
        if (l.owner === undefined && listener === l && channelOpen) listen();
      },
    );
  };

  const finish = (answer: WorkerToPool, id: number) => {
    // Listen before answering: the pool's next sendContext then finds our Hello waiting.
    if (channelOpen && listener.owner !== undefined) listen();
    reply(answer, id);
    if (state.name === 'stopping') process.exit(0);
    state = { name: 'idle' };
  };

  const runJob = async (m: JobMessage, ctx: SecurityContext): Promise<WorkerToPool> => {
    let kept = false;
    const info: ServeContextInfo = { keep: () => ((kept = true), ctx), attemptId: m.id };
    try {
      const value = await handler(ctx, m.job as Job, info);
      return { type: MSG.result, id: m.id, value };
    } catch (e) {
      return describeFailure(e, m.id, 'handler');
    } finally {
      if (!kept) ctx.close();
    }
  };

  const startJob = (m: JobMessage) => {
    const l = listener;
    l.owner = m.id;
    let settled = false;
    // The context never comes: the pool cancels (its transfer failed before the export) or the time-out passes.
    const giveBack = (status: StatusCode) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      l.owner = undefined; // still listening: it serves the next job
      finish(describeFailure(new SspiError(status, WORKER_OP, 'no context'), m.id, 'receive'), m.id);
    };
    const timer = setTimeout(() => giveBack('SEC_E_CONTEXT_EXPIRED'), m.timeoutMs);
    state = { name: 'awaiting-context', id: m.id, cancel: () => giveBack('SEC_E_CONTEXT_EXPIRED') };
    l.received.then(
      (ctx) => {
        if (settled) return; // given back already: the listener's own handler closes it
        settled = true;
        clearTimeout(timer);
        state = { name: 'running', id: m.id };
        void runJob(m, ctx).then((answer) => finish(answer, m.id));
      },
      (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        finish(describeFailure(e, m.id, 'receive'), m.id);
      },
    );
  };

  ch.on((m) => {
    if (!isPoolToWorker(m)) return; // the transfer's own messages
    switch (m.type) {
      case MSG.stop:
        if (state.name === 'idle') process.exit(0);
        state = { name: 'stopping' };
        return;
      case MSG.cancel:
        if (state.name === 'awaiting-context' && state.id === m.id) state.cancel();
        return;
      case MSG.job:
        if (state.name !== 'idle') reply(describeFailure(new SspiError('SEC_E_INTERNAL_ERROR', WORKER_OP, 'busy'), m.id, 'receive'), m.id);
        else startJob(m);
    }
  });
  // The pool's process went away: nothing more to serve.
  if (ch.from === process) process.on('disconnect', () => process.exit(0));
  listen();
  ch.post({ type: MSG.ready, pid: process.pid });
}
