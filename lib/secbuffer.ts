/** SecBuffer and SecBufferDesc, as sspi.h defines them, with Buffers for pvBuffer. */

/** SECBUFFER_* buffer types. */
export const SecBufferType = Object.freeze({
  /** Undefined, replaced by the security package (SECBUFFER_EMPTY). */
  EMPTY: 0,
  /** Application data (SECBUFFER_DATA). */
  DATA: 1,
  /** A handshake token or a signature/trailer (SECBUFFER_TOKEN). */
  TOKEN: 2,
  /** Package-specific parameters (SECBUFFER_PKG_PARAMS). */
  PKG_PARAMS: 3,
  /** Returned when a message is incomplete: cbBuffer is the number of bytes missing (SECBUFFER_MISSING). */
  MISSING: 4,
  /** Returned when the input held more than one token: the unprocessed bytes (SECBUFFER_EXTRA). */
  EXTRA: 5,
  /** Security trailer (SECBUFFER_STREAM_TRAILER). */
  STREAM_TRAILER: 6,
  /** Security header (SECBUFFER_STREAM_HEADER). */
  STREAM_HEADER: 7,
  /** Negotiation info (SECBUFFER_NEGOTIATION_INFO). */
  NEGOTIATION_INFO: 8,
  /** Padding added by EncryptMessage (SECBUFFER_PADDING). */
  PADDING: 9,
  /** A whole sealed message for DecryptMessage to split (SECBUFFER_STREAM). */
  STREAM: 10,
  /** Mechanism list for SPNEGO (SECBUFFER_MECHLIST). */
  MECHLIST: 11,
  /** Mechanism list signature (SECBUFFER_MECHLIST_SIGNATURE). */
  MECHLIST_SIGNATURE: 12,
  /** Obsolete (SECBUFFER_TARGET). */
  TARGET: 13,
  /** Channel binding data, a SEC_CHANNEL_BINDINGS structure (SECBUFFER_CHANNEL_BINDINGS). */
  CHANNEL_BINDINGS: 14,
  /** Change cipher spec (SECBUFFER_CHANGE_PASS_RESPONSE). */
  CHANGE_PASS_RESPONSE: 15,
  /** Target host name (SECBUFFER_TARGET_HOST). */
  TARGET_HOST: 16,
  /** Alert message (SECBUFFER_ALERT). */
  ALERT: 17,
  /** Application protocol list (SECBUFFER_APPLICATION_PROTOCOLS). */
  APPLICATION_PROTOCOLS: 18,
  /** SRTP protection profiles (SECBUFFER_SRTP_PROTECTION_PROFILES). */
  SRTP_PROTECTION_PROFILES: 19,
  /** SRTP master key identifier (SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER). */
  SRTP_MASTER_KEY_IDENTIFIER: 20,
  /** Token binding (SECBUFFER_TOKEN_BINDING). */
  TOKEN_BINDING: 21,
  /** Preshared key (SECBUFFER_PRESHARED_KEY). */
  PRESHARED_KEY: 22,
  /** Preshared key identity (SECBUFFER_PRESHARED_KEY_IDENTITY). */
  PRESHARED_KEY_IDENTITY: 23,
  /** DTLS MTU (SECBUFFER_DTLS_MTU). */
  DTLS_MTU: 24,
  /** Send-generic TLS extension (SECBUFFER_SEND_GENERIC_TLS_EXTENSION). */
  SEND_GENERIC_TLS_EXTENSION: 25,
  /** Subscribe-generic TLS extension (SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION). */
  SUBSCRIBE_GENERIC_TLS_EXTENSION: 26,
  /** Flags (SECBUFFER_FLAGS). */
  FLAGS: 27,
  /** Traffic secrets (SECBUFFER_TRAFFIC_SECRETS). */
  TRAFFIC_SECRETS: 28,
  /** Certificate request context (SECBUFFER_CERTIFICATE_REQUEST_CONTEXT). */
  CERTIFICATE_REQUEST_CONTEXT: 29,
} as const);
export type SecBufferTypeValue = (typeof SecBufferType)[keyof typeof SecBufferType];

/** Flags OR-ed into BufferType. */
export const SecBufferAttr = Object.freeze({
  /** The buffer is read-only and not included in the checksum (SECBUFFER_READONLY). */
  READONLY: 0x80000000,
  /** The buffer is read-only but included in the checksum (SECBUFFER_READONLY_WITH_CHECKSUM). */
  READONLY_WITH_CHECKSUM: 0x10000000,
  /** Reserved (SECBUFFER_RESERVED). */
  RESERVED: 0x60000000,
  /** Mask of the attribute bits (SECBUFFER_ATTRMASK). */
  ATTRMASK: 0xf0000000,
} as const);

/** SECBUFFER_VERSION, the only SecBufferDesc version. */
export const SECBUFFER_VERSION = 0;

/** One SecBuffer. `type` may carry SecBufferAttr bits. */
export interface SecBuffer {
  type: number;
  /** The bytes; for MISSING, an empty buffer and `size` holds the count. */
  buffer: Buffer;
  /** cbBuffer when it differs from buffer.length (MISSING). */
  size?: number;
}

/** SecBufferDesc: a version and an array of buffers. */
export interface SecBufferDesc {
  version: typeof SECBUFFER_VERSION;
  buffers: SecBuffer[];
}

/** The buffer type without attribute bits. */
export function baseType(type: number): number {
  return (type & ~SecBufferAttr.ATTRMASK) >>> 0;
}

/** First buffer of the given base type. */
export function findBuffer(buffers: readonly SecBuffer[], type: number): SecBuffer | undefined {
  return buffers.find((b) => baseType(b.type) === type);
}

/** Build a SecBufferDesc. */
export function secBufferDesc(...buffers: SecBuffer[]): SecBufferDesc {
  return { version: SECBUFFER_VERSION, buffers };
}
