import { SspiError } from './errors.js';
import type { Backend, ContextNames, ContextSizes, CtxtHandleRef, HandshakePolicy, HandshakeResult } from './backend/types.js';
import { secChannelBindings, type ChannelBindingPolicy } from './channel-bindings.js';
import type { Credentials, PackageName } from './credentials.js';
import { ExportedContext } from './exported.js';
import { AscReq, IscReq, SecPkgContextExport } from './flags.js';
import { kBackend, kHandle } from './internal.js';
import { inspectSymbol } from './redact.js';
import { SecBufferType, findBuffer, type SecBuffer } from './secbuffer.js';
import { SecStatus, describeStatus } from './status.js';
import { debug } from './debug.js';
import { flagsOf, optionsOf } from './validate.js';

export interface StepResult {
  /** Token to send to the peer, if any. */
  token?: Buffer;
  /** True once the context is established. */
  done: boolean;
}

export interface ExportOptions {
  /** SECPKG_CONTEXT_EXPORT_RESET_NEW: the imported copy restarts sequence numbers and cipher state. */
  resetNew?: boolean;
  /** SECPKG_CONTEXT_EXPORT_DELETE_OLD: this context is deleted by the export. */
  deleteOld?: boolean;
}

const OK = SecStatus.SEC_E_OK!;
const CONTINUE = SecStatus.SEC_I_CONTINUE_NEEDED!;
const COMPLETE = SecStatus.SEC_I_COMPLETE_NEEDED!;
const COMPLETE_AND_CONTINUE = SecStatus.SEC_I_COMPLETE_AND_CONTINUE!;

/** What every security context offers once established: names, message protection, export, impersonation. */
export abstract class ContextBase implements Disposable {
  /** The security package that holds the context. */
  readonly packageName: PackageName;
  // A private field, not a property: no inspect option, spread or logger that
  // walks own properties can reach the handle and the keys behind it.
  #handle: CtxtHandleRef | null = null;
  protected established = false;
  protected attributes = 0;
  #names: ContextNames | undefined;
  #sizes: ContextSizes | undefined;
  #negotiated: string | undefined;
  /** @internal */
  protected readonly backend: Backend;

  /** @internal */
  protected constructor(backend: Backend, packageName: string) {
    this.backend = backend;
    this.packageName = packageName;
  }

  protected get handle(): CtxtHandleRef | null {
    return this.#handle;
  }

  protected set handle(value: CtxtHandleRef | null) {
    this.#handle = value;
  }

  /** True once the handshake completed (always true for an imported context). */
  get isEstablished(): boolean {
    return this.established && this.handle !== null;
  }

  get closed(): boolean {
    return this.handle === null && this.established;
  }

  protected live(operation: string): CtxtHandleRef {
    if (!this.handle || !this.established) {
      throw new SspiError('SEC_E_INVALID_HANDLE', operation, this.established ? 'the context is closed or was deleted' : 'the context is not established');
    }
    return this.handle;
  }

  /** SECPKG_ATTR_NAMES: `{ clientName }` as `DOMAIN\user`. */
  get names(): ContextNames {
    this.#names ??= this.backend.queryContextAttributes(this.live('QueryContextAttributesW'), 'names');
    return this.#names;
  }

  /** The negotiated ISC_RET_* / ASC_RET_* bits. */
  get flags(): number {
    if (this.handle && this.established) {
      try {
        return this.backend.queryContextAttributes(this.handle, 'flags') >>> 0;
      } catch (e) {
        // Packages without SECPKG_ATTR_FLAGS report through the handshake's pfContextAttr.
        if (!(e instanceof SspiError) || e.code !== 'SEC_E_UNSUPPORTED_FUNCTION') throw e;
      }
    }
    return this.attributes >>> 0;
  }

  /** SECPKG_ATTR_SIZES. */
  get sizes(): ContextSizes {
    this.#sizes ??= this.backend.queryContextAttributes(this.live('QueryContextAttributesW'), 'sizes');
    return this.#sizes;
  }

  /**
   * MakeSignature: the signature of `data`.
   * @param data The message to sign.
   * @returns The signature (the package's trailer), to send beside the message.
   * @throws SspiError SEC_E_INVALID_HANDLE (closed or not established), SEC_E_INVALID_PARAMETER (not bytes).
   */
  sign(data: Uint8Array): Buffer {
    return this.backend.makeSignature(this.live('MakeSignature'), toBuffer(data, 'MakeSignature'));
  }

  /**
   * VerifySignature.
   * @param data The message the peer signed.
   * @param signature What the peer's sign() returned.
   * @returns true.
   * @throws SspiError SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE, SEC_E_INVALID_HANDLE, SEC_E_INVALID_PARAMETER.
   */
  verify(data: Uint8Array, signature: Uint8Array): true {
    this.backend.verifySignature(this.live('VerifySignature'), toBuffer(data, 'VerifySignature'), toBuffer(signature, 'VerifySignature'));
    return true;
  }

  /**
   * EncryptMessage.
   * @param data The plaintext.
   * @returns trailer || ciphertext || padding, for the peer's decrypt().
   * @throws SspiError SEC_E_INVALID_HANDLE, SEC_E_INVALID_PARAMETER, or the package's status.
   */
  encrypt(data: Uint8Array): Buffer {
    return this.backend.encryptMessage(this.live('EncryptMessage'), toBuffer(data, 'EncryptMessage'));
  }

  /**
   * DecryptMessage of what the peer's encrypt() produced.
   * @param message trailer || ciphertext || padding.
   * @returns The plaintext.
   * @throws SspiError SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE, SEC_E_INVALID_TOKEN, SEC_E_INVALID_HANDLE.
   */
  decrypt(message: Uint8Array): Buffer {
    return this.backend.decryptMessage(this.live('DecryptMessage'), toBuffer(message, 'DecryptMessage'));
  }

  /**
   * Run `fn` as the client (ImpersonateSecurityContext), reverting in a
   * finally. fn must be synchronous: impersonation belongs to this thread,
   * and work after an await runs elsewhere, not impersonated.
   * @param fn A synchronous function to run as the client.
   * @returns What `fn` returned.
   * @throws SspiError SEC_E_INVALID_PARAMETER (async fn or a promise returned), SEC_E_UNSUPPORTED_FUNCTION
   * (no impersonation off Windows), SEC_E_INVALID_HANDLE; or what `fn` threw, after the revert.
   */
  impersonate<T>(fn: () => T): T {
    const op = 'ImpersonateSecurityContext';
    if (typeof fn !== 'function') throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'impersonate(fn) needs a function');
    if (fn.constructor?.name === 'AsyncFunction') {
      throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'impersonate(fn) needs a synchronous function: work after an await would not run as the client');
    }
    const h = this.live(op);
    this.backend.impersonateSecurityContext(h);
    let result: T;
    try {
      result = fn();
    } finally {
      this.#revert(h);
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      // Already reverted: the promise's continuation would not have been impersonated.
      (result as unknown as Promise<unknown>).catch(() => undefined);
      throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'impersonate(fn) needs a synchronous function: it returned a promise, and work after an await would not run as the client');
    }
    return result;
  }

  // The thread always ends reverted: fn may have closed or deleted the context, and then
  // RevertSecurityContext cannot run, so RevertToSelf ends the impersonation instead.
  #revert(h: CtxtHandleRef): void {
    if (this.handle === h) {
      try {
        this.backend.revertSecurityContext(h);
        return;
      } catch {
        // fall through: the thread must not stay impersonating
      }
    }
    this.backend.revertToSelf();
  }

  /**
   * The package that holds this context: for Negotiate, the one it selected
   * (SECPKG_ATTR_NEGOTIATION_INFO, trusted only when COMPLETE or OPTIMISTIC, as .NET
   * does), else SECPKG_ATTR_PACKAGE_INFO, else the credential's package (Wine's own
   * packages answer neither).
   */
  get negotiatedPackage(): string {
    if (this.#negotiated) return this.#negotiated;
    const h = this.live('QueryContextAttributesW');
    const name = queryName(() => {
      const info = this.backend.queryContextAttributes(h, 'negotiationInfo');
      return info.state === 0 || info.state === 1 ? info.packageName : undefined;
    }) ?? queryName(() => this.backend.queryContextAttributes(h, 'packageInfo').name) ?? this.packageName;
    this.#negotiated = name;
    return name;
  }

  /**
   * ExportSecurityContext. The exported object names the package that holds the context
   * (queried first: DELETE_OLD invalidates the handle) and the credential's package.
   * With deleteOld this context is closed afterwards.
   * @param options `resetNew`, `deleteOld` (SECPKG_CONTEXT_EXPORT_*).
   * @returns The exported context; its `packed` bytes are secret.
   * @throws SspiError SEC_E_INVALID_HANDLE (closed or not established), SEC_E_INVALID_PARAMETER, or the package's status.
   */
  async export(options?: ExportOptions): Promise<ExportedContext> {
    options = optionsOf(options, 'ExportSecurityContext');
    const h = this.live('ExportSecurityContext');
    const heldBy = this.negotiatedPackage;
    const flags = (options.resetNew ? SecPkgContextExport.RESET_NEW : 0) | (options.deleteOld ? SecPkgContextExport.DELETE_OLD : 0);
    const { packed, token, bufferType } = await this.backend.exportSecurityContext(h, flags);
    if (options.deleteOld) {
      // The package already destroyed it; DeleteSecurityContext now releases secur32's
      // record at once instead of at garbage collection (it returns SEC_E_OK).
      this.forget();
      this.backend.deleteSecurityContext(h);
    }
    return new ExportedContext(heldBy, packed, {
      credentialPackage: this.packageName,
      bufferType,
      ...(token ? { token } : {}),
      backend: this.backend,
    });
  }

  /** DeleteSecurityContext. Closing twice is a no-op. */
  close(): void {
    const h = this.handle;
    this.forget();
    if (h) this.backend.deleteSecurityContext(h);
  }

  private forget(): void {
    this.handle = null;
    this.established = true; // closed contexts report SEC_E_INVALID_HANDLE "closed"
    this.#names = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  get [kBackend](): Backend {
    return this.backend;
  }

  [inspectSymbol](): string {
    const state = this.handle === null ? (this.established ? 'closed' : 'new') : this.established ? 'established' : 'handshake';
    return `${this.constructor.name} { packageName: '${this.packageName}', state: '${state}' }`;
  }

  toJSON(): object {
    return { type: this.constructor.name, packageName: this.packageName, established: this.isEstablished };
  }
}

// A package name from an attribute query, or undefined when the package does not answer it.
function queryName(query: () => string | undefined): string | undefined {
  try {
    const name = query();
    return typeof name === 'string' && name.length > 0 ? name : undefined;
  } catch (e) {
    if (e instanceof SspiError) return undefined;
    throw e;
  }
}

function toBuffer(data: Uint8Array, operation: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new SspiError('SEC_E_INVALID_PARAMETER', operation, 'data must be a Buffer or Uint8Array');
}

/** The credential a handshake context is built on; a missing one is SEC_E_INVALID_HANDLE. */
function credentialsOf(cred: Credentials, type: string): Backend {
  const op = type === 'ClientContext' ? 'InitializeSecurityContextW' : 'AcceptSecurityContext';
  if (cred === null || typeof cred !== 'object' || !(kBackend in cred)) throw new SspiError('SEC_E_INVALID_HANDLE', op, 'cred must be the Credentials of Credentials.acquire()');
  return cred[kBackend];
}

/** Shared handshake loop for client and server. */
abstract class HandshakeContext extends ContextBase {
  readonly #cred: Credentials;
  #busy = false;
  /** close() came while a leg was in the package: the step closes the context when the call returns. */
  #closeAfterStep = false;
  #leg = 0;
  protected readonly requestFlags: number;

  protected constructor(cred: Credentials, flags: number) {
    super(credentialsOf(cred, new.target.name), cred.packageName);
    this.#cred = cred;
    this.requestFlags = flags >>> 0;
  }

  /**
   * Closes the context. During a step the package still uses the handle (the native
   * call runs on another thread), so it is deleted once that call returns, never under it.
   */
  override close(): void {
    if (this.#busy) this.#closeAfterStep = true;
    else super.close();
  }

  /** @internal */
  protected abstract call(cred: Credentials, input: SecBuffer[]): Promise<HandshakeResult>;
  protected abstract get operation(): string;
  /** SEC_CHANNEL_BINDINGS for every leg, when the context has bindings. */
  protected bindings: Buffer | undefined;

  /**
   * One leg of the handshake.
   * @param input The peer's last token (none for a client's first leg).
   * @returns The token to send to the peer, if any, and whether the context is established.
   * @throws SspiError The package's status (e.g. SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN): the context is closed;
   * SEC_E_INVALID_PARAMETER for input that is not bytes or a step already running.
   */
  async step(input?: Uint8Array): Promise<StepResult> {
    const op = this.operation;
    if (this.established) throw new SspiError('SEC_E_INVALID_HANDLE', op, this.handle ? 'the handshake is already complete' : 'the context is closed');
    if (this.#busy) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'a step is already in progress');
    if (input !== undefined && input !== null && !(input instanceof Uint8Array && ArrayBuffer.isView(input))) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'input must be the peer token as a Buffer or Uint8Array');
    const buffers: SecBuffer[] = input && input.length ? [{ type: SecBufferType.TOKEN, buffer: toBuffer(input, op) }] : [];
    // The bindings travel next to the token on every leg (SSPI-CONTRACTS §8).
    if (this.bindings) buffers.push({ type: SecBufferType.CHANNEL_BINDINGS, buffer: this.bindings });
    this.#busy = true;
    let result: HandshakeResult;
    try {
      result = await this.call(this.#cred, buffers);
    } catch (e) {
      this.#busy = false;
      this.close(); // a failed leg kills the context
      throw e;
    } finally {
      this.#busy = false;
    }
    this.handle = result.context;
    if (this.#closeAfterStep) {
      this.close();
      throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context was closed during the step');
    }
    this.attributes = result.contextAttributes;
    if (result.status === COMPLETE || result.status === COMPLETE_AND_CONTINUE) {
      this.backend.completeAuthToken(result.context, result.output);
    }
    const tokenBuf = findBuffer(result.output, SecBufferType.TOKEN)?.buffer;
    const token = tokenBuf && tokenBuf.length ? tokenBuf : undefined;
    const done = result.status === OK || result.status === COMPLETE;
    if (!done && result.status !== CONTINUE && result.status !== COMPLETE_AND_CONTINUE) {
      this.close(); // a failed leg kills the context
      throw new SspiError(result.status, op, 'unexpected status from the package');
    }
    this.established = done;
    this.#leg += 1;
    // Names, statuses and sizes only: never the token's bytes.
    debug('%s leg %d (%s): %s, %d-byte token in, %d-byte token out%s', op, this.#leg, this.packageName, describeStatus(result.status).name, buffers[0]?.buffer.length ?? 0, token?.length ?? 0, done ? ', established' : '');
    // Package choice: what Negotiate selected (the package that holds the context).
    if (done && debug.enabled) debug('%s: established under %s (credential package %s)', op, this.negotiatedPackage, this.packageName);
    return token ? { token, done } : { done };
  }

  protected get cred(): Credentials {
    return this.#cred;
  }
}

/** Least session key strength, in bits; Windows' default NTLMMinClientSec/NTLMMinServerSec is 128. */
export type MinimumSecurity = 128 | 56 | 40;

export interface ClientContextOptions {
  /** Service principal name, e.g. `HTTP/server.example.com`. */
  target?: string;
  /** ISC_REQ_* bits. */
  flags?: number;
  /** RFC 5929 channel binding application data, e.g. tlsChannelBindings(socket). */
  channelBindings?: Uint8Array;
  /** Lower the 128-bit floor for old servers (fallback package; Windows reads NTLMMinClientSec). */
  minimumSecurity?: MinimumSecurity;
}

export interface ServerContextOptions {
  /** ASC_REQ_* bits. */
  flags?: number;
  /**
   * RFC 5929 channel binding application data of the connection the client
   * came on (e.g. tlsChannelBindings(socket)). A policy string instead means
   * that policy with no channel of our own: `require` then refuses everyone.
   */
  channelBindings?: Uint8Array | ChannelBindingPolicy;
  /**
   * What to do with the client's bindings, after IIS's tokenChecking: `none`
   * ignores them, `allow` verifies them when the client sent some, `require`
   * refuses missing or wrong ones with SEC_E_BAD_BINDINGS. Default `allow`
   * when channelBindings is given, else `none`.
   */
  channelBindingPolicy?: ChannelBindingPolicy;
  /** The SPNs this server answers to: an AUTHENTICATE naming another target is refused (fallback package). */
  targetNames?: readonly string[];
  /** Lower the 128-bit floor for old clients (fallback package; Windows reads NTLMMinServerSec). */
  minimumSecurity?: MinimumSecurity;
}

const POLICIES: readonly ChannelBindingPolicy[] = ['none', 'allow', 'require'];

/**
 * Windows' packages take the key floor from the registry (NTLMMinClientSec /
 * NTLMMinServerSec) and the addon does not read SECPKG_ATTR_CLIENT_SPECIFIED_TARGET,
 * so these settings would be silently ignored there: refuse them instead.
 */
function nativeCannotApply(backend: Backend, policy: HandshakePolicy | undefined, op: string): void {
  if (backend.name !== 'native' || !policy) return;
  if (policy.targetNames) throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'targetNames is enforced by the fallback NTLM package only; on Windows check the client-specified target yourself');
  if (policy.minimumSecurity !== undefined && policy.minimumSecurity !== 128) {
    throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'minimumSecurity is a fallback setting; Windows reads NTLMMinClientSec/NTLMMinServerSec from the registry');
  }
}

function handshakePolicy(o: { minimumSecurity?: MinimumSecurity; targetNames?: readonly string[] }, op: string): HandshakePolicy | undefined {
  const p: HandshakePolicy = {};
  if (o.minimumSecurity !== undefined) {
    if (o.minimumSecurity !== 128 && o.minimumSecurity !== 56 && o.minimumSecurity !== 40) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'minimumSecurity must be 128, 56 or 40 (key bits)');
    p.minimumSecurity = o.minimumSecurity;
  }
  if (o.targetNames !== undefined) {
    if (!Array.isArray(o.targetNames) || o.targetNames.some((n) => typeof n !== 'string' || n === '')) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'targetNames must be an array of non-empty strings');
    p.targetNames = [...o.targetNames];
  }
  return p.minimumSecurity !== undefined || p.targetNames ? p : undefined;
}

/** Default requests: sign and seal with replay and sequence detection, as a connection. */
export const DEFAULT_ISC_REQ = IscReq.CONFIDENTIALITY | IscReq.INTEGRITY | IscReq.REPLAY_DETECT | IscReq.SEQUENCE_DETECT | IscReq.CONNECTION;
export const DEFAULT_ASC_REQ = AscReq.CONFIDENTIALITY | AscReq.INTEGRITY | AscReq.REPLAY_DETECT | AscReq.SEQUENCE_DETECT | AscReq.CONNECTION;

/** The client side: InitializeSecurityContextW. */
export class ClientContext extends HandshakeContext {
  readonly target: string | undefined;

  readonly #policy: HandshakePolicy | undefined;

  /**
   * A client context on `cred` (outbound). Nothing is sent until step().
   * @param cred Outbound credentials.
   * @param options `target` (SPN), `flags` (ISC_REQ_*), channel bindings.
   * @throws SspiError SEC_E_INVALID_HANDLE without credentials, SEC_E_INVALID_PARAMETER for bad options.
   */
  constructor(cred: Credentials, options?: ClientContextOptions) {
    options = optionsOf(options, 'InitializeSecurityContextW');
    if (options.target !== undefined && typeof options.target !== 'string') throw new SspiError('SEC_E_INVALID_PARAMETER', 'InitializeSecurityContextW', 'target must be a string');
    // It travels as UTF-16 in MsvAvTargetName, whose length is 16 bits of bytes (MS-NLMP 2.2.2.1).
    if (options.target !== undefined && (options.target.length > 0x7fff || /\p{Cs}/u.test(options.target))) {
      throw new SspiError('SEC_E_INVALID_PARAMETER', 'InitializeSecurityContextW', 'target must be well-formed Unicode of at most 32,767 UTF-16 code units');
    }
    super(cred, flagsOf(options.flags, DEFAULT_ISC_REQ, 'InitializeSecurityContextW'));
    this.target = options.target;
    this.#policy = handshakePolicy(options, this.operation);
    nativeCannotApply(this.backend, this.#policy, this.operation);
    if (options.channelBindings !== undefined) this.bindings = secChannelBindings(options.channelBindings, this.operation);
  }

  protected get operation(): string {
    return 'InitializeSecurityContextW';
  }

  /** @internal */
  protected call(cred: Credentials, input: SecBuffer[]): Promise<HandshakeResult> {
    return this.backend.initializeSecurityContext(cred[kHandle](this.operation), {
      context: this.handle,
      flags: this.requestFlags,
      ...(this.target !== undefined ? { target: this.target } : {}),
      input,
      ...(this.#policy ? { policy: this.#policy } : {}),
    });
  }
}

/** The server side: AcceptSecurityContext. */
export class ServerContext extends HandshakeContext {
  readonly #policy: HandshakePolicy | undefined;
  readonly #ascFlags: number;

  /**
   * A server context on `cred` (inbound), for one client's handshake.
   * @param cred Inbound credentials.
   * @param options `flags` (ASC_REQ_*), channel bindings and policy, target names.
   * @throws SspiError SEC_E_INVALID_HANDLE without credentials, SEC_E_INVALID_PARAMETER for bad options.
   */
  constructor(cred: Credentials, options?: ServerContextOptions) {
    options = optionsOf(options, 'AcceptSecurityContext');
    super(cred, flagsOf(options.flags, DEFAULT_ASC_REQ, 'AcceptSecurityContext'));
    const op = this.operation;
    this.#policy = handshakePolicy(options, op);
    nativeCannotApply(this.backend, this.#policy, op);
    const given = options.channelBindings;
    const data = typeof given === 'string' ? undefined : given;
    const policy = options.channelBindingPolicy ?? (typeof given === 'string' ? given : given !== undefined ? 'allow' : 'none');
    if (!POLICIES.includes(policy)) throw new SspiError('SEC_E_INVALID_PARAMETER', op, "the channel binding policy must be 'none', 'allow' or 'require'");
    // allow = ASC_REQ_ALLOW_MISSING_BINDINGS. Without a channel of our own the
    // bindings are empty: no real client's bindings match them.
    if (policy !== 'none') this.bindings = secChannelBindings(data ?? Buffer.alloc(0), op);
    this.#ascFlags = (this.requestFlags | (policy === 'allow' ? AscReq.ALLOW_MISSING_BINDINGS : 0)) >>> 0;
  }

  protected get operation(): string {
    return 'AcceptSecurityContext';
  }

  /** @internal */
  protected call(cred: Credentials, input: SecBuffer[]): Promise<HandshakeResult> {
    if (!findBuffer(input, SecBufferType.TOKEN)) return Promise.reject(new SspiError('SEC_E_INVALID_TOKEN', this.operation, 'the server needs the client token'));
    return this.backend.acceptSecurityContext(cred[kHandle](this.operation), { context: this.handle, flags: this.#ascFlags, input, ...(this.#policy ? { policy: this.#policy } : {}) });
  }
}

/**
 * A context rebuilt by importContext (ImportSecurityContextW). `packageName` is the
 * package that accepted the import. It owns no token: the package holds its own copy
 * and releases it at DeleteSecurityContext.
 */
export class SecurityContext extends ContextBase {
  /** @internal */
  constructor(backend: Backend, packageName: string, handle: CtxtHandleRef) {
    super(backend, packageName);
    this.handle = handle;
    this.established = true;
  }
}
