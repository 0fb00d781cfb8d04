/** Bounds-checked little-endian reading for NTLM structures: failures are SspiError only. */
import { SspiError } from '../errors.js';

export function invalidToken(op: string, detail: string): SspiError {
  return new SspiError('SEC_E_INVALID_TOKEN', op, detail);
}

/** A field (Len, MaxLen, BufferOffset) of an NTLM message, resolved and checked. */
export function readPayloadField(msg: Buffer, at: number, op: string, what: string): Buffer {
  if (at + 8 > msg.length) throw invalidToken(op, `${what} field is truncated`);
  const len = msg.readUInt16LE(at);
  const off = msg.readUInt32LE(at + 4);
  if (len === 0) return msg.subarray(0, 0);
  if (off > msg.length || len > msg.length - off) throw invalidToken(op, `${what} points past the end of the message`);
  return msg.subarray(off, off + len);
}

export function writePayloadField(msg: Buffer, at: number, len: number, off: number): void {
  msg.writeUInt16LE(len, at);
  msg.writeUInt16LE(len, at + 2);
  msg.writeUInt32LE(off, at + 4);
}

const utf16Decoder = new TextDecoder('utf-16le', { fatal: true });

export function decodeUtf16(buf: Buffer, op: string, what: string): string {
  if (buf.length % 2 !== 0) throw invalidToken(op, `${what} has an odd UTF-16 length`);
  try {
    return utf16Decoder.decode(buf);
  } catch {
    throw invalidToken(op, `${what} is not valid UTF-16`);
  }
}

export function utf16(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}
