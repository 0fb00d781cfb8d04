/**
 * The transfer protocol's messages (docs/transfer-protocol.md). Everything that
 * arrives on a channel is `unknown` until readMessage() has checked its shape;
 * the rest of the code only ever sees a TransferMessage.
 */

import { randomUUID } from 'node:crypto';

/** 16 bytes, lower-case hex: listener and transfer ids. */
export type Id = string;

/**
 * A fresh id: a random UUID's 122 random bits (RFC 9562 §5.4) without the
 * dashes. Ids are not secret; node draws UUIDs from a cached entropy pool,
 * which keeps two randomBytes() calls off every transfer.
 */
export const newId = (): Id => randomUUID().replace(/-/g, '');

/** Receiver -> sender: "I am listening; seal for this X25519 public key". Sent when receiveContext() starts, and again on a Solicit. */
export interface Hello {
  readonly type: 'sspi-context/hello';
  readonly listener: Id;
  /** Raw 32-byte X25519 public key, base64url (RFC 8037 `x`). Checked only when a sender uses it. */
  readonly publicKey: unknown;
}

/** Sender -> receiver: "repeat your Hello", for a sender that was not listening when it went out. */
export interface Solicit {
  readonly type: 'sspi-context/solicit';
}

/** Sender -> receiver: the sealed envelope, addressed to one listener. */
export interface EnvelopeMessage {
  readonly type: 'sspi-context/envelope';
  readonly listener: Id;
  readonly transfer: Id;
  /** The sender's raw X25519 public key, base64url. */
  readonly publicKey: unknown;
  /** encodeHandoff bytes, base64 (JSON IPC carries strings cheaply). */
  readonly envelope: string;
}

/** Receiver -> sender: imported, with a MAC that only the holder of the transfer key can make. */
export interface Imported {
  readonly type: 'sspi-context/result';
  readonly ok: true;
  readonly listener: Id;
  readonly transfer: Id;
  readonly proof: string;
}

/** Receiver -> sender: refused. Only a status travels; the sender checks it is a failure code. */
export interface Refused {
  readonly type: 'sspi-context/result';
  readonly ok: false;
  readonly listener: Id;
  readonly transfer: Id;
  readonly status: unknown;
}

/** Receiver -> sender: this listener stopped (timed out) without taking an envelope. */
export interface Withdraw {
  readonly type: 'sspi-context/withdraw';
  readonly listener: Id;
}

export type TransferMessage = Hello | Solicit | EnvelopeMessage | Imported | Refused | Withdraw;

const ID = /^[0-9a-f]{32}$/;
const isId = (v: unknown): v is Id => typeof v === 'string' && v.length === 32 && ID.test(v);

/**
 * The typed message, or undefined for anything that is not a well-formed
 * message of this protocol (other traffic on a shared channel is ignored).
 * Public keys and statuses stay `unknown` here: they are judged where they are
 * used, so a bad one fails that transfer with a status instead of vanishing.
 */
export function readMessage(m: unknown): TransferMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const r = m as Record<string, unknown>;
  switch (r.type) {
    case 'sspi-context/hello':
      return isId(r.listener) ? { type: r.type, listener: r.listener, publicKey: r.publicKey } : undefined;
    case 'sspi-context/solicit':
      return { type: r.type };
    case 'sspi-context/envelope':
      return isId(r.listener) && isId(r.transfer) && typeof r.envelope === 'string'
        ? { type: r.type, listener: r.listener, transfer: r.transfer, publicKey: r.publicKey, envelope: r.envelope }
        : undefined;
    case 'sspi-context/result':
      if (!isId(r.listener) || !isId(r.transfer)) return undefined;
      if (r.ok === true) return { type: r.type, ok: true, listener: r.listener, transfer: r.transfer, proof: typeof r.proof === 'string' ? r.proof : '' };
      return { type: r.type, ok: false, listener: r.listener, transfer: r.transfer, status: r.status };
    case 'sspi-context/withdraw':
      return isId(r.listener) ? { type: r.type, listener: r.listener } : undefined;
    default:
      return undefined;
  }
}
