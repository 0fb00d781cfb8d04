/** The Backend of lib/backend/types.ts over this pure-TypeScript NTLM package. */
import type {
  AcquireCredentialsRequest,
  AcquiredCredentials,
  Backend,
  ContextAttribute,
  ContextAttributeMap,
  CredHandleRef,
  CtxtHandleRef,
  ExportResult,
  HandshakeRequest,
  HandshakeResult,
  PackageInfo,
  TokenHandleRef,
} from '../backend/types.js';
import { SspiError } from '../errors.js';
import { AscReq, SecPkgContextExport } from '../flags.js';
import { channelBindingsHash } from '../channel-bindings.js';
import { findBuffer, SecBufferType, type SecBuffer } from '../secbuffer.js';
import { SecStatus } from '../status.js';
import { NTLM_MAX_TOKEN, SIGNATURE_SIZE } from './constants.js';
import { asCred, asContext, asEstablished, FallbackContext, FallbackCredential, type PackageName } from './handles.js';
import { clientFinish, clientStart } from './client.js';
import { serverFinish, serverStart } from './server.js';
import { packContext, unpackContext } from './packed-context.js';
import { DEFAULT_MINIMUM_KEY_BITS, ReplayCache, serverNames, type NtlmPolicy } from './server-config.js';
import { spnegoAccept, spnegoInitialize, type SpnegoStep } from './spnego.js';
import { indexUsers, usersFromEntries, usersFromFile } from './users.js';
import { ntowfv1 } from './ntlmv2.js';

const PACKAGES: Record<PackageName, PackageInfo> = {
  NTLM: { name: 'NTLM', comment: 'NTLM Security Package (sspi-context fallback, NTLMv2 only)', capabilities: 0x00082b37, version: 1, rpcId: 10, maxToken: NTLM_MAX_TOKEN },
  // SPNEGO (RFC 4178) with NTLM as the only mechanism; raw NTLMSSP is accepted too, as on Windows.
  Negotiate: { name: 'Negotiate', comment: 'Negotiate (sspi-context fallback: SPNEGO with NTLM as its only mechanism)', capabilities: 0x00083bb3, version: 1, rpcId: 9, maxToken: NTLM_MAX_TOKEN },
};

function packageName(name: unknown, op: string): PackageName {
  if (typeof name === 'string') {
    const n = name.toLowerCase();
    if (n === 'ntlm') return 'NTLM';
    if (n === 'negotiate') return 'Negotiate';
  }
  throw new SspiError('SEC_E_SECPKG_NOT_FOUND', op, 'the fallback backend offers only the NTLM and Negotiate packages');
}

/** Accept any Uint8Array without copying; anything else is a malformed buffer. */
function asBuffer(x: unknown, op: string, what: string): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new SspiError('SEC_E_INVALID_TOKEN', op, `${what} is not a Buffer`);
}

function inputToken(input: readonly SecBuffer[] | undefined, op: string): Buffer {
  const tok = input ? findBuffer(input, SecBufferType.TOKEN) : undefined;
  if (!tok || !(tok.buffer instanceof Uint8Array) || tok.buffer.length === 0) throw new SspiError('SEC_E_INVALID_TOKEN', op, 'no SECBUFFER_TOKEN input was given');
  return asBuffer(tok.buffer, op, 'the token');
}

function tokenOut(b: Buffer): SecBuffer[] {
  return [{ type: SecBufferType.TOKEN, buffer: b }];
}

/** The per-leg settings: the request's policy, and the channel bindings it carries (SECBUFFER_CHANNEL_BINDINGS). */
function policyOf(req: HandshakeRequest, op: string): NtlmPolicy {
  const cb = req.input ? findBuffer(req.input, SecBufferType.CHANNEL_BINDINGS) : undefined;
  const min = req.policy?.minimumSecurity ?? DEFAULT_MINIMUM_KEY_BITS;
  if (min !== 128 && min !== 56 && min !== 40) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'minimumSecurity must be 128, 56 or 40 (key bits)');
  const names = req.policy?.targetNames;
  if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'targetNames must be an array of strings');
  return {
    minimumKeyBits: min,
    ...(names ? { targetNames: names } : {}),
    ...(cb && cb.buffer instanceof Uint8Array ? { bindingsHash: channelBindingsHash(asBuffer(cb.buffer, op, 'the channel bindings'), op) } : {}),
    allowMissingBindings: (req.flags & AscReq.ALLOW_MISSING_BINDINGS) !== 0,
  };
}

function optionalToken(input: readonly SecBuffer[] | undefined, op: string): Buffer | undefined {
  const tok = input ? findBuffer(input, SecBufferType.TOKEN) : undefined;
  return tok && tok.buffer instanceof Uint8Array && tok.buffer.length ? asBuffer(tok.buffer, op, 'the token') : undefined;
}

function spnegoResult(r: SpnegoStep): HandshakeResult {
  return {
    context: r.ctx,
    status: r.done ? SecStatus.SEC_E_OK! : SecStatus.SEC_I_CONTINUE_NEEDED!,
    output: tokenOut(r.token ?? Buffer.alloc(0)),
    contextAttributes: r.ctx.attributes,
    ...(r.done ? { expiry: r.ctx.expiry } : {}),
  };
}

/** Any failure during a handshake leg kills the context (its keys are wiped), as in gss-ntlmssp. */
function guarded<T>(ctx: FallbackContext | null, op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    ctx?.delete();
    if (e instanceof SspiError) throw e;
    throw new SspiError('SEC_E_INTERNAL_ERROR', op, 'unexpected failure in the NTLM package');
  }
}

function unsupported(op: string): never {
  throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'access tokens and impersonation exist only on Windows; the fallback NTLM package authenticates but cannot impersonate');
}

function acquire(req: AcquireCredentialsRequest): FallbackCredential {
  const op = 'AcquireCredentialsHandleW';
  if (!req || typeof req !== 'object') throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'no request');
  const pkg = packageName(req.packageName, op);
  if (req.use !== 'inbound' && req.use !== 'outbound' && req.use !== 'both') throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'use must be inbound, outbound or both');
  const cred = new FallbackCredential(pkg, req.use);
  try {
    if (req.use !== 'inbound') {
      const id = req.identity;
      // No logon session to borrow off Windows: outbound needs explicit credentials.
      if (!id) throw new SspiError('SEC_E_NO_CREDENTIALS', op, 'the fallback NTLM package needs an explicit identity (user, domain, password) for outbound use');
      if (typeof id.user !== 'string' || id.user === '' || typeof id.password !== 'string' || (id.domain !== undefined && typeof id.domain !== 'string')) {
        throw new SspiError('SEC_E_UNKNOWN_CREDENTIALS', op, 'the identity needs a non-empty user and string domain and password');
      }
      let user = id.user;
      let domain = id.domain ?? '';
      const sep = user.indexOf('\\');
      if (domain === '' && sep >= 0) {
        domain = user.slice(0, sep);
        user = user.slice(sep + 1);
      }
      cred.user = user;
      cred.domain = domain;
      cred.ntHash = ntowfv1(id.password);
    }
    if (req.use !== 'outbound') {
      const source = req.users ?? process.env.NTLM_USER_FILE;
      if (source === undefined || source === '') throw new SspiError('SEC_E_NO_CREDENTIALS', op, 'inbound use needs a user store: users, or NTLM_USER_FILE');
      const store = { allowBlankPassword: req.allowBlankPassword === true };
      cred.users = typeof source === 'string' ? usersFromFile(source, store) : usersFromEntries(source, store);
      cred.userIndex = indexUsers(cred.users);
      cred.names = serverNames();
      cred.replay = new ReplayCache();
    }
    return cred;
  } catch (e) {
    cred.free();
    throw e;
  }
}

export function createFallbackBackend(): Backend {
  return {
    name: 'fallback',

    enumerateSecurityPackages(): PackageInfo[] {
      return [{ ...PACKAGES.Negotiate }, { ...PACKAGES.NTLM }];
    },

    async acquireCredentialsHandle(req: AcquireCredentialsRequest): Promise<AcquiredCredentials> {
      return { cred: acquire(req) };
    },

    freeCredentialsHandle(cred: CredHandleRef): void {
      if (cred instanceof FallbackCredential) cred.free();
    },

    async initializeSecurityContext(credRef: CredHandleRef, req: HandshakeRequest): Promise<HandshakeResult> {
      const op = 'InitializeSecurityContextW';
      const cred = asCred(credRef, op);
      if (cred.use === 'inbound') throw new SspiError('SEC_E_NO_CREDENTIALS', op, 'the credential was acquired for inbound use only');
      const policy = policyOf(req, op);
      if (cred.packageName === 'Negotiate') {
        const prior = req.context === null || req.context === undefined ? null : asContext(req.context, op);
        if (prior && prior.role !== 'client') throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context is an acceptor context');
        return spnegoResult(guarded(prior, op, () => spnegoInitialize(cred, prior, req.flags >>> 0, req.target, optionalToken(req.input, op), policy)));
      }
      if (req.context === null || req.context === undefined) {
        const { ctx, token } = clientStart(cred, req.flags >>> 0, req.target);
        return { context: ctx, status: SecStatus.SEC_I_CONTINUE_NEEDED!, output: tokenOut(token), contextAttributes: ctx.attributes };
      }
      const ctx = asContext(req.context, op);
      if (ctx.role !== 'client') throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context is an acceptor context');
      if (ctx.state !== 'negotiate-sent') throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the context is already established; NTLM has no further legs');
      const token = guarded(ctx, op, () => clientFinish(ctx, cred, inputToken(req.input, op), policy));
      return { context: ctx, status: SecStatus.SEC_E_OK!, output: tokenOut(token), contextAttributes: ctx.attributes, expiry: ctx.expiry };
    },

    async acceptSecurityContext(credRef: CredHandleRef, req: HandshakeRequest): Promise<HandshakeResult> {
      const op = 'AcceptSecurityContext';
      const cred = asCred(credRef, op);
      if (cred.use === 'outbound') throw new SspiError('SEC_E_NO_CREDENTIALS', op, 'the credential was acquired for outbound use only');
      const policy = policyOf(req, op);
      if (cred.packageName === 'Negotiate') {
        const prior = req.context === null || req.context === undefined ? null : asContext(req.context, op);
        if (prior && prior.role !== 'server') throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context is an initiator context');
        return spnegoResult(guarded(prior, op, () => spnegoAccept(cred, prior, req.flags >>> 0, inputToken(req.input, op), policy)));
      }
      if (req.context === null || req.context === undefined) {
        const { ctx, token } = guarded(null, op, () => serverStart(cred, req.flags >>> 0, inputToken(req.input, op), policy));
        return { context: ctx, status: SecStatus.SEC_I_CONTINUE_NEEDED!, output: tokenOut(token), contextAttributes: ctx.attributes };
      }
      const ctx = asContext(req.context, op);
      if (ctx.role !== 'server') throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context is an initiator context');
      if (ctx.state !== 'challenge-sent') throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the context is already established; NTLM has no further legs');
      guarded(ctx, op, () => serverFinish(ctx, cred, inputToken(req.input, op), policy));
      return { context: ctx, status: SecStatus.SEC_E_OK!, output: tokenOut(Buffer.alloc(0)), contextAttributes: ctx.attributes, expiry: ctx.expiry };
    },

    completeAuthToken(ctx: CtxtHandleRef): void {
      asContext(ctx, 'CompleteAuthToken');
      // NTLM never returns SEC_I_COMPLETE_NEEDED; nothing to complete.
    },

    async exportSecurityContext(ctxRef: CtxtHandleRef, flags: number): Promise<ExportResult> {
      const op = 'ExportSecurityContext';
      const ctx = asEstablished(ctxRef, op);
      if (flags & SecPkgContextExport.TO_KERNEL) throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'there is no kernel mode to export to off Windows');
      const packed = packContext(ctx, ctx.session, (flags & SecPkgContextExport.RESET_NEW) !== 0);
      if (flags & SecPkgContextExport.DELETE_OLD) ctx.delete();
      // No documented type for the packed buffer; the fallback leaves it SECBUFFER_EMPTY.
      return { packed, bufferType: SecBufferType.EMPTY };
    },

    async importSecurityContext(pkg: string, packed: Buffer, _token?: TokenHandleRef, _bufferType?: number): Promise<CtxtHandleRef> {
      const op = 'ImportSecurityContextW';
      return unpackContext(packageName(pkg, op), asBuffer(packed, op, 'the packed context'));
    },

    queryContextAttributes<K extends ContextAttribute>(ctxRef: CtxtHandleRef, attribute: K): ContextAttributeMap[K] {
      const op = 'QueryContextAttributesW';
      const ctx = asContext(ctxRef, op);
      const info = PACKAGES[ctx.packageName];
      if (attribute === 'packageInfo') return { ...info } as ContextAttributeMap[K];
      if (attribute === 'negotiationInfo') {
        // Negotiate here always selects NTLM; NTLM names itself, as Wine's NTLM does (SSPI-CONTRACTS §3).
        return { packageName: 'NTLM', state: ctx.state === 'established' ? 0 : 2 } as ContextAttributeMap[K];
      }
      if (attribute === 'flags') return ctx.attributes as ContextAttributeMap[K];
      if (attribute === 'sizes') {
        return { cbMaxToken: NTLM_MAX_TOKEN, cbMaxSignature: SIGNATURE_SIZE, cbBlockSize: 0, cbSecurityTrailer: SIGNATURE_SIZE } as ContextAttributeMap[K];
      }
      const est = asEstablished(ctx, op);
      switch (attribute) {
        case 'names':
          return { clientName: est.clientName, serverName: est.serverName } as ContextAttributeMap[K];
        case 'nativeNames':
          return { clientName: est.clientName, serverName: est.serverName } as ContextAttributeMap[K];
        case 'lifespan':
          return { start: est.start, expiry: est.expiry } as ContextAttributeMap[K];
        default:
          throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'this attribute is not supported by the fallback NTLM package');
      }
    },

    makeSignature(ctx: CtxtHandleRef, data: Buffer): Buffer {
      return asEstablished(ctx, 'MakeSignature').session.makeSignature(asBuffer(data, 'MakeSignature', 'the message'));
    },

    verifySignature(ctx: CtxtHandleRef, data: Buffer, signature: Buffer): void {
      const op = 'VerifySignature';
      asEstablished(ctx, op).session.verifySignature(asBuffer(data, op, 'the message'), asBuffer(signature, op, 'the signature'));
    },

    encryptMessage(ctx: CtxtHandleRef, data: Buffer): Buffer {
      return asEstablished(ctx, 'EncryptMessage').session.seal(asBuffer(data, 'EncryptMessage', 'the message'));
    },

    decryptMessage(ctx: CtxtHandleRef, message: Buffer): Buffer {
      return asEstablished(ctx, 'DecryptMessage').session.unseal(asBuffer(message, 'DecryptMessage', 'the message'));
    },

    impersonateSecurityContext(ctx: CtxtHandleRef): void {
      asEstablished(ctx, 'ImpersonateSecurityContext');
      unsupported('ImpersonateSecurityContext');
    },

    revertSecurityContext(ctx: CtxtHandleRef): void {
      asContext(ctx, 'RevertSecurityContext');
      unsupported('RevertSecurityContext');
    },

    revertToSelf(): void {
      // No impersonation off Windows, so nothing to end.
    },

    querySecurityContextToken(ctx: CtxtHandleRef): TokenHandleRef {
      asEstablished(ctx, 'QuerySecurityContextToken');
      unsupported('QuerySecurityContextToken');
    },

    duplicateTokenToProcess(): bigint {
      unsupported('DuplicateHandle');
    },

    adoptToken(): TokenHandleRef {
      unsupported('DuplicateHandle');
    },

    deleteSecurityContext(ctx: CtxtHandleRef): void {
      if (ctx instanceof FallbackContext) ctx.delete();
    },
  };
}
