/**
 * Keys for the transfer protocol (docs/transfer-protocol.md).
 *
 * Each end of a channel holds an X25519 key pair (RFC 7748) for that channel,
 * replaced after CHANNEL_KEY_MS or CHANNEL_KEY_USES. The agreement of a pair
 * of public keys is computed once and kept as an HKDF-SHA512 PRK (RFC 5869).
 * Every transfer then expands keys of its own from it, with info = listener id
 * || transfer id (both random, per envelope) || both public keys. So the
 * envelope is sealed with a fresh key, and the ~45 µs agreement leaves the
 * critical path.
 * (The target pid is bound by the envelope itself: its header is the AEAD's
 * associated data.)
 *
 * Keys travel raw (32 bytes, base64url as in a JWK's `x`, RFC 8037): a JWK
 * import costs ~8 µs where an SPKI DER round trip cost ~180 µs. Key pairs are
 * generated ahead of use (one spare, made on a later turn of the event loop).
 */
import { createHmac, createPublicKey, diffieHellman, generateKeyPairSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SspiError } from '../errors.js';

export interface EphemeralKey {
  readonly privateKey: KeyObject;
  /** Raw public key, base64url. */
  readonly publicKey: string;
  /** The same 32 bytes. */
  readonly publicRaw: Buffer;
}

const RAW_KEY_CHARS = 43; // 32 bytes in unpadded base64url
const BASE64URL = /^[A-Za-z0-9_-]{43}$/;
const SALT = Buffer.from('sspi-context transfer v2', 'latin1');
const LABEL = Buffer.from('envelope key, proof|', 'latin1');
const ONE = Buffer.of(1);
const PROOF_BYTES = 16;

function makeKey(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { privateKey, publicKey: x, publicRaw: Buffer.from(x, 'base64url') };
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

/** How long one channel key pair serves before the next listener or sender makes a new one. */
export const CHANNEL_KEY_MS = 5 * 60_000;
export const CHANNEL_KEY_USES = 10_000;
/** Peers' public keys whose secrets are kept per channel key (a rotated peer adds one). */
const KEPT_AGREEMENTS = 4;

/** One end's X25519 key for a channel, and the secrets agreed with the other end's keys. */
export class ChannelKey {
  readonly key: EphemeralKey = takeEphemeralKey();
  readonly #born = performance.now();
  #uses = 0;
  /** Per peer public key: the PRK agreed with it, and its raw bytes. */
  readonly #agreed = new Map<string, { readonly prk: Buffer; readonly raw: Buffer }>();

  /** False once this key has served long enough; the caller then makes a new one. */
  use(): boolean {
    if (this.#uses >= CHANNEL_KEY_USES || performance.now() - this.#born >= CHANNEL_KEY_MS) return false;
    this.#uses++;
    return true;
  }

  /** The agreement with `peerPublicKey` (validated first): SEC_E_INVALID_TOKEN for a bad key. */
  #agreement(peerPublicKey: unknown, op: string): { readonly prk: Buffer; readonly raw: Buffer } {
    const known = typeof peerPublicKey === 'string' ? this.#agreed.get(peerPublicKey) : undefined;
    if (known) return known;
    const a = { prk: extract(agree(this.key.privateKey, peerKey(peerPublicKey, op), op)), raw: Buffer.from(peerPublicKey as string, 'base64url') };
    if (this.#agreed.size >= KEPT_AGREEMENTS) {
      const [oldest, old] = this.#agreed.entries().next().value!;
      old.prk.fill(0);
      this.#agreed.delete(oldest);
    }
    this.#agreed.set(peerPublicKey as string, a);
    return a;
  }

  /**
   * One transfer's keys: HKDF-SHA512 Expand (RFC 5869 §2.3) to 48 bytes, which
   * is its first block T(1) = HMAC(PRK, info | 0x01): the envelope key, then
   * the proof. One HMAC per side; node's hkdfSync would extract again each
   * time and cost three times as much. info = label | listener id | transfer
   * id | receiver's key | sender's key: both ids are random and per envelope,
   * so every envelope gets keys of its own though the PRK serves the channel.
   * `receiving`: this end is the receiver.
   */
  transferKeys(peerPublicKey: unknown, listener: string, transfer: string, receiving: boolean, op: string): TransferKeys {
    const peer = this.#agreement(peerPublicKey, op);
    const t1 = createHmac('sha512', peer.prk)
      .update(LABEL)
      .update(Buffer.from(listener + transfer, 'hex'))
      .update(receiving ? this.key.publicRaw : peer.raw)
      .update(receiving ? peer.raw : this.key.publicRaw)
      .update(ONE)
      .digest();
    t1.fill(0, 32 + PROOF_BYTES);
    return { envelope: t1.subarray(0, 32), proof: t1.subarray(32, 32 + PROOF_BYTES) };
  }

  wipe(): void {
    for (const a of this.#agreed.values()) a.prk.fill(0);
    this.#agreed.clear();
  }
}

/** The current key for a channel, replaced (and the old secrets zeroed) once it has served. */
export function currentKey(keys: WeakMap<object, ChannelKey>, target: object): ChannelKey {
  let k = keys.get(target);
  if (k && !k.use()) {
    k.wipe();
    k = undefined;
  }
  if (!k) {
    k = new ChannelKey();
    k.use();
    keys.set(target, k);
  }
  return k;
}

export interface TransferKeys {
  /** Seals the envelope (AES-256-GCM in the codec). */
  readonly envelope: Buffer;
  /** The receiver's "imported" answer: only a holder of the PRK can make it. */
  readonly proof: Buffer;
}

/**
 * The X25519 shared secret. A small-order peer key makes it all zero; OpenSSL
 * refuses that derivation (RFC 7748 §6.1), and so do we: SEC_E_INVALID_TOKEN.
 */
export function agree(privateKey: KeyObject, peer: KeyObject, op: string): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: peer });
  } catch {
    throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer X25519 public key gives no shared secret (small-order point)');
  }
  if (shared.every((b) => b === 0)) throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the peer X25519 public key gives no shared secret (small-order point)');
  return shared;
}

/** HKDF-SHA512 Extract (RFC 5869 §2.2), once per pair of channel keys; the input secret is zeroed. */
function extract(shared: Buffer): Buffer {
  const prk = createHmac('sha512', SALT).update(shared).digest();
  shared.fill(0);
  return prk;
}

/** The receiver's proof that it imported this transfer. */
export function importProof(keys: TransferKeys): string {
  return keys.proof.toString('base64url');
}

export function checkProof(keys: TransferKeys, proof: string): boolean {
  const got = Buffer.from(proof, 'base64url');
  return got.length === keys.proof.length && timingSafeEqual(got, keys.proof);
}

/** Zero both keys (they share one allocation). */
export function wipe(keys: TransferKeys | undefined): void {
  if (!keys) return;
  keys.envelope.fill(0);
  keys.proof.fill(0);
}
