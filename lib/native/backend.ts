/**
 * The native backend: the Backend interface over the addon. The binding is injectable so
 * this file is unit-tested on Linux with a fake (test/native/).
 */
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
import type { SecBuffer } from '../secbuffer.js';
import { loadAddon } from './loader.js';
import type {
  NativeBinding,
  NativeContext,
  NativeCredential,
  NativeHandshakeResult,
  NativeSecBuffer,
  NativeToken,
} from './native.js';

const SEC_E_OK = 0x00000000;
const SEC_I_CONTINUE_NEEDED = 0x00090312;
const SEC_I_COMPLETE_NEEDED = 0x00090313;
const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;

const CRED_USE = { inbound: 1, outbound: 2, both: 3 } as const;

/** SECPKG_ATTR_* ids of the attributes the backend queries. */
export const ATTRIBUTE_IDS = {
  sizes: 0,
  names: 1,
  lifespan: 2,
  packageInfo: 10,
  negotiationInfo: 12,
  nativeNames: 13,
  flags: 14,
} as const satisfies Record<ContextAttribute, number>;

// The native object behind each handle ref, kept out of the refs' own properties.
const natives = new WeakMap<object, NativeCredential | NativeContext | NativeToken>();

class NativeCredRef implements CredHandleRef {
  readonly kind = 'cred' as const;
  constructor(native: NativeCredential) {
    natives.set(this, native);
  }
}

class NativeCtxtRef implements CtxtHandleRef {
  readonly kind = 'ctxt' as const;
  constructor(native: NativeContext) {
    natives.set(this, native);
  }
}

class NativeTokenRef implements TokenHandleRef {
  readonly kind = 'token' as const;
  constructor(native: NativeToken) {
    natives.set(this, native);
  }
  get value(): bigint {
    return tokenOf(this, 'Token.value').value;
  }
  close(): void {
    tokenOf(this, 'CloseHandle', true).close();
  }
  userSid(): string {
    return tokenOf(this, 'GetTokenInformation').userSid();
  }
}

function nativeOf<T>(ref: unknown, cls: new (n: never) => object, operation: string, allowClosed = false): T {
  const native = typeof ref === 'object' && ref !== null && ref instanceof cls ? natives.get(ref) : undefined;
  if (native === undefined) throw new SspiError('SEC_E_INVALID_HANDLE', operation, 'not a handle of the native backend');
  if (!allowClosed && native.closed) throw new SspiError('SEC_E_INVALID_HANDLE', operation, 'the handle is closed');
  return native as T;
}
const credOf = (ref: unknown, op: string, allowClosed = false): NativeCredential =>
  nativeOf<NativeCredential>(ref, NativeCredRef, op, allowClosed);
const ctxOf = (ref: unknown, op: string, allowClosed = false): NativeContext =>
  nativeOf<NativeContext>(ref, NativeCtxtRef, op, allowClosed);
const tokenOf = (ref: unknown, op: string, allowClosed = false): NativeToken =>
  nativeOf<NativeToken>(ref, NativeTokenRef, op, allowClosed);

function toNativeBuffers(buffers: readonly SecBuffer[]): NativeSecBuffer[] {
  return buffers.map((b) => (b.size === undefined ? { type: b.type, buffer: b.buffer } : { type: b.type, buffer: b.buffer, size: b.size }));
}

function fromNativeBuffers(buffers: readonly NativeSecBuffer[]): SecBuffer[] {
  return buffers.map((b) => (b.size === undefined ? { type: b.type, buffer: b.buffer } : { type: b.type, buffer: b.buffer, size: b.size }));
}

/** After the addon ran CompleteAuthToken itself, the step is as if the package had not asked. */
function effectiveStatus(r: NativeHandshakeResult): number {
  if (!r.completed) return r.status;
  if (r.status === SEC_I_COMPLETE_NEEDED) return SEC_E_OK;
  if (r.status === SEC_I_COMPLETE_AND_CONTINUE) return SEC_I_CONTINUE_NEEDED;
  return r.status;
}

/**
 * The native backend over `binding`, or over the addon the loader finds.
 * @internal
 */
export function createNativeBackend(binding: NativeBinding = loadAddon()): Backend {
  async function step(
    operation: 'InitializeSecurityContextW' | 'AcceptSecurityContext',
    cred: CredHandleRef,
    req: HandshakeRequest,
  ): Promise<HandshakeResult> {
    const nativeCred = credOf(cred, operation);
    const ref = req.context === null ? new NativeCtxtRef(new binding.Context()) : req.context;
    const ctx = ctxOf(ref, operation);
    const input = toNativeBuffers(req.input);
    let r: NativeHandshakeResult;
    try {
      r =
        operation === 'InitializeSecurityContextW'
          ? await binding.initializeSecurityContext(nativeCred, ctx, req.target ?? null, req.flags >>> 0, input)
          : await binding.acceptSecurityContext(nativeCred, ctx, req.flags >>> 0, input);
    } catch (e) {
      // A first step that failed created nothing; drop the empty wrapper now.
      if (req.context === null) ctx.close();
      throw e;
    }
    const result: HandshakeResult = {
      context: ref,
      status: effectiveStatus(r),
      output: fromNativeBuffers(r.output),
      contextAttributes: r.contextAttributes >>> 0,
    };
    if (Number.isFinite(r.expiry)) result.expiry = r.expiry;
    return result;
  }

  return {
    name: 'native',

    enumerateSecurityPackages(): PackageInfo[] {
      return binding.enumerateSecurityPackages();
    },

    async acquireCredentialsHandle(req: AcquireCredentialsRequest): Promise<AcquiredCredentials> {
      const use = CRED_USE[req.use];
      if (use === undefined) throw new TypeError(`acquireCredentialsHandle: unknown use ${String(req.use)}`);
      let password: Buffer | undefined;
      try {
        let pending: Promise<{ cred: NativeCredential; expiry: number }>;
        if (req.identity) {
          password = Buffer.from(req.identity.password, 'utf16le');
          pending = binding.acquireCredentialsHandle(req.packageName, use, {
            user: req.identity.user,
            domain: req.identity.domain,
            password,
          });
        } else {
          pending = binding.acquireCredentialsHandle(req.packageName, use, null);
        }
        // The addon copied the password synchronously; wipe ours before waiting.
        password?.fill(0);
        const { cred, expiry } = await pending;
        const out: AcquiredCredentials = { cred: new NativeCredRef(cred) };
        if (Number.isFinite(expiry)) out.expiry = expiry;
        return out;
      } finally {
        password?.fill(0);
      }
    },

    freeCredentialsHandle(cred: CredHandleRef): void {
      credOf(cred, 'FreeCredentialsHandle', true).close();
    },

    initializeSecurityContext(cred, req) {
      return step('InitializeSecurityContextW', cred, req);
    },

    acceptSecurityContext(cred, req) {
      return step('AcceptSecurityContext', cred, req);
    },

    completeAuthToken(ctx: CtxtHandleRef, buffers: SecBuffer[]): void {
      const out = binding.completeAuthToken(ctxOf(ctx, 'CompleteAuthToken'), toNativeBuffers(buffers));
      out.forEach((b, i) => {
        const target = buffers[i];
        if (target) target.buffer = b.buffer;
      });
    },

    async exportSecurityContext(ctx: CtxtHandleRef, flags: number): Promise<ExportResult> {
      const { packed, token, bufferType } = await binding.exportSecurityContext(ctxOf(ctx, 'ExportSecurityContext'), flags >>> 0);
      const out: ExportResult = { packed, bufferType: bufferType >>> 0 };
      if (token) out.token = new NativeTokenRef(token);
      return out;
    },

    async importSecurityContext(packageName: string, packed: Buffer, token?: TokenHandleRef, bufferType = 0): Promise<CtxtHandleRef> {
      const nativeToken = token === undefined ? null : tokenOf(token, 'ImportSecurityContextW');
      return new NativeCtxtRef(await binding.importSecurityContext(packageName, packed, nativeToken, bufferType >>> 0));
    },

    queryContextAttributes<K extends ContextAttribute>(ctx: CtxtHandleRef, attribute: K): ContextAttributeMap[K] {
      const id = ATTRIBUTE_IDS[attribute];
      if (id === undefined) throw new TypeError(`queryContextAttributes: unknown attribute ${String(attribute)}`);
      return binding.queryContextAttributes(ctxOf(ctx, 'QueryContextAttributesW'), id) as ContextAttributeMap[K];
    },

    makeSignature(ctx, data) {
      return binding.makeSignature(ctxOf(ctx, 'MakeSignature'), data);
    },

    verifySignature(ctx, data, signature) {
      binding.verifySignature(ctxOf(ctx, 'VerifySignature'), data, signature);
    },

    encryptMessage(ctx, data) {
      return binding.encryptMessage(ctxOf(ctx, 'EncryptMessage'), data);
    },

    decryptMessage(ctx, message) {
      return binding.decryptMessage(ctxOf(ctx, 'DecryptMessage'), message);
    },

    impersonateSecurityContext(ctx) {
      binding.impersonateSecurityContext(ctxOf(ctx, 'ImpersonateSecurityContext'));
    },

    revertSecurityContext(ctx) {
      binding.revertSecurityContext(ctxOf(ctx, 'RevertSecurityContext'));
    },

    revertToSelf() {
      binding.revertToSelf();
    },

    querySecurityContextToken(ctx) {
      return new NativeTokenRef(binding.querySecurityContextToken(ctxOf(ctx, 'QuerySecurityContextToken')));
    },

    duplicateTokenToProcess(token: TokenHandleRef, targetPid: number): bigint {
      return tokenOf(token, 'DuplicateHandle').duplicateTo(targetPid);
    },

    adoptToken(value: bigint): TokenHandleRef {
      return new NativeTokenRef(binding.adoptToken(value));
    },

    deleteSecurityContext(ctx: CtxtHandleRef): void {
      ctxOf(ctx, 'DeleteSecurityContext', true).close();
    },
  };
}
