/**
 * The messages a ContextPool and its workers exchange, beside the transfer's
 * own (`sspi-context/...`, lib/transfer.ts) on the same channel. Every message
 * carries a `type` in its own namespace so neither side mistakes the other's.
 */
import { SspiError } from '../errors.js';
import { describeStatus } from '../status.js';

const NS = 'sspi-context-pool/';

/** Pool -> worker. */
export type PoolToWorker =
  /** A context follows (sendContext) for attempt `id`; run the handler on it with `job`. */
  | { readonly type: `${typeof NS}job`; readonly id: number; readonly job: unknown; readonly timeoutMs: number }
  /** The context for attempt `id` will not come (the transfer failed before it left): answer and wait for the next job. */
  | { readonly type: `${typeof NS}cancel`; readonly id: number }
  /** Finish the job in hand, then exit. */
  | { readonly type: `${typeof NS}stop` };

/** Where a worker-side failure happened. */
export type WorkerFailurePhase = 'receive' | 'handler' | 'reply';

/** Worker -> pool. */
export type WorkerToPool =
  | { readonly type: `${typeof NS}ready`; readonly pid: number }
  | { readonly type: `${typeof NS}result`; readonly id: number; readonly value: unknown }
  | {
      readonly type: `${typeof NS}error`;
      readonly id: number;
      readonly phase: WorkerFailurePhase;
      /** SECURITY_STATUS of the failure (SEC_E_INTERNAL_ERROR for non-SspiErrors). */
      readonly status: number;
      /** The SspiError's operation, or the worker's generic one. */
      readonly operation: string;
      /** The thrown value's class name (e.g. `TypeError`), never its message. */
      readonly errorName: string;
    };

export const MSG = {
  job: `${NS}job`,
  cancel: `${NS}cancel`,
  stop: `${NS}stop`,
  ready: `${NS}ready`,
  result: `${NS}result`,
  error: `${NS}error`,
} as const;

/** The operation named in errors the pool itself raises. */
export const POOL_OP = 'ContextPool';
/** The operation named for failures inside a worker that carry none of their own. */
export const WORKER_OP = 'ContextPoolWorker';

function isRecord(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

export function isPoolToWorker(m: unknown): m is PoolToWorker {
  if (!isRecord(m)) return false;
  if (m.type === MSG.stop) return true;
  if (m.type === MSG.cancel) return Number.isSafeInteger(m.id);
  return m.type === MSG.job && Number.isSafeInteger(m.id) && typeof m.timeoutMs === 'number' && 'job' in m;
}

export function isWorkerToPool(m: unknown): m is WorkerToPool {
  if (!isRecord(m)) return false;
  switch (m.type) {
    case MSG.ready:
      return typeof m.pid === 'number';
    case MSG.result:
      return Number.isSafeInteger(m.id) && 'value' in m;
    case MSG.error:
      return Number.isSafeInteger(m.id) && typeof m.status === 'number' && typeof m.operation === 'string' && typeof m.errorName === 'string' && (m.phase === 'receive' || m.phase === 'handler' || m.phase === 'reply');
    default:
      return false;
  }
}

// Names, not free text: an identifier-shaped string cannot carry a password.
const IDENT = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

/** What a worker reports about a thrown value: its status, operation and class name, never its message. */
export function describeFailure(e: unknown, id: number, phase: WorkerFailurePhase): WorkerToPool {
  const sspi = e instanceof SspiError;
  const name = isRecord(e) && typeof e.constructor === 'function' ? e.constructor.name : typeof e;
  return {
    type: MSG.error,
    id,
    phase,
    status: sspi ? e.status : describeStatus('SEC_E_INTERNAL_ERROR').value,
    operation: sspi ? e.operation : WORKER_OP,
    errorName: IDENT.test(name) ? name : 'Error',
  };
}

const PHASE_TEXT: Record<WorkerFailurePhase, string> = {
  receive: 'the worker could not receive the context',
  handler: "the worker's handler threw",
  reply: "the worker's result could not be sent back (not structured-cloneable?)",
};

/**
 * Rebuild a worker's failure as an SspiError in the pool. The worker's message
 * text never crosses: only a known error status, an identifier-shaped
 * operation and class name, and fixed wording per phase.
 */
export function failureToError(m: Extract<WorkerToPool, { type: typeof MSG.error }>): SspiError {
  const row = describeStatus(m.status);
  const status = !row.unknown && row.severity === 'error' ? row.value : 'SEC_E_INTERNAL_ERROR';
  const operation = IDENT.test(m.operation) ? m.operation : WORKER_OP;
  const errorName = IDENT.test(m.errorName) ? m.errorName : 'Error';
  return new SspiError(status, operation, `${PHASE_TEXT[m.phase]} (${errorName})`);
}
