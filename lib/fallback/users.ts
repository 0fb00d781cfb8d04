/**
 * The server's credential store: `users` entries, or a file in the format
 * gss-ntlmssp reads from NTLM_USER_FILE (Heimdal's `DOMAIN:USER:PASSWORD`, or
 * smbpasswd's `[DOMAIN\]NAME:UID:LM_HASH:NT_HASH:...`). NT hashes are computed
 * once here, when the credential is acquired.
 *
 * Matching follows gss-ntlmssp: user and domain compare case-insensitively, and
 * an empty domain on either side (the entry or the AUTHENTICATE_MESSAGE) is a
 * wildcard. Every matching entry is tried in file order until one verifies.
 *
 * Refused when the store is read (SEC_E_UNKNOWN_CREDENTIALS): an entry with an
 * empty user name (the file error names the line, never its fields), and an
 * empty password (or the NT hash of one) unless `allowBlankPassword`, as
 * Windows' LimitBlankPasswordUse policy refuses network logons to such
 * accounts by default. smbpasswd entries flagged `D` (disabled) are left out.
 */
import { readFileSync } from 'node:fs';
import { SspiError } from '../errors.js';
import type { UserEntry } from '../backend/types.js';
import { ntowfv1 } from './ntlmv2.js';

const OP = 'AcquireCredentialsHandleW';

/** How the store treats entries; from the acquire options. */
export interface UserStoreOptions {
  /** Accept entries with an empty password (Windows' LimitBlankPasswordUse = 0). Default false. */
  allowBlankPassword?: boolean;
}

/** NTOWFv1('') = MD4 of nothing: the NT hash of an empty password. */
const BLANK_NT_HASH = ntowfv1('');

/**
 * Longest names the server accepts from an AUTHENTICATE_MESSAGE, in UTF-16
 * units: UNLEN (256, lmcons.h) for the user, and 255 for the domain, which may
 * be a NetBIOS name (DNLEN, 15) or a DNS domain name (DNS_MAX_NAME_LENGTH, 255).
 */
export const MAX_USER_NAME = 256;
export const MAX_DOMAIN_NAME = 255;
// Characters Windows refuses in logon names ("User and Group Accounts",
// learn.microsoft.com) and in NetBIOS domain names ("Naming conventions in
// Active Directory for computers, domains, sites, and OUs"), plus controls.
// Refusing '\' keeps `DOMAIN\user` unambiguous.
const BAD_USER_CHARS = /[\u0000-\u001f\u007f"/\\[\]:;|=,+*?<>]/;
const BAD_DOMAIN_CHARS = /[\u0000-\u001f\u007f"/\\:*?<>|]/;

/** Why the client's user or domain name cannot be a Windows account name, or undefined if it can. */
export function logonNameProblem(user: string, domain: string): string | undefined {
  if (user.length > MAX_USER_NAME) return `the user name is longer than ${MAX_USER_NAME} characters`;
  if (domain.length > MAX_DOMAIN_NAME) return `the domain name is longer than ${MAX_DOMAIN_NAME} characters`;
  if (BAD_USER_CHARS.test(user)) return 'the user name has a character Windows does not allow in account names';
  if (BAD_DOMAIN_CHARS.test(domain)) return 'the domain name has a character Windows does not allow in domain names';
  return undefined;
}

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

function isBlank(ntHash: Buffer): boolean {
  return ntHash.equals(BLANK_NT_HASH);
}

const BLANK_REFUSED = 'has an empty password; pass allowBlankPassword: true to accept it (Windows: LimitBlankPasswordUse)';

/** Build the store; if an entry is refused, the NT hashes built so far are zeroed before the error leaves. */
function buildStore(each: (out: StoredUser[]) => void): StoredUser[] {
  const out: StoredUser[] = [];
  try {
    each(out);
  } catch (e) {
    for (const u of out) u.ntHash.fill(0);
    throw e;
  }
  return out;
}

export function usersFromEntries(entries: readonly UserEntry[], options: UserStoreOptions = {}): StoredUser[] {
  if (!Array.isArray(entries)) throw badEntry('users must be an array or a file path');
  return buildStore((out) => entries.forEach((e, n) => out.push(userFromEntry(e, n, options))));
}

function userFromEntry(e: UserEntry, n: number, options: UserStoreOptions): StoredUser {
  if (!e || typeof e.user !== 'string' || e.user === '') throw badEntry(`user store entry ${n} has no user name`);
  if (e.domain !== undefined && typeof e.domain !== 'string') throw badEntry(`user store entry ${n} has a non-string domain`);
  const hasPw = typeof e.password === 'string';
  const hasHash = e.ntHash !== undefined;
  if (hasPw === hasHash) throw badEntry(`user store entry ${n} needs exactly one of password or ntHash`);
  const ntHash = hasPw ? ntowfv1(e.password!) : parseHash(e.ntHash!);
  if (!options.allowBlankPassword && isBlank(ntHash)) throw badEntry(`user store entry ${n} ${BLANK_REFUSED}`);
  return { domain: e.domain ?? '', user: e.user, ntHash };
}

/** smbpasswd's account control field, `[UX         ]`: true when it carries D (disabled). */
function smbpasswdDisabled(field: string | undefined): boolean {
  if (field === undefined || !field.startsWith('[') || !field.endsWith(']')) return false;
  return field.slice(1, -1).includes('D');
}

/**
 * Parse the file text. Lines it cannot read as either format are skipped, as
 * gss-ntlmssp does; a line that is one but names no user, or has an empty
 * password (unless allowed), is refused with its line number (1-based).
 */
export function parseUserFile(text: string, options: UserStoreOptions = {}): StoredUser[] {
  return buildStore((out) => parseLines(text, options, out));
}

function parseLines(text: string, options: UserStoreOptions, out: StoredUser[]): void {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) continue;
    const where = `the NTLM user file, line ${n + 1},`;
    const f = line.split(':');
    if (f.length < 3) continue;
    let entry: StoredUser;
    if (f.length === 3) {
      entry = { domain: f[0]!, user: f[1]!, ntHash: ntowfv1(f[2]!) };
    } else {
      // smbpasswd: NAME:UID:LM_HASH:NT_HASH:FLAGS:LCT... (needs the colon after NT_HASH).
      if (f.length < 5) continue;
      const nt = f[3]!;
      // "NO PASSWORDXXX..." or "XXXX..." (no NT hash): not an entry anyone can log on with.
      if (!/^[0-9a-fA-F]{32}$/.test(nt)) continue;
      // Samba's smbpasswd(5): D = account disabled.
      if (smbpasswdDisabled(f[4])) continue;
      const name = f[0]!;
      const sep = name.indexOf('\\');
      entry = { domain: sep >= 0 ? name.slice(0, sep) : '', user: sep >= 0 ? name.slice(sep + 1) : name, ntHash: Buffer.from(nt, 'hex') };
    }
    if (entry.user === '') throw badEntry(`${where} has an empty user name`);
    if (!options.allowBlankPassword && isBlank(entry.ntHash)) throw badEntry(`${where} ${BLANK_REFUSED}`);
    out.push(entry);
  }
}

export function usersFromFile(path: string, options: UserStoreOptions = {}): StoredUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new SspiError('SEC_E_NO_CREDENTIALS', OP, 'the NTLM user file could not be read');
  }
  return parseUserFile(text, options);
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
