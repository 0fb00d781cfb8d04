import { inspect } from 'node:util';

/** Shown instead of secret bytes by util.inspect and JSON.stringify. */
export function redactedBytes(buf: Buffer | undefined): string {
  return buf ? `<redacted ${buf.length} bytes>` : '<none>';
}

export const inspectSymbol = inspect.custom;

/** Overwrite a secret buffer in place. */
export function zero(buf: Buffer | Uint8Array | undefined): void {
  if (buf) buf.fill(0);
}
