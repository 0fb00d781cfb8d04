import type { Backend, TokenHandleRef } from './backend/types.js';
import { kBackend, kTakeToken } from './internal.js';
import { inspectSymbol, redactedBytes, zero } from './redact.js';

// Zero bytes hold nothing, so every spent export can share one.
const SPENT = Buffer.alloc(0);

/** A token HANDLE that came with an export (Windows). Close it when done. */
export type TokenHandle = TokenHandleRef;

/** Where an exported context came from, besides its bytes. */
export interface ExportedContextInfo {
  /** The credential's package, e.g. `Negotiate` (defaults to packageName). */
  credentialPackage?: string;
  /** SecBuffer type of the exporter's packed buffer (default SECBUFFER_EMPTY, 0). */
  bufferType?: number;
  token?: TokenHandle;
  backend?: Backend;
}

/**
 * What ExportSecurityContext returned: the package that holds the context, the
 * packed context (which holds session keys) and, on Windows, the client's token.
 * Importing it spends it: the import takes the token and zeroes the bytes.
 */
export class ExportedContext implements Disposable {
  /** The package that holds the context: for Negotiate, the package it selected (SECPKG_ATTR_NEGOTIATION_INFO). */
  readonly packageName: string;
  /** The package of the credential the context was made with (`Negotiate`, `NTLM`, ...). */
  readonly credentialPackage: string;
  /** SecBuffer type the exporter's packed buffer carried; the import passes it back. */
  readonly bufferType: number;
  #token: TokenHandle | undefined;
  #packed: Buffer;
  readonly #backend: Backend | undefined;

  /** @internal */
  constructor(packageName: string, packed: Buffer, info: ExportedContextInfo = {}) {
    this.packageName = packageName;
    this.credentialPackage = info.credentialPackage ?? packageName;
    this.bufferType = info.bufferType ?? 0;
    this.#packed = packed;
    this.#token = info.token;
    this.#backend = info.backend;
  }

  /** The packed context bytes. Secret: treat like a key. */
  get packed(): Buffer {
    return this.#packed;
  }

  /** The client's token (server contexts on Windows), until an import takes it or dispose() closes it. */
  get token(): TokenHandle | undefined {
    return this.#token;
  }

  /** True once imported or disposed: the bytes are zeroed and the token is gone. */
  get spent(): boolean {
    return this.#packed.length === 0;
  }

  /** @internal */
  get [kBackend](): Backend | undefined {
    return this.#backend;
  }

  /** @internal The import takes the token over; the caller closes it when the import is done. */
  [kTakeToken](): TokenHandle | undefined {
    const t = this.#token;
    this.#token = undefined;
    return t;
  }

  /** Zero the packed bytes and close the token. Idempotent. */
  dispose(): void {
    zero(this.#packed);
    this.#packed = SPENT;
    const t = this.#token;
    this.#token = undefined;
    t?.close();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  [inspectSymbol](): string {
    return `ExportedContext { packageName: '${this.packageName}', credentialPackage: '${this.credentialPackage}', packed: ${redactedBytes(this.#packed)}, token: ${this.#token ? '<token>' : 'none'} }`;
  }

  toJSON(): object {
    return { packageName: this.packageName, credentialPackage: this.credentialPackage, packed: redactedBytes(this.#packed), token: this.#token ? '<token>' : null };
  }
}
