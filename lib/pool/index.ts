/** ContextPool (the pool side) and serveContexts (the worker side). */
export { ContextPool } from './pool.js';
export type { ContextPoolOptions, ContextPoolCloseOptions, ContextPoolStats, PoolState, WorkerExitEvent, WorkerKind } from './pool.js';
export { serveContexts } from './worker.js';
export type { ServeContextInfo, ServeContextsHandler } from './worker.js';
