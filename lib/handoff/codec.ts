/**
 * The handoff envelope: a versioned binary frame that carries an exported
 * context between processes. Layout: docs/handoff-format.md. Decoding is
 * strict and every failure is an SspiError.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { SspiError } from '../errors.js';
import { ExportedContext } from '../exported.js';
import { optionsOf } from '../validate.js';
import { kBackend } from '../internal.js';
import { inspectSymbol, redactedBytes } from '../redact.js';

export const HANDOFF_MAGIC = Buffer.from('SSPX', 'latin1');
export const HANDOFF_VERSION = 2;
export const HANDOFF_KEY_BYTES = 32;
/** Upper bound on packed context size; real contexts are a few KiB. */
export const HANDOFF_MAX_PACKED = 1 << 20;
export const DEFAULT_TTL_MS = 30_000;
/** Envelope lifetimes outside 1 ms .. 24 h are refused: longer ones outlive any use and bloat the single-use cache. */
export const HANDOFF_MIN_TTL_MS = 1;
export const HANDOFF_MAX_TTL_MS = 24 * 60 * 60 * 1000;

const FLAG_SEALED = 0x01;
const FIXED = 61; // bytes before the package name
const NONCE = 12;
const TAG = 16;
const OP_ENCODE = 'EncodeHandoff';
const OP_DECODE = 'DecodeHandoff';

export type TokenTransport = { mode: 'none' } | { mode: 'handle'; value: bigint; targetPid: number };

export interface HandoffHeader {
  version: number;
  sealed: boolean;
  /** 16 random bytes, hex. */
  id: string;
  createdAt: number;
  expiresAt: number;
  sourcePid: number;
  /** 0 means any process. */
  targetPid: number;
  /** The package that holds the context (the one Negotiate selected): imported under it first. */
  packageName: string;
  /** The credential's package (e.g. `Negotiate`): the import retries under it. */
  credentialPackage: string;
  /** SecBuffer type the exporter's packed buffer carried; the import passes it back. */
  bufferType: number;
  token: TokenTransport;
  /** Length of the packed context (ciphertext length when sealed). */
  packedLength: number;
  /** Whole envelope length. */
  length: number;
}

export interface EncodeHandoffOptions {
  /** 32-byte key both processes share: seals the envelope with AES-256-GCM. */
  key?: Uint8Array;
  /** The importing process. Required to carry a Windows token (it is duplicated there). */
  targetPid?: number;
  /** Lifetime of the envelope (default 30 s). */
  ttlMs?: number;
}

export interface DecodeHandoffOptions {
  key?: Uint8Array;
  /** Parse and check the header only: the packed bytes are not returned (used by `inspect`). */
  headerOnly?: boolean;
}

/** A decoded envelope. `packed` is secret and hidden from inspect/JSON. */
export class DecodedHandoff {
  readonly header: HandoffHeader;
  readonly #packed: Buffer | undefined;

  constructor(header: HandoffHeader, packed: Buffer | undefined) {
    this.header = header;
    this.#packed = packed;
  }

  get packed(): Buffer | undefined {
    return this.#packed;
  }

  [inspectSymbol](): string {
    return `DecodedHandoff { id: '${this.header.id}', packageName: '${this.header.packageName}', sealed: ${this.header.sealed}, packed: ${redactedBytes(this.#packed)} }`;
  }

  toJSON(): { header: object; packed: string } {
    return { header: { ...this.header, token: tokenJson(this.header.token) }, packed: redactedBytes(this.#packed) };
  }
}

function tokenJson(t: TokenTransport): object {
  return t.mode === 'none' ? t : { mode: t.mode, value: t.value.toString(), targetPid: t.targetPid };
}

function checkKey(key: Uint8Array | undefined, op: string): Buffer | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array) || !ArrayBuffer.isView(key) || key.length !== HANDOFF_KEY_BYTES) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, `key must be ${HANDOFF_KEY_BYTES} bytes`);
  }
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

function checkPid(pid: number | undefined, op: string): number {
  if (pid === undefined) return 0;
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffffffff) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'targetPid must be a positive 32-bit integer');
  return pid;
}

/**
 * Encode an exported context as an envelope. With a token and no targetPid, the token is
 * duplicated into this process.
 * @param exported What `ctx.export()` returned.
 * @param options `key` (32 bytes: seal with AES-256-GCM), `targetPid`, `ttlMs` (default DEFAULT_TTL_MS, 30 s).
 * @returns The envelope bytes.
 * @throws SspiError SEC_E_INVALID_HANDLE (no ExportedContext), SEC_E_INVALID_PARAMETER (bad options).
 */
export function encodeHandoff(exported: ExportedContext, options?: EncodeHandoffOptions): Buffer {
  if (!(exported instanceof ExportedContext)) throw new SspiError('SEC_E_INVALID_HANDLE', OP_ENCODE, 'exported must be the ExportedContext of ctx.export()');
  options = optionsOf(options, OP_ENCODE);
  const key = checkKey(options.key, OP_ENCODE);
  let targetPid = checkPid(options.targetPid, OP_ENCODE);
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
  if (typeof ttl !== 'number' || !(ttl >= HANDOFF_MIN_TTL_MS && ttl <= HANDOFF_MAX_TTL_MS)) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP_ENCODE, 'ttlMs must be between 1 ms and 24 h');
  }
  const name = packageNameBytes(exported.packageName);
  const credName = packageNameBytes(exported.credentialPackage);
  const packed = exported.packed;
  if (packed.length === 0 || packed.length > HANDOFF_MAX_PACKED) throw new SspiError('SEC_E_INVALID_PARAMETER', OP_ENCODE, 'packed context is empty or too large');

  let tokenMode = 0;
  let tokenValue = 0n;
  if (exported.token) {
    const backend = exported[kBackend];
    if (!backend) throw new SspiError('SEC_E_INVALID_PARAMETER', OP_ENCODE, 'the token has no backend to duplicate it');
    if (targetPid === 0) targetPid = process.pid;
    tokenValue = backend.duplicateTokenToProcess(exported.token, targetPid);
    tokenMode = 1;
  }

  const now = Date.now();
  const headerLength = FIXED + name.length + 1 + credName.length + 4 + (key ? NONCE : 0) + 4;
  // One allocation for the whole envelope: header, then body (and tag), no concat copies.
  const out = Buffer.alloc(headerLength + packed.length + (key ? TAG : 0));
  HANDOFF_MAGIC.copy(out, 0);
  out[4] = HANDOFF_VERSION;
  out[5] = key ? FLAG_SEALED : 0;
  // 6..7 reserved
  // id (8..24) and, when sealed, the nonce: fresh bytes for every envelope, from one RNG call.
  const fresh = freshBytes(key ? 16 + NONCE : 16);
  fresh.copy(out, 8, 0, 16);
  out.writeBigUInt64LE(BigInt(now), 24);
  out.writeBigUInt64LE(BigInt(Math.ceil(now + ttl)), 32);
  out.writeUInt32LE(process.pid >>> 0, 40);
  out.writeUInt32LE(targetPid >>> 0, 44);
  out[48] = tokenMode;
  // 49..51 reserved
  out.writeBigUInt64LE(tokenValue, 52);
  out[60] = name.length;
  name.copy(out, FIXED);
  let off = FIXED + name.length;
  out[off++] = credName.length;
  credName.copy(out, off);
  off += credName.length;
  out.writeUInt32LE(exported.bufferType >>> 0, off);
  off += 4;
  if (!key) {
    out.writeUInt32LE(packed.length, off);
    packed.copy(out, headerLength);
    return out;
  }
  const nonce = out.subarray(off, off + NONCE);
  fresh.copy(nonce, 0, 16, 16 + NONCE);
  off += NONCE;
  out.writeUInt32LE(packed.length, off);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(out.subarray(0, headerLength));
  let at = headerLength + cipher.update(packed).copy(out, headerLength);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

// Random bytes are drawn in blocks and handed out once each: every envelope gets
// bytes no other envelope saw, for one RNG call per block instead of two per envelope.
const RANDOM_BLOCK = 4096;
const randomPool = Buffer.alloc(RANDOM_BLOCK);
let randomAt = RANDOM_BLOCK;

function freshBytes(n: number): Buffer {
  if (randomAt + n > RANDOM_BLOCK) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const view = randomPool.subarray(randomAt, randomAt + n);
  randomAt += n;
  return view;
}

function packageNameBytes(packageName: string): Buffer {
  const name = Buffer.from(packageName, 'utf8');
  if (name.length === 0 || name.length > 255) throw new SspiError('SEC_E_INVALID_PARAMETER', OP_ENCODE, 'package name must be 1..255 bytes');
  return name;
}

// A name field: 1..255 bytes of valid UTF-8 without control characters.
function readName(b: Buffer, at: number, length: number): string {
  if (length === 0) throw bad('empty package name');
  if (b.length < at + length) throw bad('envelope is truncated');
  const bytes = b.subarray(at, at + length);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes) || /[\u0000-\u001f\u007f]/.test(text)) throw bad('package name is not valid text');
  return text;
}

function bad(detail: string): SspiError {
  return new SspiError('SEC_E_INVALID_TOKEN', OP_DECODE, detail);
}

/** Parse the header; throws SEC_E_INVALID_TOKEN on any structural fault. */
export function readHandoffHeader(input: Uint8Array): { header: HandoffHeader; bodyOffset: number } {
  if (!(input instanceof Uint8Array) || !ArrayBuffer.isView(input)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP_DECODE, 'envelope must be a Buffer or Uint8Array');
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (b.length < FIXED + 1 + 4) throw bad('envelope is truncated');
  if (!b.subarray(0, 4).equals(HANDOFF_MAGIC)) throw bad('not a handoff envelope (bad magic)');
  if (b[4] !== HANDOFF_VERSION) throw bad(`unsupported envelope version ${b[4]}`);
  const flags = b[5]!;
  if ((flags & ~FLAG_SEALED) !== 0 || b[6] !== 0 || b[7] !== 0) throw bad('unknown envelope flags');
  const sealed = (flags & FLAG_SEALED) !== 0;
  const createdAt = b.readBigUInt64LE(24);
  const expiresAt = b.readBigUInt64LE(32);
  if (createdAt > BigInt(Number.MAX_SAFE_INTEGER) || expiresAt > BigInt(Number.MAX_SAFE_INTEGER) || expiresAt <= createdAt) throw bad('bad envelope times');
  // No encoder makes a longer one; the single-use cache holds ids until expiry and relies on this bound.
  if (expiresAt - createdAt > BigInt(HANDOFF_MAX_TTL_MS)) throw bad('the envelope lifetime is longer than 24 h');
  const tokenMode = b[48]!;
  if (tokenMode > 1 || b[49] !== 0 || b[50] !== 0 || b[51] !== 0) throw bad('bad token transport');
  const tokenValue = b.readBigUInt64LE(52);
  const targetPid = b.readUInt32LE(44);
  if (tokenMode === 0 && tokenValue !== 0n) throw bad('token value without a token');
  if (tokenMode === 1 && (tokenValue === 0n || targetPid === 0)) throw bad('token handle needs a value and a target process');
  const nameLen = b[60]!;
  const packageName = readName(b, FIXED, nameLen);
  let off = FIXED + nameLen;
  if (b.length < off + 1) throw bad('envelope is truncated');
  const credLen = b[off]!;
  const credentialPackage = readName(b, off + 1, credLen);
  off += 1 + credLen;
  if (b.length < off + 4) throw bad('envelope is truncated');
  const bufferType = b.readUInt32LE(off);
  off += 4;
  if (sealed) off += NONCE;
  if (b.length < off + 4) throw bad('envelope is truncated');
  const packedLength = b.readUInt32LE(off);
  off += 4;
  if (packedLength === 0 || packedLength > HANDOFF_MAX_PACKED) throw bad('packed length out of range');
  const expected = off + packedLength + (sealed ? TAG : 0);
  if (b.length < expected) throw bad('envelope is truncated');
  if (b.length > expected) throw bad('trailing bytes after the envelope');
  const header: HandoffHeader = {
    version: b[4]!,
    sealed,
    id: b.subarray(8, 24).toString('hex'),
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
    sourcePid: b.readUInt32LE(40),
    targetPid,
    packageName,
    credentialPackage,
    bufferType,
    token: tokenMode === 1 ? { mode: 'handle', value: tokenValue, targetPid } : { mode: 'none' },
    packedLength,
    length: b.length,
  };
  return { header, bodyOffset: off };
}

/**
 * Decode an envelope. A sealed envelope needs the key (SEC_E_DECRYPT_FAILURE
 * without it, with a wrong key, or when any byte was altered); a key given for
 * a clear envelope is refused too, so a sealed handoff cannot be downgraded.
 * @param input The envelope bytes.
 * @param options `key`; `headerOnly` to skip the body.
 * @returns The header and the (secret) packed context.
 * @throws SspiError SEC_E_INVALID_TOKEN (malformed), SEC_E_DECRYPT_FAILURE (seal), SEC_E_INVALID_PARAMETER.
 */
export function decodeHandoff(input: Uint8Array, options?: DecodeHandoffOptions): DecodedHandoff {
  options = optionsOf(options, OP_DECODE);
  const key = checkKey(options.key, OP_DECODE);
  const { header, bodyOffset } = readHandoffHeader(input);
  if (options.headerOnly) return new DecodedHandoff(header, undefined);
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!header.sealed) {
    if (key) throw new SspiError('SEC_E_DECRYPT_FAILURE', OP_DECODE, 'a key was given but the envelope is not sealed');
    return new DecodedHandoff(header, Buffer.from(b.subarray(bodyOffset)));
  }
  if (!key) throw new SspiError('SEC_E_DECRYPT_FAILURE', OP_DECODE, 'the envelope is sealed and no key was given');
  const nonceAt = bodyOffset - 4 - NONCE;
  const decipher = createDecipheriv('aes-256-gcm', key, b.subarray(nonceAt, nonceAt + NONCE));
  decipher.setAAD(b.subarray(0, bodyOffset));
  decipher.setAuthTag(b.subarray(b.length - TAG));
  const body = b.subarray(bodyOffset, b.length - TAG);
  const out = decipher.update(body);
  try {
    decipher.final();
  } catch {
    out.fill(0);
    throw new SspiError('SEC_E_DECRYPT_FAILURE', OP_DECODE, 'the seal did not verify: wrong key or altered envelope');
  }
  return new DecodedHandoff(header, out);
}
