/**
 * Handoff steps for NODE_DEBUG=sspi-context (the package's logger, lib/debug.ts).
 * Only ids (random, public), sizes, pids, codes and timings are logged: never
 * keys, packed bytes, envelopes, or any text a peer sent.
 */
export { debug } from '../debug.js';

/** The first 8 hex digits of an id: enough to follow one transfer. */
export const short = (id: string): string => id.slice(0, 8);

export const elapsed = (t0: number): string => `${Math.round((performance.now() - t0) * 1000)} µs`;
