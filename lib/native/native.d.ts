/**
 * Private: exactly what the C++ addon (native/) exports. Only lib/native/ uses it.
 * Handles are type-tagged wrapper objects; `close()` is idempotent and every call on a
 * closed handle throws SspiError(SEC_E_INVALID_HANDLE). Failing SSPI calls throw (or
 * reject with) the class given to setErrorClass, as `new cls(status, operation, detail?)`.
 */

export interface NativeSecBuffer {
  type: number;
  buffer: Buffer;
  /** cbBuffer when it differs from buffer.length (SECBUFFER_MISSING, or EXTRA beyond the input). */
  size?: number;
}

export interface NativeHandle {
  close(): void;
  readonly closed: boolean;
}

/** CredHandle. Created by acquireCredentialsHandle only. */
export interface NativeCredential extends NativeHandle {
  readonly __native: 'Credential';
}

/** CtxtHandle. `new Context()` is empty until the first ISC/ASC creates it. */
export interface NativeContext extends NativeHandle {
  readonly __native: 'Context';
}

/** A token HANDLE of this process, closed with CloseHandle. */
export interface NativeToken extends NativeHandle {
  readonly __native: 'Token';
  /** The HANDLE value in this process. */
  readonly value: bigint;
  /** OpenProcess(PROCESS_DUP_HANDLE) + DuplicateHandle: the value valid in process `pid`. */
  duplicateTo(pid: number): bigint;
  /** String SID of the token's user (TokenUser). */
  userSid(): string;
}

export interface NativePackageInfo {
  name: string;
  comment: string;
  capabilities: number;
  version: number;
  rpcId: number;
  maxToken: number;
}

export interface NativeIdentity {
  user: string;
  domain: string;
  /** UTF-16LE; the addon copies it before returning and zeroes its copy after the call. */
  password: Buffer;
}

export interface NativeHandshakeResult {
  /** Success or informational status of ISC/ASC (as returned, before completion). */
  status: number;
  /** [SECBUFFER_TOKEN, then SECBUFFER_EXTRA / SECBUFFER_MISSING when the package reported them]. */
  output: NativeSecBuffer[];
  contextAttributes: number;
  /** ms since the Unix epoch. */
  expiry: number;
  /** true when the addon already ran CompleteAuthToken on the output (SEC_I_COMPLETE_*). */
  completed: boolean;
}

export interface NativeAttributeMap {
  /** SECPKG_ATTR_SIZES = 0 */
  0: { cbMaxToken: number; cbMaxSignature: number; cbBlockSize: number; cbSecurityTrailer: number };
  /** SECPKG_ATTR_NAMES = 1 */
  1: { clientName: string };
  /** SECPKG_ATTR_LIFESPAN = 2 */
  2: { start: number; expiry: number };
  /** SECPKG_ATTR_PACKAGE_INFO = 10 */
  10: NativePackageInfo;
  /** SECPKG_ATTR_NEGOTIATION_INFO = 12 */
  12: { packageName: string; state: number };
  /** SECPKG_ATTR_NATIVE_NAMES = 13 */
  13: { clientName: string; serverName: string };
  /** SECPKG_ATTR_FLAGS = 14 */
  14: number;
}

export type SspiErrorConstructor = new (status: number, operation: string, detail?: string) => Error;

export interface NativeBinding {
  setErrorClass(cls: SspiErrorConstructor): void;

  readonly Context: new () => NativeContext;
  /** Not constructible from JS (TypeError); exported for instanceof checks. */
  readonly Credential: abstract new () => NativeCredential;
  /** Not constructible from JS (TypeError); exported for instanceof checks. */
  readonly Token: abstract new () => NativeToken;

  enumerateSecurityPackages(): NativePackageInfo[];
  /** use: SECPKG_CRED_INBOUND 1, OUTBOUND 2, BOTH 3. */
  acquireCredentialsHandle(
    packageName: string,
    use: number,
    identity: NativeIdentity | null,
  ): Promise<{ cred: NativeCredential; expiry: number }>;
  initializeSecurityContext(
    cred: NativeCredential,
    ctx: NativeContext,
    target: string | null,
    flags: number,
    input: NativeSecBuffer[],
  ): Promise<NativeHandshakeResult>;
  acceptSecurityContext(
    cred: NativeCredential,
    ctx: NativeContext,
    flags: number,
    input: NativeSecBuffer[],
  ): Promise<NativeHandshakeResult>;
  /** Returns the buffers as the package left them. */
  completeAuthToken(ctx: NativeContext, buffers: NativeSecBuffer[]): NativeSecBuffer[];
  /** bufferType: what the package left in the packed SecBuffer's BufferType. */
  exportSecurityContext(ctx: NativeContext, flags: number): Promise<{ packed: Buffer; token: NativeToken | null; bufferType: number }>;
  /**
   * The package is given a same-process duplicate of `token` (it may keep and close it, as
   * Windows' NTLM does); the caller's token stays the caller's. bufferType defaults to
   * SECBUFFER_EMPTY.
   */
  importSecurityContext(packageName: string, packed: Buffer, token: NativeToken | null, bufferType?: number): Promise<NativeContext>;
  queryContextAttributes<K extends keyof NativeAttributeMap>(ctx: NativeContext, attribute: K): NativeAttributeMap[K];
  makeSignature(ctx: NativeContext, data: Buffer): Buffer;
  /** Returns the quality of protection. */
  verifySignature(ctx: NativeContext, data: Buffer, signature: Buffer): number;
  encryptMessage(ctx: NativeContext, data: Buffer): Buffer;
  decryptMessage(ctx: NativeContext, message: Buffer): Buffer;
  impersonateSecurityContext(ctx: NativeContext): void;
  revertSecurityContext(ctx: NativeContext): void;
  /** RevertToSelf on the calling thread. */
  revertToSelf(): void;
  querySecurityContextToken(ctx: NativeContext): NativeToken;
  /** Wraps a token HANDLE value that another process duplicated into this one. */
  adoptToken(value: bigint): NativeToken;

  /** Test-only: GetProcessHandleCount. */
  processHandleCount(): number;
  /** Test-only: open handles found by probing handle values 4..limit (default 0x10000); Wine's GetProcessHandleCount is always 0. */
  probedHandleCount(limit?: number): number;
  /** Test-only: user SID of the calling thread's impersonation token, or null. */
  threadTokenSid(): string | null;
  /** Test-only: user SID of the process token. */
  processUserSid(): string;
  /** GetUserNameW on the calling thread. */
  userName(): string;
  /** Test-only: the calling thread's token (user SID, privilege names, restricted, impersonation level), or null. */
  threadTokenInfo(): { sid: string; privileges: string[]; restricted: boolean; level?: number } | null;
  /** Test-only: privilege names of the process token. */
  processPrivileges(): string[];
  /** Test-only: CloseHandle calls of the addon that failed (a double close); must stay 0. */
  closeHandleFailures(): number;
}
