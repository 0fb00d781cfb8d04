/** Server-side settings: the names a CHALLENGE advertises, the clock-skew window and the replay cache. */
import { hostname } from 'node:os';
import { NegFlag } from './constants.js';

export interface ServerNames {
  nbComputer: string;
  nbDomain: string;
  dnsComputer: string;
  dnsDomain: string;
}

/**
 * Same variables as gss-ntlmssp (NETBIOS_COMPUTER_NAME, NETBIOS_DOMAIN_NAME);
 * otherwise the host name's first label, upper-cased and cut to 15 characters,
 * and WORKGROUP.
 */
export function serverNames(env: NodeJS.ProcessEnv = process.env): ServerNames {
  const host = hostname() || 'localhost';
  const first = host.split('.')[0] || host;
  const dot = host.indexOf('.');
  return {
    nbComputer: env.NETBIOS_COMPUTER_NAME || first.toUpperCase().slice(0, 15),
    nbDomain: env.NETBIOS_DOMAIN_NAME || 'WORKGROUP',
    dnsComputer: host,
    dnsDomain: dot > 0 ? host.slice(dot + 1) : '',
  };
}

/**
 * Tolerance between the server's clock and the NTLMv2 response timestamp, and
 * the longest a CHALLENGE stays answerable. MS-NLMP leaves the value to the
 * implementation; 5 minutes matches Kerberos' default skew.
 */
export const MAX_SKEW_MS = 5 * 60 * 1000;

/** Recently accepted NTProofStr values (hex), each kept for the skew window. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = MAX_SKEW_MS,
    private readonly maxEntries = 10_000,
  ) {}

  has(key: string, now: number): boolean {
    const exp = this.seen.get(key);
    return exp !== undefined && exp > now;
  }

  add(key: string, now: number): void {
    // Map keeps insertion order, so the oldest entries are first.
    for (const [k, exp] of this.seen) {
      if (exp > now && this.seen.size < this.maxEntries) break;
      this.seen.delete(k);
    }
    this.seen.set(key, now + 2 * this.windowMs);
  }

  clear(): void {
    this.seen.clear();
  }
}

/** Session key strength a NegotiateFlags value gives (MS-NLMP 3.4.5.3 SEALKEY). */
export type KeyBits = 128 | 56 | 40;

export function keyBits(negFlags: number): KeyBits {
  return negFlags & NegFlag.NEG_128 ? 128 : negFlags & NegFlag.NEG_56 ? 56 : 40;
}

/**
 * Windows' default NTLMMinServerSec / NTLMMinClientSec require 128-bit keys
 * (learn.microsoft.com "Network security: Minimum session security for NTLM
 * SSP based clients/servers"); `minimumSecurity` lowers it for old peers.
 */
export const DEFAULT_MINIMUM_KEY_BITS: KeyBits = 128;

/**
 * Whether `negFlags` fall below the floor. Only session security has keys to
 * weaken: a NEGOTIATE asking for neither SIGN nor SEAL (curl's NTLM,
 * authentication only) is not refused, and its context reports neither
 * INTEGRITY nor CONFIDENTIALITY.
 */
export function belowKeyFloor(negFlags: number, minimum: KeyBits): boolean {
  return (negFlags & (NegFlag.SIGN | NegFlag.SEAL)) !== 0 && keyBits(negFlags) < minimum;
}

/** Per-handshake settings from the context options (the native packages read theirs from the registry). */
export interface NtlmPolicy {
  minimumKeyBits: KeyBits;
  /** Server: MsvAvTargetName must be one of these (case-insensitive). */
  targetNames?: readonly string[];
  /** MD5 of gss_channel_bindings_struct, when the caller gave SECBUFFER_CHANNEL_BINDINGS. */
  bindingsHash?: Buffer;
  /** Server: ASC_REQ_ALLOW_MISSING_BINDINGS (IIS tokenChecking Allow). */
  allowMissingBindings: boolean;
}
