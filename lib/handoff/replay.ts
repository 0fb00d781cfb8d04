/** Envelope ids imported by this process, kept until they expire, so an envelope imports once. */
const seen = new Map<string, number>();

/** Record an id; false if it was already imported. */
export function claimEnvelopeId(id: string, expiresAt: number, now = Date.now()): boolean {
  if (seen.size > 1024) for (const [k, exp] of seen) if (exp <= now) seen.delete(k);
  if (seen.has(id)) return false;
  seen.set(id, expiresAt);
  return true;
}
