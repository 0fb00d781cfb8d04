/**
 * NODE_DEBUG=sspi-context: node's util.debuglog, for a person debugging a handshake.
 * Callers log names, statuses, sizes and counts only: never passwords, hashes, keys,
 * tokens' or packed contexts' bytes (test/debuglog/debuglog.test.ts holds them to it).
 */
import { debuglog } from 'node:util';

export const debug = debuglog('sspi-context');
