/**
 * The backend interface (private). It mirrors the user-mode package function
 * table (SECPKG_USER_FUNCTION_TABLE) plus the SSPI calls this library uses.
 * Handles are opaque objects owned by the backend; the public classes in
 * lib/context.ts never look inside them.
 */
import type { SecBuffer } from '../secbuffer.js';

/** Opaque credential handle (CredHandle). */
export interface CredHandleRef {
  readonly kind: 'cred';
}

/** Opaque context handle (CtxtHandle). */
export interface CtxtHandleRef {
  readonly kind: 'ctxt';
}

/** A token HANDLE held by this process (closed with CloseHandle). */
export interface TokenHandleRef {
  readonly kind: 'token';
  /** The raw HANDLE value in this process, for diagnostics and the handoff only. */
  readonly value: bigint;
  close(): void;
  /** String SID of the token's user (native backend; diagnostics and tests). */
  userSid?(): string;
}

export type CredentialUse = 'inbound' | 'outbound' | 'both';

/** A fallback credential-store entry; exactly one of password or ntHash. */
export interface UserEntry {
  domain: string;
  user: string;
  password?: string;
  /** 16-byte NT hash (MD4 of the UTF-16LE password), Buffer or hex. */
  ntHash?: Buffer | string;
}

export interface AuthIdentity {
  user: string;
  domain: string;
  password: string;
}

export interface AcquireCredentialsRequest {
  packageName: string;
  use: CredentialUse;
  identity?: AuthIdentity;
  /** Fallback server store: entries, or read from a `DOMAIN:user:password` file. */
  users?: UserEntry[] | string;
  /** Fallback server store: accept entries with an empty password (default: refused). */
  allowBlankPassword?: boolean;
}

export interface AcquiredCredentials {
  cred: CredHandleRef;
  /** Expiry as ms since epoch, when the package reports one. */
  expiry?: number;
}

export interface HandshakeRequest {
  /** Existing context, or null on the first call. */
  context: CtxtHandleRef | null;
  /** ISC_REQ_* or ASC_REQ_* bits. */
  flags: number;
  /** InitializeSecurityContextW only: the SPN. */
  target?: string;
  /** Input buffers (SECBUFFER_TOKEN, SECBUFFER_CHANNEL_BINDINGS, ...). */
  input: SecBuffer[];
  /** Settings the fallback packages take per context; Windows' packages read theirs from the registry. */
  policy?: HandshakePolicy;
}

export interface HandshakePolicy {
  /** Least session key strength accepted (NTLMMinServerSec / NTLMMinClientSec); default 128. */
  minimumSecurity?: 128 | 56 | 40;
  /** Acceptor: the SPNs (MsvAvTargetName) this server answers to. */
  targetNames?: readonly string[];
}

export interface HandshakeResult {
  context: CtxtHandleRef;
  /** SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE. */
  status: number;
  /** Output buffers: the token, and SECBUFFER_EXTRA / SECBUFFER_MISSING if any. */
  output: SecBuffer[];
  /** ISC_RET_* / ASC_RET_* bits. */
  contextAttributes: number;
  expiry?: number;
}

export interface ExportResult {
  packed: Buffer;
  token?: TokenHandleRef;
  /** The BufferType the package left on the packed SecBuffer (SECBUFFER_EMPTY when it set none). */
  bufferType: number;
}

/** SECPKG_ATTR_NEGOTIATION_INFO: the package Negotiate selected, and how far it got. */
export interface NegotiationInfo {
  packageName: string;
  /** SECPKG_NEGOTIATION_COMPLETE 0, OPTIMISTIC 1, IN_PROGRESS 2, DIRECT 3, TRY_MULTICRED 4. */
  state: number;
}

export interface ContextNames {
  /** `DOMAIN\user` of the client (SECPKG_ATTR_NAMES on the server side). */
  clientName: string;
  /** SECPKG_ATTR_NATIVE_NAMES where the package offers it. */
  serverName?: string;
}

export interface ContextSizes {
  cbMaxToken: number;
  cbMaxSignature: number;
  cbBlockSize: number;
  cbSecurityTrailer: number;
}

export interface PackageInfo {
  name: string;
  comment: string;
  capabilities: number;
  version: number;
  rpcId: number;
  maxToken: number;
}

export interface ContextLifespan {
  start: number;
  expiry: number;
}

/** The attribute a query asks for, and what it returns. */
export interface ContextAttributeMap {
  names: ContextNames;
  nativeNames: { clientName: string; serverName: string };
  sizes: ContextSizes;
  flags: number;
  packageInfo: PackageInfo;
  negotiationInfo: NegotiationInfo;
  lifespan: ContextLifespan;
}

export type ContextAttribute = keyof ContextAttributeMap;

export interface Backend {
  readonly name: 'native' | 'fallback';
  /** EnumerateSecurityPackagesW. */
  enumerateSecurityPackages(): PackageInfo[];
  /** AcquireCredentialsHandleW / SpAcquireCredentialsHandle. */
  acquireCredentialsHandle(req: AcquireCredentialsRequest): Promise<AcquiredCredentials>;
  /** FreeCredentialsHandle. Idempotent. */
  freeCredentialsHandle(cred: CredHandleRef): void;
  /** InitializeSecurityContextW. Throws SspiError for failure statuses. */
  initializeSecurityContext(cred: CredHandleRef, req: HandshakeRequest): Promise<HandshakeResult>;
  /** AcceptSecurityContext. Throws SspiError for failure statuses. */
  acceptSecurityContext(cred: CredHandleRef, req: HandshakeRequest): Promise<HandshakeResult>;
  /** CompleteAuthToken, after SEC_I_COMPLETE_NEEDED. */
  completeAuthToken(ctx: CtxtHandleRef, buffers: SecBuffer[]): void;
  /** ExportSecurityContext / SpExportSecurityContext. flags: SECPKG_CONTEXT_EXPORT_*. */
  exportSecurityContext(ctx: CtxtHandleRef, flags: number): Promise<ExportResult>;
  /**
   * ImportSecurityContextW / SpImportSecurityContext. The caller keeps `token`: the native
   * backend hands the package a duplicate of it, which the package owns on success.
   * `bufferType` is the exporter's packed-buffer type (default SECBUFFER_EMPTY).
   */
  importSecurityContext(packageName: string, packed: Buffer, token?: TokenHandleRef, bufferType?: number): Promise<CtxtHandleRef>;
  /** QueryContextAttributesW. */
  queryContextAttributes<K extends ContextAttribute>(ctx: CtxtHandleRef, attribute: K): ContextAttributeMap[K];
  /** MakeSignature: returns the signature (SECBUFFER_TOKEN). */
  makeSignature(ctx: CtxtHandleRef, data: Buffer): Buffer;
  /** VerifySignature: throws SEC_E_MESSAGE_ALTERED / SEC_E_OUT_OF_SEQUENCE. */
  verifySignature(ctx: CtxtHandleRef, data: Buffer, signature: Buffer): void;
  /** EncryptMessage: returns trailer || ciphertext || padding. */
  encryptMessage(ctx: CtxtHandleRef, data: Buffer): Buffer;
  /** DecryptMessage of trailer || ciphertext || padding. */
  decryptMessage(ctx: CtxtHandleRef, message: Buffer): Buffer;
  /** ImpersonateSecurityContext (calling thread). */
  impersonateSecurityContext(ctx: CtxtHandleRef): void;
  /** RevertSecurityContext. */
  revertSecurityContext(ctx: CtxtHandleRef): void;
  /** RevertToSelf: ends the calling thread's impersonation when its context is gone. */
  revertToSelf(): void;
  /** QuerySecurityContextToken: a new token handle the caller closes. */
  querySecurityContextToken(ctx: CtxtHandleRef): TokenHandleRef;
  /** DuplicateHandle of a token into another process; returns the value valid there. */
  duplicateTokenToProcess(token: TokenHandleRef, targetPid: number): bigint;
  /** Adopt a token HANDLE value that another process duplicated into this one. */
  adoptToken(value: bigint): TokenHandleRef;
  /** DeleteSecurityContext. Idempotent. */
  deleteSecurityContext(ctx: CtxtHandleRef): void;
}
