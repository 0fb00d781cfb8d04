import { SspiError } from './errors.js';
import { getBackend } from './backend/select.js';
import { debug } from './debug.js';
import type { AuthIdentity, Backend, CredHandleRef, CredentialUse, UserEntry } from './backend/types.js';
import { kBackend, kHandle } from './internal.js';
import { inspectSymbol } from './redact.js';

/** A security package's name: the three Windows ships with, or any installed SSP's. */
export type PackageName = 'Negotiate' | 'Kerberos' | 'NTLM' | (string & {});

export interface AcquireCredentialsOptions {
  /** Security package: 'NTLM', 'Negotiate', 'Kerberos', or a custom SSP's name. */
  package: PackageName;
  /** `'inbound'` (server), `'outbound'` (client) or `'both'`. */
  use: CredentialUse;
  /** Explicit credentials; omit to use the current user's (Windows). */
  identity?: AuthIdentity;
  /** Fallback server store: entries or a `DOMAIN:user:password` file path. */
  users?: UserEntry[] | string;
  /**
   * Fallback server store: accept entries with an empty password. Refused by
   * default, as Windows' LimitBlankPasswordUse policy does for network logons.
   */
  allowBlankPassword?: boolean;
  /**
   * Use this backend instead of the process-wide one (tests, fakes).
   * @internal
   */
  backend?: Backend;
}

const USES: readonly CredentialUse[] = ['inbound', 'outbound', 'both'];
const OP = 'AcquireCredentialsHandleW';

function validate(o: AcquireCredentialsOptions): void {
  if (o === null || typeof o !== 'object') throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'options must be an object');
  if (typeof o.package !== 'string' || o.package.length === 0 || o.package.length > 256) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'package must be a non-empty string');
  }
  if (!USES.includes(o.use)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, `use must be one of ${USES.join(', ')}`);
  const id = o.identity;
  if (id !== undefined) {
    const ok = id && typeof id === 'object' && typeof id.user === 'string' && typeof id.domain === 'string' && typeof id.password === 'string';
    if (!ok) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'identity must be { user, domain, password } strings');
  }
}

/** A credential handle (CredHandle). Close it, or let `using` do it. */
export class Credentials implements Disposable {
  /** The package the credential was acquired for. */
  readonly packageName: PackageName;
  /** The direction it serves. */
  readonly use: CredentialUse;
  /** Expiry in ms since epoch, when the package reports one. */
  readonly expiry: number | undefined;
  #handle: CredHandleRef | null;
  readonly #backend: Backend;

  private constructor(backend: Backend, handle: CredHandleRef, o: AcquireCredentialsOptions, expiry?: number) {
    this.#backend = backend;
    this.#handle = handle;
    this.packageName = o.package;
    this.use = o.use;
    this.expiry = expiry;
  }

  /**
   * AcquireCredentialsHandleW.
   * @param options The package, the direction, and an explicit identity or (fallback server) users.
   * @returns The credential handle; close it when done.
   * @throws SspiError SEC_E_INVALID_PARAMETER for bad options; the package's status otherwise,
   * e.g. SEC_E_SECPKG_NOT_FOUND or SEC_E_NO_CREDENTIALS.
   */
  static async acquire(options: AcquireCredentialsOptions): Promise<Credentials> {
    validate(options);
    if (options.users !== undefined && typeof options.users !== 'string' && !Array.isArray(options.users)) {
      throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'users must be an array of entries or a file path');
    }
    const backend = options.backend ?? getBackend();
    debug('%s: package %s, use %s, %s identity, backend %s', OP, options.package, options.use, options.identity ? 'explicit' : 'default', backend.name);
    const { cred, expiry } = await backend.acquireCredentialsHandle({
      packageName: options.package,
      use: options.use,
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.users !== undefined ? { users: options.users } : {}),
      ...(options.allowBlankPassword === true ? { allowBlankPassword: true } : {}),
    });
    return new Credentials(backend, cred, options, expiry);
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /** @internal */
  [kHandle](operation: string): CredHandleRef {
    if (!this.#handle) throw new SspiError('SEC_E_INVALID_HANDLE', operation, 'the credentials are closed');
    return this.#handle;
  }

  /** @internal */
  get [kBackend](): Backend {
    return this.#backend;
  }

  /** FreeCredentialsHandle. Closing twice is a no-op. */
  close(): void {
    const h = this.#handle;
    this.#handle = null;
    if (h) this.#backend.freeCredentialsHandle(h);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [inspectSymbol](): string {
    return `Credentials { packageName: '${this.packageName}', use: '${this.use}', closed: ${this.closed} }`;
  }

  toJSON(): object {
    return { packageName: this.packageName, use: this.use, closed: this.closed };
  }
}
