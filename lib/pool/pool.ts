/**
 * ContextPool: a fixed set of worker processes or threads that each take one
 * authenticated context at a time (through sendContext) with a job, run the
 * worker module's serveContexts handler on it, and answer with its result.
 *
 * Lifecycle of one job: queued -> an attempt on an idle worker (the job
 * message, then sendContext) -> the worker's reply. An attempt whose transfer
 * fails while the context is still here (it never left) is retried on another
 * attempt; once the context has left (the transfer exported it), a failure is
 * final. See docs/http-negotiate.md ("ContextPool").
 */
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { ContextBase } from '../context.js';
import { SspiError } from '../errors.js';
import { sendContext } from '../transfer.js';
import { MSG, POOL_OP, failureToError, isWorkerToPool, type WorkerToPool } from './messages.js';
import { spawnWorker, type WorkerHandle, type WorkerKind } from './spawn.js';

export type { WorkerKind } from './spawn.js';

export interface ContextPoolOptions {
  /** Number of workers, 1..256. */
  size: number;
  /** `process`: child_process.fork; `thread`: worker_threads.Worker. */
  kind: WorkerKind;
  /** Jobs that may wait for a worker (default 1024); beyond it run() rejects with SEC_E_INSUFFICIENT_MEMORY. */
  maxQueue?: number;
  /** Attempts per job while its context never left (default 3). */
  maxAttempts?: number;
  /** Time-out of each transfer, both sides (default 10 s). */
  timeoutMs?: number;
  /** argv after the module (process) / `process.argv` extras (thread). */
  args?: readonly string[];
  /** The workers' environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  execArgv?: readonly string[];
  /** Told each time a worker exits, with the replacement's pid if one was started. */
  onWorkerExit?: (event: WorkerExitEvent) => void;
}

export interface WorkerExitEvent {
  readonly pid: number | undefined;
  /** `SIGKILL`, `exit 1`, ... */
  readonly reason: string;
  readonly replacementPid: number | undefined;
}

export interface ContextPoolCloseOptions {
  /** After this long (default 30 s) queued jobs are refused and busy workers killed. */
  timeoutMs?: number;
}

export interface ContextPoolStats {
  readonly size: number;
  readonly kind: WorkerKind;
  readonly state: PoolState;
  readonly starting: number;
  readonly idle: number;
  readonly busy: number;
  readonly queued: number;
  /** Workers started to replace one that exited. */
  readonly restarts: number;
  /** Pids of the live workers (a thread's is this process's). */
  readonly pids: readonly number[];
}

export type PoolState = 'open' | 'closing' | 'closed';

interface Job {
  readonly ctx: ContextBase;
  readonly payload: unknown;
  attempts: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: SspiError) => void;
}

type SendState = 'pending' | 'sent' | 'failed';

/** One try of a job on one worker. */
interface Attempt {
  readonly id: number;
  readonly job: Job;
  send: SendState;
  reply: WorkerToPool | undefined;
  workerExited: boolean;
  killTimer: NodeJS.Timeout | undefined;
}

type SlotState =
  | { readonly name: 'starting' }
  | { readonly name: 'idle' }
  | { readonly name: 'busy'; readonly attempt: Attempt }
  /** Its channel failed; the exit is on its way. */
  | { readonly name: 'dying' }
  | { readonly name: 'stopping' }
  | { readonly name: 'exited' }
  /** Exited before it was ready too often: not restarted. */
  | { readonly name: 'failed' };

interface Slot {
  handle: WorkerHandle;
  state: SlotState;
  startFailures: number;
}

const DEFAULT_MAX_QUEUE = 1024;
const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
/** A worker that exits before it is ready this many times in a row is given up. */
const MAX_START_FAILURES = 3;

function invalid(detail: string): SspiError {
  return new SspiError('SEC_E_INVALID_PARAMETER', POOL_OP, detail);
}

function brokenPool(): SspiError {
  return new SspiError('SEC_E_INTERNAL_ERROR', POOL_OP, `every worker exited before it was ready, ${MAX_START_FAILURES} times in a row`);
}

function asSspiError(e: unknown): SspiError {
  return e instanceof SspiError ? e : new SspiError('SEC_E_INTERNAL_ERROR', POOL_OP, 'the transfer failed');
}

function intIn(v: unknown, lo: number, hi: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

function modulePath(m: unknown): string {
  if (m instanceof URL) return fileURLToPath(m);
  if (typeof m === 'string' && m.length > 0) return m.startsWith('file:') ? fileURLToPath(m) : resolvePath(m);
  throw invalid('workerModule must be a path or a file: URL');
}

export class ContextPool<Job_ = unknown, Result = unknown> {
  readonly size: number;
  readonly kind: WorkerKind;
  readonly #module: string;
  readonly #maxQueue: number;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #spawn: () => WorkerHandle;
  readonly #onWorkerExit: ((e: WorkerExitEvent) => void) | undefined;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #inPool = new WeakSet<ContextBase>();
  #state: PoolState = 'open';
  #attemptSeq = 0;
  #restarts = 0;
  #closed: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #forced = false;

  constructor(workerModule: string | URL, options: ContextPoolOptions) {
    // Everything is checked before the first worker starts: bad options leave nothing behind.
    if (typeof options !== 'object' || options === null) throw invalid('options { size, kind } are required');
    if (!intIn(options.size, 1, 256)) throw invalid('size must be an integer from 1 to 256');
    if (options.kind !== 'process' && options.kind !== 'thread') throw invalid("kind must be 'process' or 'thread'");
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!(maxQueue === Infinity || intIn(maxQueue, 0, Number.MAX_SAFE_INTEGER))) throw invalid('maxQueue must be a non-negative integer or Infinity');
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!intIn(maxAttempts, 1, 100)) throw invalid('maxAttempts must be an integer from 1 to 100');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!intIn(timeoutMs, 1, 2 ** 31 - 1)) throw invalid('timeoutMs must be a positive integer');
    if (options.args !== undefined && !(Array.isArray(options.args) && options.args.every((a) => typeof a === 'string'))) throw invalid('args must be strings');
    if (options.execArgv !== undefined && !(Array.isArray(options.execArgv) && options.execArgv.every((a) => typeof a === 'string'))) throw invalid('execArgv must be strings');
    if (options.onWorkerExit !== undefined && typeof options.onWorkerExit !== 'function') throw invalid('onWorkerExit must be a function');
    this.#module = modulePath(workerModule);
    this.size = options.size;
    this.kind = options.kind;
    this.#maxQueue = maxQueue;
    this.#maxAttempts = maxAttempts;
    this.#timeoutMs = timeoutMs;
    this.#onWorkerExit = options.onWorkerExit;
    const spawnOptions = { kind: this.kind, module: this.#module, args: options.args ?? [], env: options.env, execArgv: options.execArgv };
    this.#spawn = () => spawnWorker(spawnOptions);
    for (let i = 0; i < this.size; i++) {
      const slot: Slot = { handle: undefined as unknown as WorkerHandle, state: { name: 'starting' }, startFailures: 0 };
      this.#slots.push(slot);
      this.#start(slot);
    }
  }

  /**
   * Hand `ctx` (moved out of this process by sendContext) and `job`
   * (structured-cloneable) to the next idle worker; resolves to what the
   * worker's handler returned. Rejects with an SspiError: see the class docs.
   */
  run(ctx: ContextBase, job: Job_): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      if (this.#state !== 'open') return reject(new SspiError('SEC_E_SHUTDOWN_IN_PROGRESS', POOL_OP, 'the pool is closing'));
      if (!(ctx instanceof ContextBase)) return reject(invalid('ctx must be a security context'));
      if (!ctx.isEstablished) return reject(new SspiError('SEC_E_INVALID_HANDLE', POOL_OP, 'the context is not established or was closed'));
      if (this.#inPool.has(ctx)) return reject(invalid('the context is already queued in this pool'));
      if (this.#slots.every((s) => s.state.name === 'failed')) return reject(brokenPool());
      const idle = this.#slots.some((s) => s.state.name === 'idle');
      if (!idle && this.#queue.length >= this.#maxQueue) {
        return reject(new SspiError('SEC_E_INSUFFICIENT_MEMORY', POOL_OP, `the queue is full (${this.#maxQueue} jobs wait for a worker)`));
      }
      this.#inPool.add(ctx);
      this.#queue.push({ ctx, payload: job, attempts: 0, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  /**
   * Stop taking jobs (run() then rejects with SEC_E_SHUTDOWN_IN_PROGRESS),
   * let every job already accepted finish (queued ones included), then stop
   * the workers and resolve once all have exited. After `timeoutMs` the
   * jobs still queued are refused with SEC_E_SHUTDOWN_IN_PROGRESS (their
   * contexts never left: the caller still owns them) and busy workers are
   * killed. Calling it again returns the same promise.
   */
  close(options: ContextPoolCloseOptions = {}): Promise<void> {
    if (this.#closed) return this.#closed;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (!intIn(timeoutMs, 0, 2 ** 31 - 1)) return Promise.reject(invalid('close timeoutMs must be a non-negative integer'));
    this.#state = 'closing';
    this.#closed = new Promise<void>((resolve) => {
      const force = setTimeout(() => this.#force(), timeoutMs);
      this.#drained = () => {
        clearTimeout(force);
        this.#state = 'closed';
        resolve();
      };
    });
    this.#checkDrained();
    return this.#closed;
  }

  get state(): PoolState {
    return this.#state;
  }

  stats(): ContextPoolStats {
    const count = (n: SlotState['name']) => this.#slots.filter((s) => s.state.name === n).length;
    const live = this.#slots.filter((s) => s.state.name !== 'exited' && s.state.name !== 'failed');
    return {
      size: this.size,
      kind: this.kind,
      state: this.#state,
      starting: count('starting'),
      idle: count('idle'),
      busy: count('busy'),
      queued: this.#queue.length,
      restarts: this.#restarts,
      pids: live.map((s) => s.handle.pid).filter((p): p is number => typeof p === 'number'),
    };
  }

  [inspect.custom](): string {
    const s = this.stats();
    return `ContextPool { kind: '${s.kind}', size: ${s.size}, state: '${s.state}', idle: ${s.idle}, busy: ${s.busy}, queued: ${s.queued} }`;
  }

  // ---------- workers ----------

  #start(slot: Slot): void {
    const handle = this.#spawn();
    slot.handle = handle;
    slot.state = { name: 'starting' };
    handle.onMessage((m) => this.#onMessage(slot, handle, m));
    handle.onExit((why) => this.#onExit(slot, handle, why));
  }

  #onMessage(slot: Slot, handle: WorkerHandle, m: unknown): void {
    if (slot.handle !== handle || !isWorkerToPool(m)) return; // the transfer's own messages, or a stale worker
    if (m.type === MSG.ready) {
      if (slot.state.name !== 'starting') return;
      slot.state = { name: 'idle' };
      slot.startFailures = 0;
      this.#pump();
      this.#checkDrained();
      return;
    }
    const st = slot.state;
    if (st.name !== 'busy' || st.attempt.id !== m.id) return;
    const a = st.attempt;
    a.reply = m;
    if (a.send === 'sent') this.#finish(slot, a);
    else if (a.send === 'failed') this.#release(slot, a); // its receive ended; the job was settled already
    // 'pending': the reply overtook the transfer's own completion; #sent() finishes.
  }

  #onExit(slot: Slot, handle: WorkerHandle, why: string): void {
    if (slot.handle !== handle) return;
    const prev = slot.state;
    slot.state = { name: 'exited' };
    if (prev.name === 'busy') {
      const a = prev.attempt;
      a.workerExited = true;
      if (a.killTimer) clearTimeout(a.killTimer);
      // The context left (the transfer completed) and no answer came: that is final.
      if (a.send === 'sent' && !a.reply) this.#settle(a.job, new SspiError('SEC_E_INCOMPLETE_MESSAGE', POOL_OP, 'the worker exited before it answered'));
      // 'pending': the transfer notices the closed channel and #sendFailed() decides.
    }
    if (prev.name === 'starting') slot.startFailures++;
    let replacement: number | undefined;
    if (this.#wantsWorker()) {
      if (slot.startFailures >= MAX_START_FAILURES) {
        slot.state = { name: 'failed' };
        if (this.#slots.every((s) => s.state.name === 'failed')) {
          for (const job of this.#queue.splice(0)) this.#settle(job, brokenPool());
        }
      } else {
        this.#restarts++;
        this.#start(slot);
        replacement = slot.handle.pid;
      }
    }
    this.#onWorkerExit?.({ pid: handle.pid, reason: why, replacementPid: replacement });
    this.#pump();
    this.#checkDrained();
  }

  /** Open pools replace every dead worker; a closing pool only while jobs still wait. */
  #wantsWorker(): boolean {
    return this.#state === 'open' || (this.#state === 'closing' && !this.#forced && this.#queue.length > 0);
  }

  // ---------- jobs ----------

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.state.name === 'idle');
      if (!slot) return;
      this.#attempt(slot, this.#queue.shift()!);
    }
  }

  #attempt(slot: Slot, job: Job): void {
    const a: Attempt = { id: ++this.#attemptSeq, job, send: 'pending', reply: undefined, workerExited: false, killTimer: undefined };
    job.attempts++;
    let posted: 'sent' | 'closed';
    try {
      posted = slot.handle.post({ type: MSG.job, id: a.id, job: job.payload, timeoutMs: this.#timeoutMs });
    } catch {
      // Nothing was sent: the worker stays idle, the caller keeps the context.
      job.attempts--;
      this.#settle(job, invalid('the job is not structured-cloneable'));
      return;
    }
    if (posted === 'closed') {
      // The channel is closing under us: the exit follows; the context never left.
      slot.state = { name: 'dying' };
      job.attempts--;
      this.#queue.unshift(job);
      return;
    }
    slot.state = { name: 'busy', attempt: a };
    sendContext(slot.handle.target, job.ctx, { timeoutMs: this.#timeoutMs }).then(
      () => this.#sent(slot, a),
      (e: unknown) => this.#sendFailed(slot, a, asSspiError(e)),
    );
  }

  #sent(slot: Slot, a: Attempt): void {
    a.send = 'sent';
    if (a.reply) this.#finish(slot, a);
    else if (a.workerExited) this.#settle(a.job, new SspiError('SEC_E_INCOMPLETE_MESSAGE', POOL_OP, 'the worker exited before it answered'));
  }

  #sendFailed(slot: Slot, a: Attempt, err: SspiError): void {
    a.send = 'failed';
    const job = a.job;
    // Retried only while the context is still here: the transfer failed before
    // it exported (deleted) it. A context that left is not ours to send again.
    if (job.ctx.isEstablished && job.attempts < this.#maxAttempts && !this.#forced) this.#queue.unshift(job);
    else this.#settle(job, err);
    if (a.workerExited) {
      this.#pump();
      return;
    }
    if (a.reply) {
      this.#release(slot, a);
      return;
    }
    // The worker has not answered yet: tell it the context is not coming (it
    // answers at once, or after the handler if the context did arrive). A
    // worker that timed out, or does not answer in time, is replaced: its
    // side of the transfer is in an unknown state.
    const kill = () => {
      if (slot.state.name === 'busy' && slot.state.attempt === a) slot.handle.kill();
    };
    if (err.code === 'SEC_E_CONTEXT_EXPIRED' || slot.handle.post({ type: MSG.cancel, id: a.id }) === 'closed') kill();
    else a.killTimer = setTimeout(kill, this.#timeoutMs);
    this.#pump();
  }

  #finish(slot: Slot, a: Attempt): void {
    const r = a.reply!;
    if (r.type === MSG.result) this.#settle(a.job, undefined, r.value);
    else if (r.type === MSG.error) this.#settle(a.job, failureToError(r));
    this.#release(slot, a);
  }

  /** The worker is done with attempt `a`: back to idle. */
  #release(slot: Slot, a: Attempt): void {
    if (a.killTimer) clearTimeout(a.killTimer);
    if (slot.state.name !== 'busy' || slot.state.attempt !== a) return;
    slot.state = { name: 'idle' };
    this.#pump();
    this.#checkDrained();
  }

  #settle(job: Job, err: SspiError | undefined, value?: unknown): void {
    this.#inPool.delete(job.ctx);
    if (err) job.reject(err);
    else job.resolve(value);
  }

  // ---------- close ----------

  #checkDrained(): void {
    if (this.#state !== 'closing' || this.#queue.length > 0) return;
    if (this.#slots.some((s) => s.state.name === 'busy')) return;
    for (const slot of this.#slots) {
      const name = slot.state.name;
      if (name === 'idle') {
        slot.state = { name: 'stopping' };
        if (slot.handle.post({ type: MSG.stop }) === 'closed') slot.handle.kill();
      } else if (name === 'starting' || name === 'dying') {
        slot.state = { name: 'stopping' };
        slot.handle.kill(); // no work for it; it may not listen yet
      }
    }
    if (this.#slots.every((s) => s.state.name === 'exited' || s.state.name === 'failed')) this.#drained?.();
  }

  #force(): void {
    this.#forced = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, new SspiError('SEC_E_SHUTDOWN_IN_PROGRESS', POOL_OP, 'the pool closed before the job started'));
    for (const slot of this.#slots) {
      if (slot.state.name !== 'exited' && slot.state.name !== 'failed') slot.handle.kill();
    }
  }
}
