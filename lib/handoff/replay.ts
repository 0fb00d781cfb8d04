/** Envelope ids imported by this process, kept until they expire, so an envelope imports once. */
const seen = new Map<string, number>();

/**
 * Record an id; false if it was already imported. Expired ids are dropped
 * from the oldest end (a Map iterates in insertion order, which is nearly
 * expiry order), stopping at the first live one: amortised O(1) per claim.
 */
export function claimEnvelopeId(id: string, expiresAt: number, now = Date.now()): boolean {
  for (const [k, exp] of seen) {
    if (exp > now) break;
    seen.delete(k);
  }
  if (seen.has(id)) return false;
  seen.set(id, expiresAt);
  return true;
}
