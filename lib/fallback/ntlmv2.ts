/** The NTLMv2 computations of MS-NLMP 3.3.2 and the key derivation of 3.4.5. */
import { createHash, createHmac } from 'node:crypto';
import { md4 } from './md4.js';
import { NegFlag } from './constants.js';

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** NTOWFv1: MD4 of the UTF-16LE password (the NT hash). The UTF-16 copy is wiped. */
export function ntowfv1(password: string): Buffer {
  const pw = Buffer.from(password, 'utf16le');
  try {
    return md4(pw);
  } finally {
    pw.fill(0);
  }
}

/** NTOWFv2 = ResponseKeyNT: HMAC_MD5(NT hash, UNICODE(Uppercase(User) || UserDom)). */
export function ntowfv2(ntHash: Uint8Array, user: string, domain: string): Buffer {
  return hmacMd5(ntHash, Buffer.from(upcase(user) + domain, 'utf16le'));
}

/** Windows upcases per UTF-16 unit (RtlUpcaseUnicodeString): no 'ß' -> 'SS' expansion. */
export function upcase(s: string): string {
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length ? u : ch;
  }
  return out;
}

/** The NTLMv2_CLIENT_CHALLENGE ("temp" in 3.3.2) for given AV pairs (already EOL-terminated). */
export function clientChallengeBlob(timestamp: bigint, clientChallenge: Uint8Array, avPairs: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(28 + avPairs.length + 4);
  out.writeUInt32LE(0x00000101, 0); // RespType 1, HiRespType 1, Reserved1
  out.writeUInt32LE(0, 4); // Reserved2
  out.writeBigUInt64LE(timestamp, 8);
  out.set(clientChallenge, 16);
  out.writeUInt32LE(0, 24); // Reserved3
  out.set(avPairs, 28);
  out.writeUInt32LE(0, 28 + avPairs.length);
  return out;
}

export function ntProofStr(responseKeyNT: Uint8Array, serverChallenge: Uint8Array, blob: Uint8Array): Buffer {
  return hmacMd5(responseKeyNT, serverChallenge, blob);
}

/** LMv2 response: HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge. */
export function lmv2Response(responseKeyNT: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Buffer {
  return Buffer.concat([hmacMd5(responseKeyNT, serverChallenge, clientChallenge), clientChallenge]);
}

/** SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is also KeyExchangeKey. */
export function sessionBaseKey(responseKeyNT: Uint8Array, proof: Uint8Array): Buffer {
  return hmacMd5(responseKeyNT, proof);
}

export type Direction = 'client-to-server' | 'server-to-client';

const SIGN_MAGIC: Record<Direction, Buffer> = {
  'client-to-server': Buffer.from('session key to client-to-server signing key magic constant\0', 'latin1'),
  'server-to-client': Buffer.from('session key to server-to-client signing key magic constant\0', 'latin1'),
};
const SEAL_MAGIC: Record<Direction, Buffer> = {
  'client-to-server': Buffer.from('session key to client-to-server sealing key magic constant\0', 'latin1'),
  'server-to-client': Buffer.from('session key to server-to-client sealing key magic constant\0', 'latin1'),
};

/** SIGNKEY (3.4.5.2), with extended session security. */
export function signKey(exportedSessionKey: Uint8Array, dir: Direction): Buffer {
  return createHash('md5').update(exportedSessionKey).update(SIGN_MAGIC[dir]).digest();
}

/** SEALKEY (3.4.5.3), with extended session security: 128, 56 or 40 bits of the key. */
export function sealKey(exportedSessionKey: Uint8Array, flags: number, dir: Direction): Buffer {
  const n = flags & NegFlag.NEG_128 ? 16 : flags & NegFlag.NEG_56 ? 7 : 5;
  return createHash('md5').update(exportedSessionKey.subarray(0, n)).update(SEAL_MAGIC[dir]).digest();
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with a zero MIC). */
export function computeMic(exportedSessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticateZeroMic: Uint8Array): Buffer {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticateZeroMic);
}
