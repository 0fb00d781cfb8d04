/**
 * The server's credential store: `users` entries, or a file in the format
 * gss-ntlmssp reads from NTLM_USER_FILE (Heimdal's `DOMAIN:USER:PASSWORD`, or
 * smbpasswd's `[DOMAIN\]NAME:UID:LM_HASH:NT_HASH:...`). NT hashes are computed
 * once here, when the credential is acquired.
 *
 * Matching follows gss-ntlmssp: user and domain compare case-insensitively, and
 * an empty domain on either side (the entry or the AUTHENTICATE_MESSAGE) is a
 * wildcard. Every matching entry is tried in file order until one verifies.
 */
import { readFileSync } from 'node:fs';
import { SspiError } from '../errors.js';
import type { UserEntry } from '../backend/types.js';
import { ntowfv1 } from './ntlmv2.js';

const OP = 'AcquireCredentialsHandleW';

export interface StoredUser {
  domain: string;
  user: string;
  ntHash: Buffer;
}

function badEntry(detail: string): SspiError {
  return new SspiError('SEC_E_UNKNOWN_CREDENTIALS', OP, detail);
}

function parseHash(h: Buffer | string): Buffer {
  if (typeof h === 'string') {
    if (!/^[0-9a-fA-F]{32}$/.test(h)) throw badEntry('a user store NT hash is not 32 hex digits');
    return Buffer.from(h, 'hex');
  }
  if (!Buffer.isBuffer(h) || h.length !== 16) throw badEntry('a user store NT hash is not 16 bytes');
  return Buffer.from(h);
}

export function usersFromEntries(entries: readonly UserEntry[]): StoredUser[] {
  if (!Array.isArray(entries)) throw badEntry('users must be an array or a file path');
  return entries.map((e) => {
    if (!e || typeof e.user !== 'string' || e.user === '') throw badEntry('a user store entry has no user name');
    if (e.domain !== undefined && typeof e.domain !== 'string') throw badEntry('a user store entry has a non-string domain');
    const hasPw = typeof e.password === 'string';
    const hasHash = e.ntHash !== undefined;
    if (hasPw === hasHash) throw badEntry('a user store entry needs exactly one of password or ntHash');
    return { domain: e.domain ?? '', user: e.user, ntHash: hasPw ? ntowfv1(e.password!) : parseHash(e.ntHash!) };
  });
}

/** Parse the file text; unparseable lines are skipped, as gss-ntlmssp does. */
export function parseUserFile(text: string): StoredUser[] {
  const out: StoredUser[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    if (f.length === 3) {
      out.push({ domain: f[0]!, user: f[1]!, ntHash: ntowfv1(f[2]!) });
      continue;
    }
    // smbpasswd: NAME:UID:LM_HASH:NT_HASH:FLAGS... (needs the colon after NT_HASH).
    if (f.length < 5) continue;
    const nt = f[3]!;
    if (!/^[0-9a-fA-F]{32}$/.test(nt)) continue;
    const name = f[0]!;
    const sep = name.indexOf('\\');
    out.push({ domain: sep >= 0 ? name.slice(0, sep) : '', user: sep >= 0 ? name.slice(sep + 1) : name, ntHash: Buffer.from(nt, 'hex') });
  }
  return out;
}

export function usersFromFile(path: string): StoredUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new SspiError('SEC_E_NO_CREDENTIALS', OP, 'the NTLM user file could not be read');
  }
  return parseUserFile(text);
}

export type UserIndex = Map<string, StoredUser[]>;

/** Index by upper-cased user name, keeping file order within a name. */
export function indexUsers(store: readonly StoredUser[]): UserIndex {
  const idx: UserIndex = new Map();
  for (const e of store) {
    const k = e.user.toUpperCase();
    const list = idx.get(k);
    if (list) list.push(e);
    else idx.set(k, [e]);
  }
  return idx;
}

export function candidates(idx: UserIndex, user: string, domain: string): StoredUser[] {
  const list = idx.get(user.toUpperCase());
  if (!list) return [];
  const dom = domain.toUpperCase();
  return list.filter((e) => e.domain === '' || dom === '' || e.domain.toUpperCase() === dom);
}
