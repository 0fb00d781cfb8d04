/**
 * @internal Test hooks. Not exported from the package entry point.
 */
import type { CredHandleRef, CtxtHandleRef } from '../backend/types.js';
import { FallbackContext, FallbackCredential } from './handles.js';
import type { SecretBuffer } from './session-security.js';

export { setRandomSourceForTest } from './random.js';

/** The live key buffers of a context (keys and RC4 S-boxes), to assert they are zero after delete. */
export function keyBuffersForTest(ctx: CtxtHandleRef): SecretBuffer[] {
  if (!(ctx instanceof FallbackContext)) throw new TypeError('not a fallback context');
  return ctx.session ? ctx.session.secretBuffers() : [];
}

/** Move a context's sequence numbers (e.g. next to 2^32), so tests reach the limit without 4 billion messages. */
export function setSequenceNumbersForTest(ctx: CtxtHandleRef, seq: { send?: number; recv?: number }): void {
  if (!(ctx instanceof FallbackContext) || !ctx.session) throw new TypeError('not an established fallback context');
  if (seq.send !== undefined) ctx.session.sendSeq = seq.send;
  if (seq.recv !== undefined) ctx.session.recvSeq = seq.recv;
}

/** The NT hash buffers held by a credential. */
export function credentialKeyBuffersForTest(cred: CredHandleRef): Uint8Array[] {
  if (!(cred instanceof FallbackCredential)) throw new TypeError('not a fallback credential');
  return cred.secretBuffers();
}
