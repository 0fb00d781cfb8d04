/**
 * Channel bindings (Extended Protection for Authentication).
 *
 * The application gives RFC 5929 application data (`tls-server-end-point:` +
 * certificate hash). This module builds what each backend needs:
 * - SEC_CHANNEL_BINDINGS (learn.microsoft.com "SEC_CHANNEL_BINDINGS
 *   structure"): eight ULONGs, initiator/acceptor address type, length and
 *   offset, then application data length and offset, data after the 32-byte
 *   header; Schannel fills only the application fields. The addon passes it as
 *   a SECBUFFER_CHANNEL_BINDINGS (14) input buffer next to the token.
 * - for NTLM, MsvAvChannelBindings (MS-NLMP 2.2.2.1): the MD5 of the
 *   gss_channel_bindings_struct (RFC 2744 §3.11) built from the same fields,
 *   each address as type (LE32), length (LE32), bytes.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { SspiError } from './errors.js';
import { certificateSignatureOid } from './fallback/spnego-der.js';

/** The server's policy, after IIS's extendedProtection tokenChecking (None, Allow, Require). */
export type ChannelBindingPolicy = 'none' | 'allow' | 'require';

export const SEC_CHANNEL_BINDINGS_HEADER = 32;
const MAX_APPLICATION_DATA = 64 * 1024;

function toBuffer(data: Uint8Array, op: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'channelBindings must be a Buffer or Uint8Array');
}

/** SEC_CHANNEL_BINDINGS with only the application data set, as Schannel builds it. */
export function secChannelBindings(applicationData: Uint8Array, op = 'InitializeSecurityContextW'): Buffer {
  const app = toBuffer(applicationData, op);
  if (app.length > MAX_APPLICATION_DATA) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'channelBindings is larger than 64 KiB');
  const out = Buffer.alloc(SEC_CHANNEL_BINDINGS_HEADER + app.length);
  out.writeUInt32LE(app.length, 24); // cbApplicationDataLength
  out.writeUInt32LE(SEC_CHANNEL_BINDINGS_HEADER, 28); // dwApplicationDataOffset
  app.copy(out, SEC_CHANNEL_BINDINGS_HEADER);
  return out;
}

function field(buf: Buffer, at: number, op: string, what: string): Buffer {
  const len = buf.readUInt32LE(at);
  const off = buf.readUInt32LE(at + 4);
  if (len === 0) return buf.subarray(0, 0);
  if (off < SEC_CHANNEL_BINDINGS_HEADER || off > buf.length || len > buf.length - off) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, `the SEC_CHANNEL_BINDINGS ${what} points outside the buffer`);
  }
  return buf.subarray(off, off + len);
}

/**
 * MD5 of the gss_channel_bindings_struct that a SEC_CHANNEL_BINDINGS holds:
 * the MsvAvChannelBindings value. With only application data this is MD5 of
 * four zero ULONGs, the application length and the application bytes.
 */
export function channelBindingsHash(secBindings: Buffer, op: string): Buffer {
  if (!Buffer.isBuffer(secBindings) || secBindings.length < SEC_CHANNEL_BINDINGS_HEADER) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'the SECBUFFER_CHANNEL_BINDINGS is shorter than a SEC_CHANNEL_BINDINGS header');
  }
  const initiator = field(secBindings, 4, op, 'initiator address');
  const acceptor = field(secBindings, 16, op, 'acceptor address');
  const app = field(secBindings, 24, op, 'application data');
  const u32 = (v: number): Buffer => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0, 0);
    return b;
  };
  return createHash('md5')
    .update(u32(secBindings.readUInt32LE(0)))
    .update(u32(initiator.length))
    .update(initiator)
    .update(u32(secBindings.readUInt32LE(12)))
    .update(u32(acceptor.length))
    .update(acceptor)
    .update(u32(app.length))
    .update(app)
    .digest();
}

// RFC 5929 §4.1: the certificate's signature hash, MD5 and SHA-1 upgraded to SHA-256.
const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
};

/** RFC 5929 tls-server-end-point application data for a DER certificate. */
export function tlsServerEndPoint(certificateDer: Uint8Array): Buffer {
  const op = 'tlsChannelBindings';
  const der = toBuffer(certificateDer, op);
  const oid = certificateSignatureOid(der, op);
  const hash = SIGNATURE_HASH[oid];
  // RSASSA-PSS and EdDSA name no single hash RFC 5929 could pick; Windows' behaviour there is undocumented.
  if (!hash) throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, `no tls-server-end-point hash is defined for certificate signature ${oid}`);
  return Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), createHash(hash).update(der).digest()]);
}

/**
 * tls-server-end-point channel bindings for a TLS connection: the server's
 * certificate, i.e. the local one on an accepted socket and the peer's on a
 * client socket. Give the result to ClientContext/ServerContext as
 * `channelBindings`.
 */
export function tlsChannelBindings(tlsSocket: TLSSocket): Buffer {
  const op = 'tlsChannelBindings';
  if (!tlsSocket || typeof (tlsSocket as Partial<TLSSocket>).getPeerCertificate !== 'function' || !(tlsSocket as Partial<TLSSocket>).encrypted) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'tlsChannelBindings needs a connected tls.TLSSocket');
  }
  // Node sets `server` on sockets a tls.Server accepted (lib/_tls_wrap.js); client sockets have none.
  const isServer = (tlsSocket as unknown as { server?: unknown }).server !== undefined && (tlsSocket as unknown as { server?: unknown }).server !== null;
  let raw: Buffer | undefined;
  if (isServer) {
    raw = (tlsSocket.getCertificate() as { raw?: Buffer } | null)?.raw;
  } else {
    const x509 = tlsSocket.getPeerX509Certificate?.();
    raw = x509 instanceof X509Certificate ? x509.raw : tlsSocket.getPeerCertificate()?.raw;
  }
  if (!raw || raw.length === 0) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'the TLS connection has no server certificate (not established, or a PSK/anonymous suite)');
  return tlsServerEndPoint(raw);
}
