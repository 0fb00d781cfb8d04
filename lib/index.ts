/** sspi-context: hand an authenticated SSPI security context to another process. */
export { SspiError, isSspiError } from './errors.js';
export { describeStatus, ntStatusToSecStatus, formatStatus, STATUS_TABLE, SecStatus, NtStatus } from './status.js';
export type { StatusRow, StatusSeverity, StatusFamily, StatusName, StatusCode, SecStatusName, NtStatusName } from './status.js';
export { SecBufferType, SecBufferAttr, SECBUFFER_VERSION, secBufferDesc, findBuffer, baseType } from './secbuffer.js';
export type { SecBuffer, SecBufferDesc, SecBufferTypeValue } from './secbuffer.js';
export { IscReq, IscRet, AscReq, AscRet, SecPkgContextExport, SecPkgCred, SecPkgAttr, flagNames } from './flags.js';
export type { IscReqFlag, IscRetFlag, AscReqFlag, AscRetFlag, SecPkgContextExportFlag, SecPkgAttrName, SecPkgAttrId } from './flags.js';
export { Credentials } from './credentials.js';
export type { AcquireCredentialsOptions, PackageName } from './credentials.js';
export { ClientContext, ServerContext, SecurityContext, ContextBase, DEFAULT_ISC_REQ, DEFAULT_ASC_REQ } from './context.js';
export type { StepResult, ExportOptions, ClientContextOptions, ServerContextOptions, MinimumSecurity } from './context.js';
export { tlsChannelBindings, tlsServerEndPoint, secChannelBindings } from './channel-bindings.js';
export type { ChannelBindingPolicy } from './channel-bindings.js';
export { ExportedContext } from './exported.js';
export type { TokenHandle } from './exported.js';
export { importContext, exportContext } from './import.js';
export type { ImportContextOptions } from './import.js';
export { encodeHandoff, decodeHandoff, readHandoffHeader, DecodedHandoff, HANDOFF_VERSION, HANDOFF_KEY_BYTES, DEFAULT_TTL_MS } from './handoff/codec.js';
export type { HandoffHeader, EncodeHandoffOptions, DecodeHandoffOptions, TokenTransport } from './handoff/codec.js';
/** @internal */
export { getBackend, setBackend, requestedBackend } from './backend/select.js';
export { setNativeBinding } from './native/loader.js';
export type { BackendName } from './backend/select.js';
export type { ContextNames, ContextSizes, PackageInfo, UserEntry, AuthIdentity, CredentialUse } from './backend/types.js';

import { getBackend } from './backend/select.js';
import type { PackageInfo } from './backend/types.js';

/**
 * EnumerateSecurityPackagesW on the current backend.
 * @returns Each installed package's name, capabilities, maximum token size and comment.
 * @throws SspiError SEC_E_SECPKG_NOT_FOUND when the native addon cannot load.
 */
export function enumerateSecurityPackages(): PackageInfo[] {
  return getBackend().enumerateSecurityPackages();
}
export { sendContext, receiveContext } from './transfer.js';
export type { SendContextOptions, ReceiveContextOptions, ContextTarget } from './transfer.js';
export { negotiateHandler, negotiateAuth, parseAuthorization } from './http/negotiate.js'; export type { NegotiateHandler, NegotiateHandlerOptions, NegotiateAuthInfo, NegotiateScheme, OnAuthenticated } from './http/negotiate.js';
export { ContextPool, serveContexts } from './pool/index.js';
export type { ContextPoolOptions, ContextPoolCloseOptions, ContextPoolStats, PoolState, WorkerExitEvent, WorkerKind, ServeContextInfo, ServeContextsHandler } from './pool/index.js';
