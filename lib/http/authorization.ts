/**
 * The `Authorization: <scheme> [token68]` header (RFC 7235 §2.1, RFC 4559 §4),
 * parsed by one left-to-right scan: every character is looked at a bounded
 * number of times, so a header of any shape costs time linear in its length.
 * (A backtracking regular expression here cost ~0.2 s on 16 KB of spaces.)
 */
import { SspiError } from '../errors.js';

const OP = 'HttpNegotiate';

export interface ParsedAuthorization {
  scheme: string;
  token: Buffer | undefined;
}

/**
 * Counts the characters a parse reads; tests use it to prove the work is
 * linear in the header length without timing anything. Public: parseAuthorization takes it.
 */
export interface ScanMeter {
  reads: number;
}

const TCHAR_PUNCT = "!#$%&'*+.^_`|~-";

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** RFC 7230 §3.2.6 tchar. */
function isTchar(c: number): boolean {
  return isAlnum(c) || (c < 0x80 && TCHAR_PUNCT.includes(String.fromCharCode(c)));
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** The base64 alphabet of RFC 4648 §4 (what RFC 4559 tokens use). */
function isBase64(c: number): boolean {
  return isAlnum(c) || c === 0x2b /* + */ || c === 0x2f /* / */;
}

function malformed(detail: string): SspiError {
  return new SspiError('SEC_E_INVALID_TOKEN', OP, detail);
}

/** Parse `Authorization: <scheme> <token68>`. Throws SspiError for a malformed header. */
export function parseAuthorization(header: string | undefined, meter?: ScanMeter): ParsedAuthorization | undefined {
  if (header === undefined) return undefined;
  const n = header.length;
  let i = 0;
  const at = (k: number): number => {
    if (meter) meter.reads++;
    return header.charCodeAt(k);
  };

  while (i < n && isBlank(at(i))) i++;
  const schemeStart = i;
  while (i < n && isTchar(at(i))) i++;
  if (i === schemeStart) throw malformed('the Authorization header is malformed');
  const scheme = header.slice(schemeStart, i);
  if (i < n && !isBlank(at(i))) throw malformed('the Authorization header is malformed');
  while (i < n && isBlank(at(i))) i++;

  // token68: base64 characters, then at most two '=' (RFC 4648 §4 padding).
  const tokenStart = i;
  while (i < n && isBase64(at(i))) i++;
  const dataEnd = i;
  while (i < n && at(i) === 0x3d /* = */) i++;
  const tokenEnd = i;
  while (i < n && isBlank(at(i))) i++;
  if (i < n) {
    // Something other than a trailing blank after the token: a second word, a
    // character outside base64, or padding in the middle.
    throw malformed(tokenEnd > tokenStart ? 'the Authorization token is not valid base64' : 'the Authorization header is malformed');
  }
  if (tokenEnd === tokenStart) return { scheme, token: undefined };
  const data = dataEnd - tokenStart;
  if (data === 0 || tokenEnd - dataEnd > 2 || data % 4 === 1) {
    throw malformed('the Authorization token is not valid base64');
  }
  return { scheme, token: Buffer.from(header.slice(tokenStart, dataEnd), 'base64') };
}
