import type { Backend, TokenHandleRef } from './backend/types.js';
import { kBackend } from './internal.js';
import { inspectSymbol, redactedBytes, zero } from './redact.js';

/** A token HANDLE that came with an export (Windows). Close it when done. */
export type TokenHandle = TokenHandleRef;

/**
 * What ExportSecurityContext returned: the package name, the packed context
 * (which holds session keys) and, on Windows, the client's token.
 */
export class ExportedContext implements Disposable {
  readonly packageName: string;
  readonly token: TokenHandle | undefined;
  #packed: Buffer;
  readonly #backend: Backend | undefined;

  constructor(packageName: string, packed: Buffer, token?: TokenHandle, backend?: Backend) {
    this.packageName = packageName;
    this.#packed = packed;
    this.token = token;
    this.#backend = backend;
  }

  /** The packed context bytes. Secret: treat like a key. */
  get packed(): Buffer {
    return this.#packed;
  }

  /** @internal */
  get [kBackend](): Backend | undefined {
    return this.#backend;
  }

  /** Zero the packed bytes and close the token. Idempotent. */
  dispose(): void {
    zero(this.#packed);
    this.#packed = Buffer.alloc(0);
    this.token?.close();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  [inspectSymbol](): string {
    return `ExportedContext { packageName: '${this.packageName}', packed: ${redactedBytes(this.#packed)}, token: ${this.token ? '<token>' : 'none'} }`;
  }

  toJSON(): object {
    return { packageName: this.packageName, packed: redactedBytes(this.#packed), token: this.token ? '<token>' : null };
  }
}
