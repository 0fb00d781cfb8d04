/**
 * NEGOTIATE, CHALLENGE and AUTHENTICATE messages (MS-NLMP 2.2.1). Parsers keep
 * subarrays of the input (no copies) and check every offset and length.
 */
import { AUTH_HEADER_SIZE, AUTH_PAYLOAD_MIN_WITH_MIC, MAX_MESSAGE_SIZE, MessageType, NegFlag, NTLMSSP_SIGNATURE, VERSION_BYTES } from './constants.js';
import { invalidToken, readPayloadField, writePayloadField } from './bytes.js';

function checkHeader(msg: Buffer, type: number, min: number, op: string, name: string): void {
  if (msg.length > MAX_MESSAGE_SIZE) throw invalidToken(op, `${name} is larger than any NTLM token`);
  if (msg.length < min) throw invalidToken(op, `${name} is truncated`);
  if (!msg.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) throw invalidToken(op, 'the token is not an NTLMSSP message');
  if (msg.readUInt32LE(8) !== type) throw invalidToken(op, `expected an NTLM ${name}`);
}

// ---- NEGOTIATE_MESSAGE ----

export function encodeNegotiate(flags: number): Buffer {
  const msg = Buffer.alloc(40);
  NTLMSSP_SIGNATURE.copy(msg, 0);
  msg.writeUInt32LE(MessageType.NEGOTIATE, 8);
  msg.writeUInt32LE(flags >>> 0, 12);
  // DomainNameFields and WorkstationFields stay empty, offsets at the payload start.
  writePayloadField(msg, 16, 0, 40);
  writePayloadField(msg, 24, 0, 40);
  VERSION_BYTES.copy(msg, 32);
  return msg;
}

export interface NegotiateMessage {
  flags: number;
}

export function parseNegotiate(msg: Buffer, op: string): NegotiateMessage {
  checkHeader(msg, MessageType.NEGOTIATE, 32, op, 'NEGOTIATE_MESSAGE');
  const flags = msg.readUInt32LE(12);
  // A message that claims a Version field must carry it whole.
  if (flags & NegFlag.VERSION && msg.length < 40) throw invalidToken(op, 'NEGOTIATE_MESSAGE is truncated inside its Version field');
  // Checked for bounds only; the names are informational.
  readPayloadField(msg, 16, op, 'DomainNameFields');
  readPayloadField(msg, 24, op, 'WorkstationFields');
  return { flags };
}

// ---- CHALLENGE_MESSAGE ----

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: Buffer;
  targetInfo: Buffer;
}

export function encodeChallenge(flags: number, serverChallenge: Buffer, targetName: Buffer, targetInfo: Buffer): Buffer {
  const header = 56;
  const msg = Buffer.allocUnsafe(header + targetName.length + targetInfo.length);
  NTLMSSP_SIGNATURE.copy(msg, 0);
  msg.writeUInt32LE(MessageType.CHALLENGE, 8);
  writePayloadField(msg, 12, targetName.length, header);
  msg.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(msg, 24, 0, 8);
  msg.fill(0, 32, 40);
  writePayloadField(msg, 40, targetInfo.length, header + targetName.length);
  VERSION_BYTES.copy(msg, 48);
  targetName.copy(msg, header);
  targetInfo.copy(msg, header + targetName.length);
  return msg;
}

export function parseChallenge(msg: Buffer, op: string): ChallengeMessage {
  checkHeader(msg, MessageType.CHALLENGE, 32, op, 'CHALLENGE_MESSAGE');
  const flags = msg.readUInt32LE(20);
  if (flags & NegFlag.VERSION && msg.length < 56) throw invalidToken(op, 'CHALLENGE_MESSAGE is truncated inside its Version field');
  const targetName = readPayloadField(msg, 12, op, 'TargetNameFields');
  let targetInfo = msg.subarray(0, 0);
  if (flags & NegFlag.TARGET_INFO) {
    if (msg.length < 48) throw invalidToken(op, 'CHALLENGE_MESSAGE is truncated before TargetInfoFields');
    targetInfo = readPayloadField(msg, 40, op, 'TargetInfoFields');
  }
  return { flags, serverChallenge: msg.subarray(24, 32), targetName, targetInfo };
}

// ---- AUTHENTICATE_MESSAGE ----

export interface AuthenticateFields {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: Buffer;
  user: Buffer;
  workstation: Buffer;
  encryptedRandomSessionKey: Buffer;
}

/** Always writes Version and a zeroed MIC (offset 72); the caller fills the MIC. */
export function encodeAuthenticate(f: AuthenticateFields): Buffer {
  const parts = [f.lmResponse, f.ntResponse, f.domain, f.user, f.workstation, f.encryptedRandomSessionKey];
  let size = AUTH_PAYLOAD_MIN_WITH_MIC;
  for (const p of parts) size += p.length;
  const msg = Buffer.allocUnsafe(size);
  NTLMSSP_SIGNATURE.copy(msg, 0);
  msg.writeUInt32LE(MessageType.AUTHENTICATE, 8);
  msg.writeUInt32LE(f.flags >>> 0, 60);
  VERSION_BYTES.copy(msg, 64);
  msg.fill(0, 72, 88);
  let off = AUTH_PAYLOAD_MIN_WITH_MIC;
  let field = 12;
  for (const p of parts) {
    writePayloadField(msg, field, p.length, off);
    p.copy(msg, off);
    off += p.length;
    field += 8;
  }
  return msg;
}

export function parseAuthenticate(msg: Buffer, op: string): AuthenticateFields {
  checkHeader(msg, MessageType.AUTHENTICATE, AUTH_HEADER_SIZE, op, 'AUTHENTICATE_MESSAGE');
  return {
    lmResponse: readPayloadField(msg, 12, op, 'LmChallengeResponseFields'),
    ntResponse: readPayloadField(msg, 20, op, 'NtChallengeResponseFields'),
    domain: readPayloadField(msg, 28, op, 'DomainNameFields'),
    user: readPayloadField(msg, 36, op, 'UserNameFields'),
    workstation: readPayloadField(msg, 44, op, 'WorkstationFields'),
    encryptedRandomSessionKey: readPayloadField(msg, 52, op, 'EncryptedRandomSessionKeyFields'),
    flags: msg.readUInt32LE(60),
  };
}

/**
 * Where a MIC is claimed (MsvAvFlags 0x2), the 16 bytes at offset 72 must be
 * header, not payload: no field may start inside them.
 */
export function checkMicRoom(msg: Buffer, op: string): void {
  if (msg.length < AUTH_PAYLOAD_MIN_WITH_MIC) throw invalidToken(op, 'AUTHENTICATE_MESSAGE is too short to hold a MIC');
  for (let at = 12; at <= 52; at += 8) {
    const len = msg.readUInt16LE(at);
    if (len !== 0 && msg.readUInt32LE(at + 4) < AUTH_PAYLOAD_MIN_WITH_MIC) {
      throw invalidToken(op, 'an AUTHENTICATE_MESSAGE field overlaps the MIC');
    }
  }
}
