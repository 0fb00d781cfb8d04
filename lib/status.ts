/**
 * One table of SECURITY_STATUS (winerror.h, FACILITY_SECURITY) and NTSTATUS
 * (ntstatus.h) values, with the SEC_E <-> NTSTATUS correspondence that
 * kernel-mode sspi.h (ISSP_MODE 0) defines. Messages are our own wording.
 */
import { SspiError } from './errors.js';

export type StatusSeverity = 'success' | 'informational' | 'warning' | 'error';
export type StatusFamily = 'SECURITY_STATUS' | 'NTSTATUS';

export interface StatusRow {
  /** Symbolic name, e.g. `SEC_E_LOGON_DENIED`, or `UNKNOWN_0x...` for unknown codes. */
  readonly name: string;
  /** Unsigned 32-bit value. */
  readonly value: number;
  /** `0x8009030C` style. */
  readonly hex: string;
  readonly severity: StatusSeverity;
  readonly family: StatusFamily;
  readonly message: string;
  /** The matching code on the other side of the SEC_E <-> NTSTATUS map, by name. */
  readonly counterpart?: string;
  /** True when the value is not in the table. */
  readonly unknown: boolean;
}

type RawRow = readonly [name: string, value: number, message: string, counterpart?: string];

// SECURITY_STATUS: the values returned by the SSPI calls in scope.
const SEC = [
  ['SEC_E_OK', 0x00000000, 'The call completed successfully.', 'STATUS_SUCCESS'],
  ['SEC_E_INSUFFICIENT_MEMORY', 0x80090300, 'Not enough memory to complete the request.', 'STATUS_INSUFFICIENT_RESOURCES'],
  ['SEC_E_INVALID_HANDLE', 0x80090301, 'The credential or context handle is not valid (closed, deleted or never created).', 'STATUS_INVALID_HANDLE'],
  ['SEC_E_UNSUPPORTED_FUNCTION', 0x80090302, 'The security package does not support this function.', 'STATUS_NOT_SUPPORTED'],
  ['SEC_E_TARGET_UNKNOWN', 0x80090303, 'The target is unknown or unreachable.', 'STATUS_BAD_NETWORK_PATH'],
  ['SEC_E_INTERNAL_ERROR', 0x80090304, 'The security package failed internally.', 'STATUS_INTERNAL_ERROR'],
  ['SEC_E_SECPKG_NOT_FOUND', 0x80090305, 'No security package of that name is installed.', 'STATUS_NO_SUCH_PACKAGE'],
  ['SEC_E_NOT_OWNER', 0x80090306, 'The caller does not own the requested credentials.', 'STATUS_PRIVILEGE_NOT_HELD'],
  ['SEC_E_CANNOT_INSTALL', 0x80090307, 'The security package could not be initialized.', 'STATUS_NO_SUCH_PACKAGE'],
  ['SEC_E_INVALID_TOKEN', 0x80090308, 'The token or packed data given to the function is malformed.', 'STATUS_INVALID_PARAMETER'],
  ['SEC_E_CANNOT_PACK', 0x80090309, 'The security context could not be packed for export.', 'STATUS_INVALID_PARAMETER'],
  ['SEC_E_QOP_NOT_SUPPORTED', 0x8009030A, 'The requested quality of protection is not supported.', 'STATUS_NOT_SUPPORTED'],
  ['SEC_E_NO_IMPERSONATION', 0x8009030B, 'The security context does not allow impersonation of the client.', 'STATUS_CANNOT_IMPERSONATE'],
  ['SEC_E_LOGON_DENIED', 0x8009030C, 'The logon attempt failed: unknown user, wrong password or a failed integrity check.', 'STATUS_LOGON_FAILURE'],
  ['SEC_E_UNKNOWN_CREDENTIALS', 0x8009030D, 'The credentials given to the package were not recognized.', 'STATUS_NO_SUCH_LOGON_SESSION'],
  ['SEC_E_NO_CREDENTIALS', 0x8009030E, 'No credentials are available to the security package.', 'STATUS_NO_SUCH_LOGON_SESSION'],
  ['SEC_E_MESSAGE_ALTERED', 0x8009030F, 'The message or signature was altered.', 'STATUS_ACCESS_DENIED'],
  ['SEC_E_OUT_OF_SEQUENCE', 0x80090310, 'The message arrived out of sequence or was replayed.', 'STATUS_ACCESS_DENIED'],
  ['SEC_E_NO_AUTHENTICATING_AUTHORITY', 0x80090311, 'No authority could be contacted for authentication.', 'STATUS_NO_LOGON_SERVERS'],
  ['SEC_I_CONTINUE_NEEDED', 0x00090312, 'The handshake must continue: send the output token to the peer.', 'STATUS_MORE_PROCESSING_REQUIRED'],
  ['SEC_I_COMPLETE_NEEDED', 0x00090313, 'CompleteAuthToken must be called before the token is sent.'],
  ['SEC_I_COMPLETE_AND_CONTINUE', 0x00090314, 'CompleteAuthToken must be called, then the handshake continues.'],
  ['SEC_I_LOCAL_LOGON', 0x00090315, 'The logon was completed locally, without an authority.'],
  ['SEC_E_BAD_PKGID', 0x80090316, 'The requested security package does not exist.', 'STATUS_NO_SUCH_PACKAGE'],
  ['SEC_E_CONTEXT_EXPIRED', 0x80090317, 'The security context or envelope has expired and can no longer be used.'],
  ['SEC_I_CONTEXT_EXPIRED', 0x00090317, 'The peer has ended the security context.'],
  ['SEC_E_INCOMPLETE_MESSAGE', 0x80090318, 'The supplied message is incomplete; more data is needed.'],
  ['SEC_E_INCOMPLETE_CREDENTIALS', 0x80090320, 'The credentials are incomplete and could not be verified.'],
  ['SEC_I_INCOMPLETE_CREDENTIALS', 0x00090320, 'The credentials are incomplete; additional information may be requested.'],
  ['SEC_E_BUFFER_TOO_SMALL', 0x80090321, 'A supplied buffer was too small.', 'STATUS_BUFFER_TOO_SMALL'],
  ['SEC_I_RENEGOTIATE', 0x00090321, 'The context must be renegotiated with the peer.'],
  ['SEC_E_WRONG_PRINCIPAL', 0x80090322, 'The target principal name is incorrect.'],
  ['SEC_I_NO_LSA_CONTEXT', 0x00090323, 'No LSA mode context is associated with this context.'],
  ['SEC_E_TIME_SKEW', 0x80090324, 'The clocks of the client and server differ too much.', 'STATUS_TIME_DIFFERENCE_AT_DC'],
  ['SEC_E_UNTRUSTED_ROOT', 0x80090325, 'The certificate chain was issued by an untrusted authority.'],
  ['SEC_E_ILLEGAL_MESSAGE', 0x80090326, 'The message received was unexpected or badly formatted.'],
  ['SEC_E_CERT_UNKNOWN', 0x80090327, 'An unknown error occurred while processing the certificate.'],
  ['SEC_E_CERT_EXPIRED', 0x80090328, 'The received certificate has expired.'],
  ['SEC_E_ENCRYPT_FAILURE', 0x80090329, 'The data could not be encrypted.'],
  ['SEC_E_DECRYPT_FAILURE', 0x80090330, 'The data could not be decrypted or its seal did not verify.'],
  ['SEC_E_ALGORITHM_MISMATCH', 0x80090331, 'The client and server have no algorithm in common.'],
  ['SEC_E_SECURITY_QOS_FAILED', 0x80090332, 'The security context could not be established with the requested quality of service.'],
  ['SEC_E_UNFINISHED_CONTEXT_DELETED', 0x80090333, 'A security context was deleted before the handshake completed.'],
  ['SEC_E_NO_TGT_REPLY', 0x80090334, 'The client tried user-to-user authentication but no TGT was returned.'],
  ['SEC_E_NO_IP_ADDRESSES', 0x80090335, 'No IP address is available for the operation.'],
  ['SEC_E_WRONG_CREDENTIAL_HANDLE', 0x80090336, 'The credential handle does not match the one tied to the security context.'],
  ['SEC_E_CRYPTO_SYSTEM_INVALID', 0x80090337, 'A required cryptographic function is not available.'],
  ['SEC_E_MAX_REFERRALS_EXCEEDED', 0x80090338, 'The maximum number of ticket referrals was exceeded.'],
  ['SEC_E_MUST_BE_KDC', 0x80090339, 'The local machine must be a Kerberos KDC and is not.'],
  ['SEC_E_STRONG_CRYPTO_NOT_SUPPORTED', 0x8009033A, 'The other end requires strong cryptography, which is not available locally.'],
  ['SEC_E_TOO_MANY_PRINCIPALS', 0x8009033B, 'The KDC reply contained more than one principal name.'],
  ['SEC_E_NO_PA_DATA', 0x8009033C, 'Expected pre-authentication data was not found.'],
  ['SEC_E_PKINIT_NAME_MISMATCH', 0x8009033D, 'The client certificate does not match the account.'],
  ['SEC_E_SMARTCARD_LOGON_REQUIRED', 0x8009033E, 'Smart card logon is required.'],
  ['SEC_E_SHUTDOWN_IN_PROGRESS', 0x8009033F, 'A system shutdown is in progress.'],
  ['SEC_E_KDC_INVALID_REQUEST', 0x80090340, 'The KDC received an invalid request.'],
  ['SEC_E_KDC_UNABLE_TO_REFER', 0x80090341, 'The KDC could not generate a referral for the request.'],
  ['SEC_E_KDC_UNKNOWN_ETYPE', 0x80090342, 'The requested encryption type is not supported by the KDC.'],
  ['SEC_E_UNSUPPORTED_PREAUTH', 0x80090343, 'An unsupported pre-authentication mechanism was presented.'],
  ['SEC_E_DELEGATION_REQUIRED', 0x80090345, 'The operation requires delegation to be enabled.'],
  ['SEC_E_BAD_BINDINGS', 0x80090346, 'The channel bindings do not match.'],
  ['SEC_E_MULTIPLE_ACCOUNTS', 0x80090347, 'The certificate maps to more than one account.'],
  ['SEC_E_NO_KERB_KEY', 0x80090348, 'No Kerberos key was found.'],
  ['SEC_E_CERT_WRONG_USAGE', 0x80090349, 'The certificate is not valid for the requested usage.'],
  ['SEC_E_DOWNGRADE_DETECTED', 0x80090350, 'A security downgrade was detected.'],
  ['SEC_E_SMARTCARD_CERT_REVOKED', 0x80090351, 'The smart card certificate has been revoked.'],
  ['SEC_E_ISSUING_CA_UNTRUSTED', 0x80090352, 'An untrusted certificate authority was detected.'],
  ['SEC_E_REVOCATION_OFFLINE_C', 0x80090353, 'The revocation status of the smart card certificate could not be determined.'],
  ['SEC_E_PKINIT_CLIENT_FAILURE', 0x80090354, 'The smart card certificate is not trusted.'],
  ['SEC_E_SMARTCARD_CERT_EXPIRED', 0x80090355, 'The smart card certificate has expired.'],
  ['SEC_E_NO_S4U_PROT_SUPPORT', 0x80090356, 'The Kerberos subsystem does not support S4U.'],
  ['SEC_E_CROSSREALM_DELEGATION_FAILURE', 0x80090357, 'Constrained delegation across realms failed.'],
  ['SEC_E_REVOCATION_OFFLINE_KDC', 0x80090358, 'The revocation status of the KDC certificate could not be determined.'],
  ['SEC_E_ISSUING_CA_UNTRUSTED_KDC', 0x80090359, 'The KDC certificate was issued by an untrusted authority.'],
  ['SEC_E_KDC_CERT_EXPIRED', 0x8009035A, 'The KDC certificate has expired.'],
  ['SEC_E_KDC_CERT_REVOKED', 0x8009035B, 'The KDC certificate has been revoked.'],
  ['SEC_I_SIGNATURE_NEEDED', 0x0009035C, 'A signature operation must be performed before the user can authenticate.'],
  ['SEC_E_INVALID_PARAMETER', 0x8009035D, 'A parameter passed to the function is not valid.', 'STATUS_INVALID_PARAMETER'],
  ['SEC_E_DELEGATION_POLICY', 0x8009035E, 'Delegation of credentials is not allowed by policy.'],
  ['SEC_E_POLICY_NLTM_ONLY', 0x8009035F, 'Policy allows only NTLM for this target.'],
  ['SEC_I_NO_RENEGOTIATION', 0x00090360, 'The peer declined renegotiation.'],
  ['SEC_E_NO_CONTEXT', 0x80090361, 'No security context is associated with the call.'],
  ['SEC_E_PKU2U_CERT_FAILURE', 0x80090362, 'A PKU2U certificate problem occurred.'],
  ['SEC_E_MUTUAL_AUTH_FAILED', 0x80090363, 'The identity of the server could not be verified.'],
  ['SEC_I_MESSAGE_FRAGMENT', 0x00090364, 'The message is a fragment; more calls are needed.'],
  ['SEC_E_ONLY_HTTPS_ALLOWED', 0x80090365, 'Only HTTPS is allowed.'],
  ['SEC_E_APPLICATION_PROTOCOL_MISMATCH', 0x80090367, 'No application protocol in common.'],
  ['SEC_E_INVALID_UPN_NAME', 0x80090369, 'The UPN is not valid.'],
  ['SEC_E_EXT_BUFFER_TOO_SMALL', 0x8009036A, 'An extension buffer was too small.'],
  ['SEC_E_INSUFFICIENT_BUFFERS', 0x8009036B, 'Not enough security buffers were supplied.'],
] as const satisfies readonly RawRow[];

// NTSTATUS: what a package's Sp* functions return, and the counterparts above.
const NT = [
  ['STATUS_SUCCESS', 0x00000000, 'The operation completed successfully.', 'SEC_E_OK'],
  ['STATUS_MORE_PROCESSING_REQUIRED', 0xC0000016, 'More processing is required: the handshake continues.', 'SEC_I_CONTINUE_NEEDED'],
  ['STATUS_UNSUCCESSFUL', 0xC0000001, 'The operation failed.'],
  ['STATUS_NOT_IMPLEMENTED', 0xC0000002, 'The requested operation is not implemented.', 'SEC_E_UNSUPPORTED_FUNCTION'],
  ['STATUS_INVALID_HANDLE', 0xC0000008, 'The handle is not valid.', 'SEC_E_INVALID_HANDLE'],
  ['STATUS_INVALID_PARAMETER', 0xC000000D, 'A parameter is not valid.', 'SEC_E_INVALID_TOKEN'],
  ['STATUS_NO_MEMORY', 0xC0000017, 'Not enough virtual memory or paging file quota.', 'SEC_E_INSUFFICIENT_MEMORY'],
  ['STATUS_ACCESS_DENIED', 0xC0000022, 'Access was denied.', 'SEC_E_MESSAGE_ALTERED'],
  ['STATUS_BUFFER_TOO_SMALL', 0xC0000023, 'The buffer is too small.', 'SEC_E_BUFFER_TOO_SMALL'],
  ['STATUS_NO_LOGON_SERVERS', 0xC000005E, 'No logon server is available.', 'SEC_E_NO_AUTHENTICATING_AUTHORITY'],
  ['STATUS_NO_SUCH_LOGON_SESSION', 0xC000005F, 'The logon session does not exist.', 'SEC_E_NO_CREDENTIALS'],
  ['STATUS_PRIVILEGE_NOT_HELD', 0xC0000061, 'A required privilege is not held by the client.', 'SEC_E_NOT_OWNER'],
  ['STATUS_NO_SUCH_USER', 0xC0000064, 'The user does not exist.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_WRONG_PASSWORD', 0xC000006A, 'The password is wrong.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_LOGON_FAILURE', 0xC000006D, 'Unknown user name or bad password.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_ACCOUNT_RESTRICTION', 0xC000006E, 'An account restriction prevented the logon.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_PASSWORD_EXPIRED', 0xC0000071, 'The password has expired.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_ACCOUNT_DISABLED', 0xC0000072, 'The account is disabled.', 'SEC_E_LOGON_DENIED'],
  ['STATUS_INSUFFICIENT_RESOURCES', 0xC000009A, 'Insufficient system resources to complete the call.', 'SEC_E_INSUFFICIENT_MEMORY'],
  ['STATUS_NOT_SUPPORTED', 0xC00000BB, 'The request is not supported.', 'SEC_E_UNSUPPORTED_FUNCTION'],
  ['STATUS_BAD_NETWORK_PATH', 0xC00000BE, 'The network path was not found.', 'SEC_E_TARGET_UNKNOWN'],
  ['STATUS_INTERNAL_ERROR', 0xC00000E5, 'An internal error occurred.', 'SEC_E_INTERNAL_ERROR'],
  ['STATUS_NO_SUCH_PACKAGE', 0xC00000FE, 'The security package does not exist.', 'SEC_E_SECPKG_NOT_FOUND'],
  ['STATUS_CANNOT_IMPERSONATE', 0xC000010D, 'The client cannot be impersonated.', 'SEC_E_NO_IMPERSONATION'],
  ['STATUS_TIME_DIFFERENCE_AT_DC', 0xC0000133, 'The clocks differ too much from the domain controller.', 'SEC_E_TIME_SKEW'],
] as const satisfies readonly RawRow[];

/** Every SECURITY_STATUS name of the table, e.g. `'SEC_E_LOGON_DENIED'`. */
export type SecStatusName = (typeof SEC)[number][0];
/** Every NTSTATUS name of the table, e.g. `'STATUS_LOGON_FAILURE'`. */
export type NtStatusName = (typeof NT)[number][0];
/** A status the table names. */
export type StatusName = SecStatusName | NtStatusName;
/**
 * What `SspiError.code` holds: a name from the table, or the hex value (`'0x8009FFFF'`)
 * of a status the table does not know. A misspelt name does not compile.
 */
export type StatusCode = StatusName | `0x${string}`;

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).toUpperCase().padStart(8, '0');

function severityOf(value: number, family: StatusFamily): StatusSeverity {
  const v = value >>> 0;
  if (family === 'NTSTATUS') return (['success', 'informational', 'warning', 'error'] as const)[v >>> 30]!;
  if (v === 0) return 'success';
  return v & 0x80000000 ? 'error' : 'informational';
}

function build(rows: readonly RawRow[], family: StatusFamily): StatusRow[] {
  return rows.map(([name, value, message, counterpart]) =>
    Object.freeze({
      name,
      value: value >>> 0,
      hex: hex(value),
      severity: severityOf(value, family),
      family,
      message,
      ...(counterpart ? { counterpart } : {}),
      unknown: false,
    }),
  );
}

/** Every row of the table, SECURITY_STATUS first. */
export const STATUS_TABLE: readonly StatusRow[] = Object.freeze([...build(SEC, 'SECURITY_STATUS'), ...build(NT, 'NTSTATUS')]);

const byName = new Map(STATUS_TABLE.map((r) => [r.name, r]));
// SEC_E_OK and STATUS_SUCCESS share 0; the SSPI name wins for a bare value.
const byValue = new Map<number, StatusRow>();
for (const r of STATUS_TABLE) if (!byValue.has(r.value)) byValue.set(r.value, r);

function invalidCode(code: unknown): SspiError {
  const what = typeof code === 'number' ? 'a number outside the 32-bit range' : typeof code;
  return new SspiError('SEC_E_INVALID_PARAMETER', 'describeStatus', `code must be a 32-bit status value or a status name, not ${what}`);
}

/**
 * Describe a SECURITY_STATUS or NTSTATUS, by number (signed or unsigned) or by name.
 * Unknown codes give a row with `unknown: true` and the hex value.
 * @param code A status value (`0x8009030C`, `-2146893044`), its name, or a decimal or hex string.
 * @returns The table's row, or an `unknown: true` row naming the value.
 * @throws SspiError SEC_E_INVALID_PARAMETER when `code` is neither a 32-bit integer nor a string.
 */
export function describeStatus(code: number | string): StatusRow {
  if (typeof code === 'number' ? !Number.isInteger(code) || code < -0x80000000 || code > 0xffffffff : typeof code !== 'string') {
    throw invalidCode(code);
  }
  if (typeof code === 'string') {
    const row = byName.get(code.trim().toUpperCase());
    if (row) return row;
    const n = /^(0x[0-9a-f]{1,8}|-?\d+)$/i.test(code.trim()) ? Number(code.trim()) : NaN;
    if (Number.isFinite(n)) return describeStatus(n);
    return Object.freeze({ name: code, value: NaN, hex: 'NaN', severity: 'error', family: 'SECURITY_STATUS', message: 'Unknown status name.', unknown: true }) as StatusRow;
  }
  const v = code >>> 0;
  const row = byValue.get(v);
  if (row) return row;
  const family: StatusFamily = (v & 0xffff0000) === 0x80090000 || (v & 0xffff0000) === 0x00090000 ? 'SECURITY_STATUS' : 'NTSTATUS';
  return Object.freeze({ name: `UNKNOWN_${hex(v)}`, value: v, hex: hex(v), severity: severityOf(v, family), family, message: `Unknown status ${hex(v)}.`, unknown: true });
}

/** SECURITY_STATUS values by name, for code that compares numbers. */
export const SecStatus = Object.freeze(Object.fromEntries(STATUS_TABLE.filter((r) => r.family === 'SECURITY_STATUS').map((r) => [r.name, r.value]))) as Readonly<Record<SecStatusName, number>>;
/** NTSTATUS values by name. */
export const NtStatus = Object.freeze(Object.fromEntries(STATUS_TABLE.filter((r) => r.family === 'NTSTATUS').map((r) => [r.name, r.value]))) as Readonly<Record<NtStatusName, number>>;

/** Map a package's NTSTATUS to the SECURITY_STATUS the SSPI caller sees. */
export function ntStatusToSecStatus(status: number): number {
  const row = describeStatus(status);
  if (row.family === 'SECURITY_STATUS' && !row.unknown) return row.value;
  const target = row.counterpart ? byName.get(row.counterpart) : undefined;
  return target ? target.value : SecStatus.SEC_E_INTERNAL_ERROR!;
}

export { hex as formatStatus };
