/** MS-NLMP 2.2.2.5 NegotiateFlags, 2.2.2.1 AvId values, and the sizes SSPI reports. */

export const NegFlag = Object.freeze({
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  NEG_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  NEG_56: 0x80000000,
} as const);

export const AvId = Object.freeze({
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const);

/** MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC. */
export const MSV_AV_FLAG_MIC_PRESENT = 0x2;

export const MessageType = Object.freeze({ NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const);

export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** The flags this package offers in NEGOTIATE and accepts in CHALLENGE. */
export const OFFERED_FLAGS =
  NegFlag.UNICODE |
  NegFlag.REQUEST_TARGET |
  NegFlag.SIGN |
  NegFlag.SEAL |
  NegFlag.NTLM |
  NegFlag.ALWAYS_SIGN |
  NegFlag.EXTENDED_SESSIONSECURITY |
  NegFlag.TARGET_INFO |
  NegFlag.VERSION |
  NegFlag.NEG_128 |
  NegFlag.KEY_EXCH |
  NegFlag.NEG_56;

/** VERSION structure (MS-NLMP 2.2.2.10): 10.0.19041, NTLMSSP_REVISION_W2K3. */
export const VERSION_BYTES = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]);

/** SecPkgContext_Sizes for NTLM, as Windows reports them. */
export const NTLM_MAX_TOKEN = 2888;
export const SIGNATURE_SIZE = 16;

/** AUTHENTICATE_MESSAGE layout: fixed header, Version, MIC. */
export const AUTH_HEADER_SIZE = 64;
export const AUTH_MIC_OFFSET = 72;
export const AUTH_PAYLOAD_MIN_WITH_MIC = 88;

/** Largest NTLM message we parse; Windows caps tokens at cbMaxToken. */
export const MAX_MESSAGE_SIZE = 64 * 1024;

/** Windows FILETIME epoch offset: 100 ns ticks between 1601-01-01 and 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

export function filetimeNow(nowMs = Date.now()): bigint {
  return BigInt(nowMs) * 10000n + FILETIME_UNIX_EPOCH;
}
