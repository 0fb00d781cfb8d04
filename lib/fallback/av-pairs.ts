/** AV_PAIR lists (MS-NLMP 2.2.2.1): the TargetInfo of CHALLENGE and of the NTLMv2 client challenge. */
import { AvId } from './constants.js';
import { invalidToken } from './bytes.js';

export interface AvPair {
  id: number;
  value: Buffer;
}

/**
 * Parse a list that must end with MsvAvEOL. Bytes after MsvAvEOL are ignored
 * (Windows pads the NTLMv2 client challenge with zeros after it).
 */
export function parseAvPairs(buf: Buffer, op: string): AvPair[] {
  const out: AvPair[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > buf.length) throw invalidToken(op, 'AV_PAIR list is truncated or lacks MsvAvEOL');
    const id = buf.readUInt16LE(at);
    const len = buf.readUInt16LE(at + 2);
    at += 4;
    if (len > buf.length - at) throw invalidToken(op, 'AV_PAIR value runs past the end of the list');
    if (id === AvId.EOL) {
      if (len !== 0) throw invalidToken(op, 'MsvAvEOL has a non-zero length');
      return out;
    }
    out.push({ id, value: buf.subarray(at, at + len) });
    at += len;
  }
}

export function findAv(pairs: readonly AvPair[], id: number): Buffer | undefined {
  for (const p of pairs) if (p.id === id) return p.value;
  return undefined;
}

/** Encode pairs followed by MsvAvEOL. */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  let size = 4;
  for (const p of pairs) size += 4 + p.value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of pairs) {
    out.writeUInt16LE(p.id, at);
    out.writeUInt16LE(p.value.length, at + 2);
    p.value.copy(out, at + 4);
    at += 4 + p.value.length;
  }
  out.writeUInt32LE(0, at);
  return out;
}
