/** Server-side settings: the names a CHALLENGE advertises, the clock-skew window and the replay cache. */
import { hostname } from 'node:os';

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
