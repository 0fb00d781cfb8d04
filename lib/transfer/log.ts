/**
 * NODE_DEBUG=sspi-context: handoff steps for a person debugging. Only ids
 * (random, public), sizes, pids, codes and timings are logged: never keys,
 * packed bytes, envelopes, or any text a peer sent.
 */
import { debuglog } from 'node:util';

export const debug = debuglog('sspi-context');

/** The first 8 hex digits of an id: enough to follow one transfer. */
export const short = (id: string): string => id.slice(0, 8);

export const elapsed = (t0: number): string => `${Math.round((performance.now() - t0) * 1000)} µs`;
