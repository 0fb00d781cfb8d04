/**
 * NTLM session security with extended session security (MS-NLMP 3.4): one
 * sign key, seal key, RC4 handle and sequence number per direction.
 *
 * State rule on receive: a message whose (clear) SeqNum is not the expected
 * one is rejected before any state changes, so replays and reordering cannot
 * desynchronise the RC4 handle. The status is SEC_E_MESSAGE_ALTERED, as
 * Windows' NTLM answers a skipped message (pyspnego's recorded Server 2019 runs;
 * MS-NLMP 3.4.4 names no status); Kerberos says SEC_E_OUT_OF_SEQUENCE. A message with
 * the expected SeqNum consumes its slot (RC4 keystream and sequence number
 * advance, as they did on the sender) whether or not its checksum verifies, so
 * a tampered message gives SEC_E_MESSAGE_ALTERED and the next genuine one
 * still verifies.
 *
 * SeqNum is 32 bits (MS-NLMP 2.2.2.9.1). Each direction carries at most 2^32
 * messages (SeqNum 0 .. 2^32-1); after that, protection in that direction
 * fails with SEC_E_CONTEXT_EXPIRED instead of wrapping to 0, which would reuse
 * sequence numbers under the same keys.
 */
import { timingSafeEqual } from 'node:crypto';
import { SspiError } from '../errors.js';
import { NegFlag, SIGNATURE_SIZE } from './constants.js';
import { hmacMd5, sealKey, signKey, type Direction } from './ntlmv2.js';
import { Rc4 } from './rc4.js';
import { int32Slice } from './slab.js';

export type Role = 'client' | 'server';

const fillZero = Uint8Array.prototype.fill;

function outOfSequence(op: string): SspiError {
  return new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the sequence number is not the expected one (replayed or reordered message)');
}

/** Messages per direction: SeqNum is a u32, so the 2^32-th message is the last. */
export const SEQ_LIMIT = 2 ** 32;

/** A buffer holding key material: keys are bytes, RC4 S-boxes are Int32Array. */
export type SecretBuffer = Uint8Array | Int32Array;

export class SessionSecurity {
  // Both S-boxes in one slice: import builds a session per call.
  readonly #boxes = int32Slice(512);
  readonly sendRc4 = new Rc4(undefined, this.#boxes.subarray(0, 256));
  readonly recvRc4 = new Rc4(undefined, this.#boxes.subarray(256));
  /** Next SeqNum to send, 0 .. SEQ_LIMIT (SEQ_LIMIT: the direction is used up). */
  sendSeq = 0;
  /** Next SeqNum expected, 0 .. SEQ_LIMIT. */
  recvSeq = 0;

  constructor(
    readonly flags: number,
    readonly exportedSessionKey: Buffer,
    readonly sendSignKey: Buffer,
    readonly recvSignKey: Buffer,
    readonly sendSealKey: Buffer,
    readonly recvSealKey: Buffer,
  ) {}

  static derive(exportedSessionKey: Buffer, flags: number, role: Role): SessionSecurity {
    const out: Direction = role === 'client' ? 'client-to-server' : 'server-to-client';
    const inn: Direction = role === 'client' ? 'server-to-client' : 'client-to-server';
    const s = new SessionSecurity(
      flags,
      exportedSessionKey,
      signKey(exportedSessionKey, out),
      signKey(exportedSessionKey, inn),
      sealKey(exportedSessionKey, flags, out),
      sealKey(exportedSessionKey, flags, inn),
    );
    s.reset();
    return s;
  }

  /** Restart sequence numbers and RC4 handles (SECPKG_CONTEXT_EXPORT_RESET_NEW). */
  reset(): void {
    this.sendRc4.rekey(this.sendSealKey);
    this.recvRc4.rekey(this.recvSealKey);
    this.sendSeq = 0;
    this.recvSeq = 0;
  }

  /** Every secret buffer, for wiping and for the zeroing test. */
  secretBuffers(): SecretBuffer[] {
    return [this.exportedSessionKey, this.sendSignKey, this.recvSignKey, this.sendSealKey, this.recvSealKey, this.sendRc4.s, this.recvRc4.s];
  }

  wipe(): void {
    // Uint8Array's fill, not Buffer's: the same zeroing without Buffer.fill's argument parsing.
    for (const b of [this.exportedSessionKey, this.sendSignKey, this.recvSignKey, this.sendSealKey, this.recvSealKey]) fillZero.call(b, 0);
    // Both S-boxes are one slice.
    this.#boxes.fill(0);
    this.sendRc4.i = this.sendRc4.j = 0;
    this.recvRc4.i = this.recvRc4.j = 0;
    this.sendSeq = 0;
    this.recvSeq = 0;
  }

  private requireSign(op: string): void {
    if (!(this.flags & (NegFlag.SIGN | NegFlag.SEAL))) {
      throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'message integrity was not negotiated for this context');
    }
  }

  private requireSeal(op: string): void {
    if (!(this.flags & NegFlag.SEAL)) {
      throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'confidentiality was not negotiated for this context');
    }
  }

  /** Refuse before any state changes once a direction used all 2^32 sequence numbers. */
  private requireSeq(seq: number, op: string): void {
    if (seq >= SEQ_LIMIT) throw new SspiError('SEC_E_CONTEXT_EXPIRED', op, 'the context used all 2^32 sequence numbers in this direction; establish a new one');
  }

  /** Writes NTLMSSP_MESSAGE_SIGNATURE for `data` at out[at..at+16) and advances the send state. */
  private writeSignature(data: Uint8Array, out: Buffer, at: number): void {
    const seq = this.sendSeq;
    out.writeUInt32LE(1, at);
    out.writeUInt32LE(seq, at + 12);
    const mac = hmacMd5(this.sendSignKey, out.subarray(at + 12, at + 16), data);
    if (this.flags & NegFlag.KEY_EXCH) this.sendRc4.process(mac, out, at + 4, 8);
    else mac.copy(out, at + 4, 0, 8);
    this.sendSeq = seq + 1;
  }

  /**
   * Checks a received signature over `data`. Returns false on a bad checksum
   * (the slot is consumed); throws on structure or sequence problems.
   */
  private checkSignature(data: Uint8Array, sig: Buffer, op: string): boolean {
    if (sig.length !== SIGNATURE_SIZE) throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the signature is not 16 bytes');
    if (sig.readUInt32LE(0) !== 1) throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the signature version is not 1');
    this.requireSeq(this.recvSeq, op);
    const seq = sig.readUInt32LE(12);
    if (seq !== this.recvSeq) throw outOfSequence(op);
    const mac = hmacMd5(this.recvSignKey, sig.subarray(12, 16), data);
    const expected = mac.subarray(0, 8);
    const got = Buffer.allocUnsafe(8);
    if (this.flags & NegFlag.KEY_EXCH) this.recvRc4.process(sig.subarray(4, 12), got);
    else sig.copy(got, 0, 4, 12);
    this.recvSeq = seq + 1;
    return timingSafeEqual(got, expected);
  }

  makeSignature(data: Uint8Array, op = 'MakeSignature'): Buffer {
    this.requireSign(op);
    this.requireSeq(this.sendSeq, op);
    const sig = Buffer.allocUnsafe(SIGNATURE_SIZE);
    this.writeSignature(data, sig, 0);
    return sig;
  }

  verifySignature(data: Uint8Array, sig: Buffer, op = 'VerifySignature'): void {
    this.requireSign(op);
    if (!this.checkSignature(data, sig, op)) throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the signature does not match the message');
  }

  /** SEAL (3.4.3): signature (16 bytes) || RC4-sealed data, the gss_wrap layout. */
  seal(data: Uint8Array, op = 'EncryptMessage'): Buffer {
    this.requireSeal(op);
    this.requireSeq(this.sendSeq, op);
    const out = Buffer.allocUnsafe(SIGNATURE_SIZE + data.length);
    this.sendRc4.process(data, out, SIGNATURE_SIZE);
    this.writeSignature(data, out, 0);
    return out;
  }

  unseal(message: Buffer, op = 'DecryptMessage'): Buffer {
    this.requireSeal(op);
    if (message.length < SIGNATURE_SIZE) throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the sealed message is shorter than its signature');
    const sig = message.subarray(0, SIGNATURE_SIZE);
    if (sig.readUInt32LE(0) !== 1) throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the signature version is not 1');
    this.requireSeq(this.recvSeq, op);
    if (sig.readUInt32LE(12) !== this.recvSeq) throw outOfSequence(op);
    const sealed = message.subarray(SIGNATURE_SIZE);
    const plain = Buffer.allocUnsafe(sealed.length);
    this.recvRc4.process(sealed, plain);
    if (!this.checkSignature(plain, sig, op)) {
      plain.fill(0);
      throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the sealed message was altered');
    }
    return plain;
  }
}
