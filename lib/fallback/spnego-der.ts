/**
 * The four SPNEGO structures (RFC 4178 §4.2, MS-SPNG 2.2): InitialContextToken
 * around NegTokenInit, NegTokenResp, MechTypeList and the OIDs in it, in DER.
 *
 * Hand-written on purpose: the grammar is four small SEQUENCEs, and the npm
 * ASN.1 packages (asn1js, @lapo/asn1js, asn1.js) are BER readers that accept
 * indefinite lengths, non-minimal lengths and trailing bytes, which a strict
 * acceptor must refuse. Here every deviation from DER (X.690 §10), every
 * unknown or out-of-order field and every trailing byte is SEC_E_INVALID_TOKEN.
 * Parsers keep subarrays of the input (no copies).
 */
import { invalidToken } from './bytes.js';

/** Largest SPNEGO token read; Windows caps Negotiate tokens at 48 KiB (cbMaxToken 48256). */
export const MAX_SPNEGO_TOKEN = 64 * 1024;

export const OID_SPNEGO = '1.3.6.1.5.5.2';
export const OID_NTLMSSP = '1.3.6.1.4.1.311.2.2.10';

/** RFC 4178 §4.2.2 negState. */
export const NegState = Object.freeze({ ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const);
export type NegStateValue = (typeof NegState)[keyof typeof NegState];

export interface NegTokenInit {
  /** The MechTypeList's DER encoding as received: the mechListMIC covers these bytes. */
  mechTypesDer: Buffer;
  mechTypes: string[];
  mechToken?: Buffer;
  mechListMIC?: Buffer;
}

export interface NegTokenResp {
  negState?: NegStateValue;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

export type NegotiationToken = { kind: 'init'; init: NegTokenInit } | { kind: 'resp'; resp: NegTokenResp };

// ---------------------------------------------------------------- reading

interface Tlv {
  tag: number;
  value: Buffer;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

/** One element at `at`, DER only: low-tag-number form, definite minimal length. */
function readTlv(buf: Buffer, at: number, op: string): Tlv {
  if (at + 2 > buf.length) throw invalidToken(op, 'the SPNEGO token is truncated');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw invalidToken(op, 'the SPNEGO token uses a high tag number');
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // 0x80 is BER's indefinite length; DER has none. Three length bytes exceed any token we read.
    if (n === 0) throw invalidToken(op, 'the SPNEGO token uses an indefinite length (not DER)');
    if (n > 3) throw invalidToken(op, 'an SPNEGO length is too large');
    if (p + n > buf.length) throw invalidToken(op, 'the SPNEGO token is truncated inside a length');
    if (buf[p] === 0) throw invalidToken(op, 'an SPNEGO length is not minimally encoded (not DER)');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[p + k]!;
    if (len < 0x80) throw invalidToken(op, 'an SPNEGO length is not minimally encoded (not DER)');
    p += n;
  }
  if (len > buf.length - p) throw invalidToken(op, 'an SPNEGO element runs past the end of the token');
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

/** Exactly one element filling `buf`. */
function readOnly(buf: Buffer, tag: number, op: string, what: string): Buffer {
  const t = readTlv(buf, 0, op);
  if (t.tag !== tag) throw invalidToken(op, `${what} has the wrong tag`);
  if (t.end !== buf.length) throw invalidToken(op, `${what} is followed by trailing bytes`);
  return t.value;
}

/** The elements of a constructed value, in order. */
function children(value: Buffer, op: string): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < value.length) {
    const t = readTlv(value, at, op);
    out.push(t);
    at = t.end;
  }
  return out;
}

export function decodeOid(value: Buffer, op: string): string {
  if (value.length === 0 || value.length > 64) throw invalidToken(op, 'an SPNEGO OID has a bad length');
  const arcs: number[] = [];
  let n = 0;
  let first = true;
  for (let k = 0; k < value.length; k++) {
    const b = value[k]!;
    // A subidentifier may not start with 0x80 (X.690 §8.19.2: minimal encoding).
    if (first && b === 0x80) throw invalidToken(op, 'an SPNEGO OID subidentifier is not minimally encoded');
    if (n > 0x1ffffff) throw invalidToken(op, 'an SPNEGO OID subidentifier is too large');
    n = n * 128 + (b & 0x7f);
    first = false;
    if (!(b & 0x80)) {
      arcs.push(n);
      n = 0;
      first = true;
    }
  }
  if (!first) throw invalidToken(op, 'an SPNEGO OID ends inside a subidentifier');
  const head = arcs[0]!;
  const top = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [top, head - top * 40, ...arcs.slice(1)].join('.');
}

/** Context-specific constructed [n] fields of a SEQUENCE: each at most once, in increasing order. */
function taggedFields(seq: Buffer, allowed: number, op: string, what: string): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let last = -1;
  for (const t of children(seq, op)) {
    const n = t.tag - 0xa0;
    if (n < 0 || n >= allowed || (t.tag & 0xe0) !== 0xa0) throw invalidToken(op, `${what} has an unknown field`);
    if (n <= last) throw invalidToken(op, `${what} fields are repeated or out of order (not DER)`);
    last = n;
    out.set(n, t.value);
  }
  return out;
}

function octets(field: Buffer, op: string, what: string): Buffer {
  return readOnly(field, 0x04, op, what);
}

function mechTypeList(field: Buffer, op: string): { der: Buffer; oids: string[] } {
  const seq = readOnly(field, 0x30, op, 'mechTypes');
  const oids = children(seq, op).map((t) => {
    if (t.tag !== 0x06) throw invalidToken(op, 'mechTypes holds something other than an OID');
    return decodeOid(t.value, op);
  });
  if (oids.length === 0) throw invalidToken(op, 'mechTypes is empty');
  return { der: field, oids };
}

function parseInit(value: Buffer, op: string): NegTokenInit {
  // A client's NegTokenInit has [0]..[3] (RFC 4178 §4.2.1). NegTokenInit2 (MS-SPNG 2.2.1) is server-sent only.
  const f = taggedFields(readOnly(value, 0x30, op, 'NegTokenInit'), 4, op, 'NegTokenInit');
  const mt = f.get(0);
  if (!mt) throw invalidToken(op, 'NegTokenInit has no mechTypes');
  const { der, oids } = mechTypeList(mt, op);
  const out: NegTokenInit = { mechTypesDer: der, mechTypes: oids };
  const flags = f.get(1);
  if (flags) {
    const bits = readOnly(flags, 0x03, op, 'reqFlags');
    if (bits.length === 0 || bits[0]! > 7 || (bits.length === 1 && bits[0] !== 0)) throw invalidToken(op, 'reqFlags is not a valid BIT STRING');
  }
  const tok = f.get(2);
  if (tok) out.mechToken = octets(tok, op, 'mechToken');
  const mic = f.get(3);
  if (mic) out.mechListMIC = octets(mic, op, 'mechListMIC');
  return out;
}

function parseResp(value: Buffer, op: string): NegTokenResp {
  const f = taggedFields(readOnly(value, 0x30, op, 'NegTokenResp'), 4, op, 'NegTokenResp');
  if (f.size === 0) throw invalidToken(op, 'NegTokenResp is empty');
  const out: NegTokenResp = {};
  const st = f.get(0);
  if (st) {
    const e = readOnly(st, 0x0a, op, 'negState');
    if (e.length !== 1 || e[0]! > 3) throw invalidToken(op, 'negState is not one of the four RFC 4178 values');
    out.negState = e[0] as NegStateValue;
  }
  const mech = f.get(1);
  if (mech) out.supportedMech = decodeOid(readOnly(mech, 0x06, op, 'supportedMech'), op);
  const tok = f.get(2);
  if (tok) out.responseToken = octets(tok, op, 'responseToken');
  const mic = f.get(3);
  if (mic) out.mechListMIC = octets(mic, op, 'mechListMIC');
  return out;
}

/**
 * A whole Negotiate token: the InitialContextToken (0x60, thisMech SPNEGO,
 * NegTokenInit) of a first leg, or a bare NegTokenResp ([1]) of later legs.
 */
export function decodeNegotiationToken(token: Buffer, op: string): NegotiationToken {
  if (token.length > MAX_SPNEGO_TOKEN) throw invalidToken(op, 'the SPNEGO token is larger than any Negotiate token');
  if (token[0] === 0x60) {
    // RFC 2743 §3.1: [APPLICATION 0] IMPLICIT SEQUENCE { thisMech, innerContextToken }.
    const body = readOnly(token, 0x60, op, 'the InitialContextToken');
    const oid = readTlv(body, 0, op);
    if (oid.tag !== 0x06 || decodeOid(oid.value, op) !== OID_SPNEGO) throw invalidToken(op, 'the InitialContextToken is not SPNEGO');
    const inner = body.subarray(oid.end);
    return { kind: 'init', init: parseInit(readOnly(inner, 0xa0, op, 'negTokenInit'), op) };
  }
  // Later legs carry a bare NegTokenResp; a NegTokenInit without the GSS-API framing is refused.
  if (token[0] === 0xa1) return { kind: 'resp', resp: parseResp(readOnly(token, 0xa1, op, 'negTokenResp'), op) };
  throw invalidToken(op, 'the token is neither SPNEGO nor NTLMSSP');
}

// ---------------------------------------------------------------- writing

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [];
  const push = (v: number): void => {
    const chunk = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Buffer.from(bytes));
}

/** MechTypeList: SEQUENCE OF OID, the bytes the mechListMIC signs. */
export function encodeMechTypes(oids: readonly string[]): Buffer {
  return tlv(0x30, ...oids.map(encodeOid));
}

export function encodeInitialToken(mechTypesDer: Buffer, mechToken?: Buffer): Buffer {
  const init = tlv(0x30, tlv(0xa0, mechTypesDer), ...(mechToken ? [tlv(0xa2, tlv(0x04, mechToken))] : []));
  return tlv(0x60, encodeOid(OID_SPNEGO), tlv(0xa0, init));
}

export function encodeNegTokenResp(r: NegTokenResp): Buffer {
  const parts: Buffer[] = [];
  if (r.negState !== undefined) parts.push(tlv(0xa0, tlv(0x0a, Buffer.from([r.negState]))));
  if (r.supportedMech !== undefined) parts.push(tlv(0xa1, encodeOid(r.supportedMech)));
  if (r.responseToken !== undefined) parts.push(tlv(0xa2, tlv(0x04, r.responseToken)));
  if (r.mechListMIC !== undefined) parts.push(tlv(0xa3, tlv(0x04, r.mechListMIC)));
  return tlv(0xa1, tlv(0x30, ...parts));
}

/**
 * The signatureAlgorithm OID of an X.509 certificate (RFC 5280 §4.1:
 * SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }), for the
 * tls-server-end-point hash choice. Uses the same strict reader.
 */
export function certificateSignatureOid(der: Buffer, op: string): string {
  const parts = children(readOnly(der, 0x30, op, 'the certificate'), op);
  if (parts.length !== 3 || parts[0]!.tag !== 0x30 || parts[1]!.tag !== 0x30 || parts[2]!.tag !== 0x03) {
    throw invalidToken(op, 'the certificate is not an X.509 Certificate');
  }
  const alg = readTlv(parts[1]!.value, 0, op);
  if (alg.tag !== 0x06) throw invalidToken(op, 'the certificate signatureAlgorithm has no OID');
  return decodeOid(alg.value, op);
}
