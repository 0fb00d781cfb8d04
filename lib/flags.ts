/** Request and return flags of the SSPI handshake, export flags and attribute ids (sspi.h). */

/** InitializeSecurityContextW fContextReq bits. */
export const IscReq = Object.freeze({
  /** Allow the server to delegate the client's credentials. */
  DELEGATE: 0x00000001,
  /** Require the server to prove its identity. */
  MUTUAL_AUTH: 0x00000002,
  /** Detect replayed messages in sign/seal. */
  REPLAY_DETECT: 0x00000004,
  /** Detect out-of-order messages in sign/seal. */
  SEQUENCE_DETECT: 0x00000008,
  /** Allow EncryptMessage/DecryptMessage (sealing). */
  CONFIDENTIALITY: 0x00000010,
  /** Use a session key (Kerberos user-to-user). */
  USE_SESSION_KEY: 0x00000020,
  /** Prompt for credentials if needed. */
  PROMPT_FOR_CREDS: 0x00000040,
  /** Use only the supplied credentials. */
  USE_SUPPLIED_CREDS: 0x00000080,
  /** The package allocates output buffers; free them with FreeContextBuffer. */
  ALLOCATE_MEMORY: 0x00000100,
  /** DCE-style (three-leg) authentication. */
  USE_DCE_STYLE: 0x00000200,
  /** Datagram semantics. */
  DATAGRAM: 0x00000400,
  /** Connection semantics. */
  CONNECTION: 0x00000800,
  /** Call-level semantics (obsolete). */
  CALL_LEVEL: 0x00001000,
  /** The caller supplies fragments. */
  FRAGMENT_SUPPLIED: 0x00002000,
  /** Generate an error token for the peer on failure. */
  EXTENDED_ERROR: 0x00004000,
  /** Stream semantics. */
  STREAM: 0x00008000,
  /** Allow MakeSignature/VerifySignature. */
  INTEGRITY: 0x00010000,
  /** The server may identify but not impersonate the client. */
  IDENTIFY: 0x00020000,
  /** Null session (anonymous). */
  NULL_SESSION: 0x00040000,
  /** Do not validate the server's credentials automatically (Schannel). */
  MANUAL_CRED_VALIDATION: 0x00080000,
  /** Reserved. */
  RESERVED1: 0x00100000,
  /** Fragment output to fit the supplied buffers. */
  FRAGMENT_TO_FIT: 0x00200000,
  /** Forward credentials (Kerberos). */
  FORWARD_CREDENTIALS: 0x00400000,
  /** No integrity protection. */
  NO_INTEGRITY: 0x00800000,
  /** HTTP-style authentication (Digest). */
  USE_HTTP_STYLE: 0x01000000,
  /** The target name is not verified. */
  UNVERIFIED_TARGET_NAME: 0x20000000,
  /** Confidentiality only. */
  CONFIDENTIALITY_ONLY: 0x40000000,
} as const);

/** InitializeSecurityContextW pfContextAttr bits. */
export const IscRet = Object.freeze({
  /** Delegation was granted. */
  DELEGATE: 0x00000001,
  /** Mutual authentication was performed. */
  MUTUAL_AUTH: 0x00000002,
  /** Replay detection is on. */
  REPLAY_DETECT: 0x00000004,
  /** Sequence detection is on. */
  SEQUENCE_DETECT: 0x00000008,
  /** Sealing is available. */
  CONFIDENTIALITY: 0x00000010,
  /** A session key was used. */
  USE_SESSION_KEY: 0x00000020,
  /** Collected credentials were used. */
  USED_COLLECTED_CREDS: 0x00000040,
  /** The supplied credentials were used. */
  USED_SUPPLIED_CREDS: 0x00000080,
  /** Output buffers were allocated by the package. */
  ALLOCATED_MEMORY: 0x00000100,
  /** DCE style was used. */
  USED_DCE_STYLE: 0x00000200,
  /** Datagram semantics. */
  DATAGRAM: 0x00000400,
  /** Connection semantics. */
  CONNECTION: 0x00000800,
  /** Intermediate return. */
  INTERMEDIATE_RETURN: 0x00001000,
  /** Call-level semantics. */
  CALL_LEVEL: 0x00002000,
  /** Extended errors are on. */
  EXTENDED_ERROR: 0x00004000,
  /** Stream semantics. */
  STREAM: 0x00008000,
  /** Signing is available. */
  INTEGRITY: 0x00010000,
  /** Identify level only. */
  IDENTIFY: 0x00020000,
  /** Null session. */
  NULL_SESSION: 0x00040000,
  /** Manual credential validation. */
  MANUAL_CRED_VALIDATION: 0x00080000,
  /** Reserved. */
  RESERVED1: 0x00100000,
  /** Fragment only. */
  FRAGMENT_ONLY: 0x00200000,
  /** Credentials were forwarded. */
  FORWARD_CREDENTIALS: 0x00400000,
  /** HTTP style was used. */
  USED_HTTP_STYLE: 0x01000000,
  /** No additional token is needed. */
  NO_ADDITIONAL_TOKEN: 0x02000000,
  /** Reauthentication. */
  REAUTHENTICATION: 0x08000000,
  /** Confidentiality only. */
  CONFIDENTIALITY_ONLY: 0x40000000,
} as const);

/** AcceptSecurityContext fContextReq bits. */
export const AscReq = Object.freeze({
  /** Allow delegation. */
  DELEGATE: 0x00000001,
  /** Mutual authentication. */
  MUTUAL_AUTH: 0x00000002,
  /** Detect replayed messages. */
  REPLAY_DETECT: 0x00000004,
  /** Detect out-of-order messages. */
  SEQUENCE_DETECT: 0x00000008,
  /** Allow sealing. */
  CONFIDENTIALITY: 0x00000010,
  /** Use a session key. */
  USE_SESSION_KEY: 0x00000020,
  /** Session ticket. */
  SESSION_TICKET: 0x00000040,
  /** The package allocates output buffers. */
  ALLOCATE_MEMORY: 0x00000100,
  /** DCE style. */
  USE_DCE_STYLE: 0x00000200,
  /** Datagram semantics. */
  DATAGRAM: 0x00000400,
  /** Connection semantics. */
  CONNECTION: 0x00000800,
  /** Call-level semantics. */
  CALL_LEVEL: 0x00001000,
  /** Fragments supplied. */
  FRAGMENT_SUPPLIED: 0x00002000,
  /** Generate an error token on failure. */
  EXTENDED_ERROR: 0x00008000,
  /** Stream semantics. */
  STREAM: 0x00010000,
  /** Allow signing. */
  INTEGRITY: 0x00020000,
  /** Licensing. */
  LICENSING: 0x00040000,
  /** Identify level only. */
  IDENTIFY: 0x00080000,
  /** Allow a null session. */
  ALLOW_NULL_SESSION: 0x00100000,
  /** Allow non-user logons. */
  ALLOW_NON_USER_LOGONS: 0x00200000,
  /** Allow context replay. */
  ALLOW_CONTEXT_REPLAY: 0x00400000,
  /** Fragment to fit. */
  FRAGMENT_TO_FIT: 0x00800000,
  /** No token output. */
  NO_TOKEN: 0x01000000,
  /** Require proxy bindings. */
  PROXY_BINDINGS: 0x04000000,
  /** Allow missing channel bindings. */
  ALLOW_MISSING_BINDINGS: 0x10000000,
} as const);

/** AcceptSecurityContext pfContextAttr bits. */
export const AscRet = Object.freeze({
  /** Delegation was granted. */
  DELEGATE: 0x00000001,
  /** Mutual authentication. */
  MUTUAL_AUTH: 0x00000002,
  /** Replay detection. */
  REPLAY_DETECT: 0x00000004,
  /** Sequence detection. */
  SEQUENCE_DETECT: 0x00000008,
  /** Sealing is available. */
  CONFIDENTIALITY: 0x00000010,
  /** A session key was used. */
  USE_SESSION_KEY: 0x00000020,
  /** Session ticket. */
  SESSION_TICKET: 0x00000040,
  /** Output buffers were allocated by the package. */
  ALLOCATED_MEMORY: 0x00000100,
  /** DCE style. */
  USED_DCE_STYLE: 0x00000200,
  /** Datagram semantics. */
  DATAGRAM: 0x00000400,
  /** Connection semantics. */
  CONNECTION: 0x00000800,
  /** Call-level semantics. */
  CALL_LEVEL: 0x00002000,
  /** The third leg failed. */
  THIRD_LEG_FAILED: 0x00004000,
  /** Extended errors. */
  EXTENDED_ERROR: 0x00008000,
  /** Stream semantics. */
  STREAM: 0x00010000,
  /** Signing is available. */
  INTEGRITY: 0x00020000,
  /** Licensing. */
  LICENSING: 0x00040000,
  /** Identify level only. */
  IDENTIFY: 0x00080000,
  /** Null session. */
  NULL_SESSION: 0x00100000,
  /** Non-user logons allowed. */
  ALLOW_NON_USER_LOGONS: 0x00200000,
  /** Context replay allowed. */
  ALLOW_CONTEXT_REPLAY: 0x00400000,
  /** Fragment only. */
  FRAGMENT_ONLY: 0x00800000,
  /** No token. */
  NO_TOKEN: 0x01000000,
  /** No additional token is needed. */
  NO_ADDITIONAL_TOKEN: 0x02000000,
} as const);

/** ExportSecurityContext fFlags. */
export const SecPkgContextExport = Object.freeze({
  /** The new (imported) context starts with fresh sequence numbers and cipher state. */
  RESET_NEW: 0x00000001,
  /** The old context is deleted by the export. */
  DELETE_OLD: 0x00000002,
  /** The context is exported to kernel mode. */
  TO_KERNEL: 0x00000004,
} as const);

/** AcquireCredentialsHandleW fCredentialUse. */
export const SecPkgCred = Object.freeze({
  /** Server side: accept contexts. */
  INBOUND: 0x1,
  /** Client side: initialize contexts. */
  OUTBOUND: 0x2,
  /** Both directions. */
  BOTH: 0x3,
} as const);

/** QueryContextAttributesW ulAttribute ids. */
export const SecPkgAttr = Object.freeze({
  /** SecPkgContext_Sizes: max token, signature, block and trailer sizes. */
  SIZES: 0,
  /** SecPkgContext_NamesW: the client's `DOMAIN\user`. */
  NAMES: 1,
  /** SecPkgContext_Lifespan: start and expiry. */
  LIFESPAN: 2,
  /** DCE information. */
  DCE_INFO: 3,
  /** SecPkgContext_StreamSizes (and datagram sizes). */
  STREAM_SIZES: 4,
  /** SecPkgContext_KeyInfoW: key sizes and algorithms. */
  KEY_INFO: 5,
  /** SecPkgContext_AuthorityW: the authenticating authority. */
  AUTHORITY: 6,
  /** Protocol information. */
  PROTO_INFO: 7,
  /** Password expiry time. */
  PASSWORD_EXPIRY: 8,
  /** SecPkgContext_SessionKey. */
  SESSION_KEY: 9,
  /** SecPkgContext_PackageInfoW: the package behind the context. */
  PACKAGE_INFO: 10,
  /** User flags. */
  USER_FLAGS: 11,
  /** SecPkgContext_NegotiationInfoW: Negotiate's chosen package. */
  NEGOTIATION_INFO: 12,
  /** SecPkgContext_NativeNamesW: client and server names. */
  NATIVE_NAMES: 13,
  /** SecPkgContext_Flags: the negotiated ISC_RET/ASC_RET bits. */
  FLAGS: 14,
  /** Use validated credentials. */
  USE_VALIDATED: 15,
  /** Credential name. */
  CREDENTIAL_NAME: 16,
  /** Target information. */
  TARGET_INFORMATION: 17,
  /** SecPkgContext_AccessToken: the access token (do not close). */
  ACCESS_TOKEN: 18,
  /** Target name. */
  TARGET: 19,
  /** Logon session id. */
  AUTHENTICATION_ID: 20,
  /** Logoff time. */
  LOGOFF_TIME: 21,
  /** Negotiate keys. */
  NEGO_KEYS: 22,
  /** Prompting needed. */
  PROMPTING_NEEDED: 24,
  /** Unique channel bindings. */
  UNIQUE_BINDINGS: 25,
  /** Endpoint channel bindings. */
  ENDPOINT_BINDINGS: 26,
  /** The client-specified target. */
  CLIENT_SPECIFIED_TARGET: 27,
  /** Status of the last client token. */
  LAST_CLIENT_TOKEN_STATUS: 30,
  /** Negotiate package info. */
  NEGO_PKG_INFO: 31,
  /** Negotiate status. */
  NEGO_STATUS: 32,
  /** The context was deleted. */
  CONTEXT_DELETED: 33,
  /** DTLS MTU. */
  DTLS_MTU: 34,
  /** Application protocol. */
  APPLICATION_PROTOCOL: 35,
  /** Negotiated TLS extensions. */
  NEGOTIATED_TLS_EXTENSIONS: 36,
  /** Loopback connection. */
  IS_LOOPBACK: 37,
  /** Subject security attributes. */
  SUBJECT_SECURITY_ATTRIBUTES: 128,
} as const);

/** One ISC_REQ_* bit. A request is these ORed together: a `number`. */
export type IscReqFlag = (typeof IscReq)[keyof typeof IscReq];
/** One ISC_RET_* bit. */
export type IscRetFlag = (typeof IscRet)[keyof typeof IscRet];
/** One ASC_REQ_* bit. */
export type AscReqFlag = (typeof AscReq)[keyof typeof AscReq];
/** One ASC_RET_* bit. */
export type AscRetFlag = (typeof AscRet)[keyof typeof AscRet];
/** One SECPKG_CONTEXT_EXPORT_* bit. */
export type SecPkgContextExportFlag = (typeof SecPkgContextExport)[keyof typeof SecPkgContextExport];
/** A SECPKG_ATTR_* name, e.g. `'NAMES'`. */
export type SecPkgAttrName = keyof typeof SecPkgAttr;
/** A SECPKG_ATTR_* id, e.g. `1` for SECPKG_ATTR_NAMES. */
export type SecPkgAttrId = (typeof SecPkgAttr)[SecPkgAttrName];

/**
 * The names of the bits set in `value`, for logs and the CLI.
 * @param value ORed flag bits, e.g. `ctx.flags`.
 * @param table The flag table the bits come from, e.g. `IscRet`.
 * @returns The table's names whose bits are all set in `value`.
 */
export function flagNames<T extends Readonly<Record<string, number>>>(value: number, table: T): Array<keyof T & string> {
  const out: Array<keyof T & string> = [];
  for (const [name, bit] of Object.entries(table)) if (bit !== 0 && ((value >>> 0) & bit) === bit) out.push(name as keyof T & string);
  return out;
}
