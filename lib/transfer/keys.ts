/**
 * Key agreement for one transfer: X25519 (RFC 7748) between the receiver's
 * per-listener key and the sender's per-transfer key, HKDF-SHA256 (RFC 5869)
 * over the shared secret, both public keys and both ids. (The target pid is
 * bound by the envelope itself: its header is the AEAD's associated data.)
 *
 * Keys travel raw (32 bytes, base64url as in a JWK's `x`, RFC 8037): a JWK
 * import costs ~8 µs where an SPKI DER round trip cost ~180 µs. Key pairs are
 * generated ahead of use, off the critical path (one spare, refilled on the
 * next turn of the event loop).
 */
import { createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SspiError } from '../errors.js';

export interface EphemeralKey {
  readonly privateKey: KeyObject;
  /** Raw public key, base64url. */
  readonly publicKey: string;
}

const RAW_KEY_CHARS = 43; // 32 bytes in unpadded base64url
const BASE64URL = /^[A-Za-z0-9_-]{43}$/;
const INFO = Buffer.from('sspi-context transfer v2', 'latin1');
const PROOF_LABEL = Buffer.from('imported', 'latin1');
const PROOF_BYTES = 16;

function makeKey(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: publicKey.export({ format: 'jwk' }).x! };
}

let spare: EphemeralKey | undefined;
let refill: NodeJS.Immediate | undefined;

/** A fresh key pair, each used once. The next one is made after this turn. */
export function takeEphemeralKey(): EphemeralKey {
  const k = spare ?? makeKey();
  spare = undefined;
  refill ??= setImmediate(() => {
    refill = undefined;
    spare ??= makeKey();
  }).unref();
  return k;
}

/**
 * The peer's public key, or SEC_E_INVALID_TOKEN. The length is checked before
 * anything parses it, so an 8 MB string costs a comparison.
 */
export function peerKey(raw: unknown, op: string): KeyObject {
  if (typeof raw !== 'string' || raw.length !== RAW_KEY_CHARS || !BASE64URL.test(raw)) {
    throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer sent no valid X25519 public key (32 raw bytes, base64url)');
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw }, format: 'jwk' });
  } catch {
    throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer sent no valid X25519 public key');
  }
}

export interface TransferKeys {
  /** Seals the envelope (AES-256-GCM in the codec). */
  readonly envelope: Buffer;
  /** Authenticates the receiver's "imported" answer. */
  readonly confirm: Buffer;
}

export interface KeyContext {
  readonly listener: string;
  readonly transfer: string;
  readonly receiverPublicKey: string;
  readonly senderPublicKey: string;
}

/**
 * Derive both keys. A small-order peer key makes the shared secret all zero;
 * OpenSSL refuses that derivation (RFC 7748 §6.1), and so do we: SEC_E_INVALID_TOKEN.
 */
export function deriveTransferKeys(privateKey: KeyObject, peer: KeyObject, c: KeyContext, op: string): TransferKeys {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: peer });
  } catch {
    throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer X25519 public key gives no shared secret (small-order point)');
  }
  try {
    if (shared.every((b) => b === 0)) throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer X25519 public key gives no shared secret (small-order point)');
    const salt = Buffer.from(c.listener + c.transfer, 'hex');
    const info = Buffer.concat([INFO, Buffer.from(c.receiverPublicKey, 'base64url'), Buffer.from(c.senderPublicKey, 'base64url')]);
    const okm = Buffer.from(hkdfSync('sha256', shared, salt, info, 64));
    return { envelope: okm.subarray(0, 32), confirm: okm.subarray(32) };
  } finally {
    shared.fill(0);
  }
}

/** The receiver's proof that it imported this transfer. */
export function importProof(keys: TransferKeys, transfer: string): string {
  return createHmac('sha256', keys.confirm).update(PROOF_LABEL).update(Buffer.from(transfer, 'hex')).digest().subarray(0, PROOF_BYTES).toString('base64url');
}

export function checkProof(keys: TransferKeys, transfer: string, proof: string): boolean {
  const want = Buffer.from(importProof(keys, transfer), 'base64url');
  const got = Buffer.from(proof, 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Zero both keys (they share one allocation). */
export function wipe(keys: TransferKeys | undefined): void {
  if (!keys) return;
  keys.envelope.fill(0);
  keys.confirm.fill(0);
}
