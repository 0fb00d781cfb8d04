import { SspiError } from './errors.js';
import { getBackend } from './backend/select.js';
import type { Backend, TokenHandleRef } from './backend/types.js';
import { SecurityContext } from './context.js';
import { ExportedContext } from './exported.js';
import { decodeHandoff } from './handoff/codec.js';
import { claimEnvelope } from './handoff/replay.js';
import { kBackend, kTakeToken } from './internal.js';
import { optionsOf } from './validate.js';

export interface ImportContextOptions {
  /** The 32-byte key the envelope was sealed with. */
  key?: Uint8Array;
  /**
   * Use this backend instead of the process-wide one.
   * @internal
   */
  backend?: Backend;
}

const OP = 'ImportSecurityContextW';

// Which name Windows wants for a Negotiate context is undocumented (SSPI-CONTRACTS §2):
// the package that holds it first, then the credential's package when the first name
// is not a package here or does not import.
const RETRY_UNDER_CREDENTIAL_PACKAGE = new Set(['SEC_E_SECPKG_NOT_FOUND', 'SEC_E_UNSUPPORTED_FUNCTION']);

async function importUnder(
  backend: Backend,
  packageName: string,
  credentialPackage: string,
  packed: Buffer,
  token: TokenHandleRef | undefined,
  bufferType: number,
): Promise<SecurityContext> {
  const names = packageName === credentialPackage ? [packageName] : [packageName, credentialPackage];
  for (let i = 0; ; i++) {
    const name = names[i]!;
    try {
      return new SecurityContext(backend, name, await backend.importSecurityContext(name, packed, token, bufferType));
    } catch (e) {
      if (i + 1 < names.length && e instanceof SspiError && RETRY_UNDER_CREDENTIAL_PACKAGE.has(e.code)) continue;
      throw e;
    }
  }
}

/**
 * ImportSecurityContextW, from an envelope (encodeHandoff bytes) or an
 * ExportedContext in the same process.
 *
 * Importing spends the source: an ExportedContext gives up its token and its bytes
 * are zeroed, whether the import succeeds or not; the token handle this process held
 * is closed once the package has its own copy.
 * @param source The envelope bytes, or the ExportedContext of `ctx.export()`.
 * @param options `key`: the 32-byte key a sealed envelope was sealed with.
 * @returns The imported, established context.
 * @throws SspiError SEC_E_CONTEXT_EXPIRED (expired), SEC_E_WRONG_PRINCIPAL (made for another
 * process), SEC_E_OUT_OF_SEQUENCE (already imported here), SEC_E_INVALID_TOKEN (malformed),
 * SEC_E_DECRYPT_FAILURE (seal fails), SEC_E_INSUFFICIENT_MEMORY (the single-use cache is full),
 * SEC_E_INVALID_HANDLE (missing or spent source),
 * SEC_E_INVALID_PARAMETER (bad arguments).
 */
export async function importContext(source: Uint8Array | ExportedContext, options?: ImportContextOptions): Promise<SecurityContext> {
  options = optionsOf(options, OP);
  if (source === undefined || source === null) throw new SspiError('SEC_E_INVALID_HANDLE', OP, 'source must be envelope bytes or an ExportedContext');
  if (source instanceof ExportedContext) {
    if (source.spent) throw new SspiError('SEC_E_INVALID_HANDLE', OP, 'this exported context was already imported or disposed');
    const backend = options.backend ?? source[kBackend] ?? getBackend();
    const token = source[kTakeToken]();
    try {
      return await importUnder(backend, source.packageName, source.credentialPackage, source.packed, token, source.bufferType);
    } finally {
      token?.close();
      source.dispose();
    }
  }
  // isView: a Proxy passes instanceof but not the typed-array internals.
  if (!(source instanceof Uint8Array) || !ArrayBuffer.isView(source)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'source must be envelope bytes or an ExportedContext');
  const backend = options.backend ?? getBackend();
  // Any key given (null and '' included) goes to the codec, which refuses a bad one: a key
  // that is falsy by mistake must not turn a sealed-only import into one that takes clear envelopes.
  const decoded = decodeHandoff(source, options.key !== undefined ? { key: options.key } : {});
  const { header } = decoded;
  const packed = decoded.packed!;
  let token: TokenHandleRef | undefined;
  try {
    if (header.targetPid !== 0 && header.targetPid !== process.pid) {
      // The handle value means nothing here, so it is not touched.
      throw new SspiError('SEC_E_WRONG_PRINCIPAL', OP, `the envelope was made for process ${header.targetPid}, not this one`);
    }
    // Expiry and replay on the process clock (lib/handoff/replay.ts).
    const verdict = claimEnvelope(header.id, header.expiresAt);
    if (verdict === 'replayed') {
      // The handle was already consumed by the first import; closing it again could close an unrelated handle.
      throw new SspiError('SEC_E_OUT_OF_SEQUENCE', OP, 'this envelope was already imported in this process');
    }
    if (header.token.mode === 'handle') token = backend.adoptToken(header.token.value);
    if (verdict === 'expired') throw new SspiError('SEC_E_CONTEXT_EXPIRED', OP, 'the envelope has expired');
    if (verdict === 'too-late') throw new SspiError('SEC_E_INVALID_TOKEN', OP, 'the envelope expires more than two days from now (dated in the future)');
    if (verdict === 'full') throw new SspiError('SEC_E_INSUFFICIENT_MEMORY', OP, 'too many live envelopes were imported; retry once some expire');
    return await importUnder(backend, header.packageName, header.credentialPackage, packed, token, header.bufferType);
  } finally {
    token?.close();
    packed.fill(0);
  }
}

/** ExportSecurityContext on any context; same as `ctx.export(options)`. */
export function exportContext(ctx: { export(o?: { resetNew?: boolean; deleteOld?: boolean }): Promise<ExportedContext> }, options?: { resetNew?: boolean; deleteOld?: boolean }): Promise<ExportedContext> {
  return ctx.export(options);
}
