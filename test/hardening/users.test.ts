// Issue 13, the user store: blank passwords refused unless allowBlankPassword
// (Windows' LimitBlankPasswordUse, on by default: "Accounts: Limit local account
// use of blank passwords to console logon only", learn.microsoft.com), an empty
// user name refused with its line number, and smbpasswd's D (disabled) flag
// honoured (Samba smbpasswd(5): account control bits, D = disabled).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { logonPair, type Who } from './logon';

const { Credentials, SspiError } = api;
const BLANK_NT = '31D6CFE0D16AE931B73C59D7E0C089C0'; // NTOWFv1('') (MS-NLMP 3.3.1)

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'harden-users-')), 'users');
  writeFileSync(path, text);
  return path;
}

async function acquireError(options: Record<string, unknown>): Promise<{ code: string; message: string } | undefined> {
  try {
    (await Credentials.acquire({ package: 'NTLM', use: 'inbound', ...options })).close();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SspiError);
    return e as { code: string; message: string };
  }
}

/** Log on as `who` against a store; resolves to the client name or the failure status. */
async function logon(who: Who, store: Record<string, unknown>): Promise<string> {
  try {
    const pair = await logonPair(who, store);
    const name = pair.server.names.clientName;
    pair.close();
    return name;
  } catch (e) {
    expect(e).toBeInstanceOf(SspiError);
    return (e as { code: string }).code;
  }
}

describe('blank passwords (LimitBlankPasswordUse)', () => {
  it('refuses an entry with an empty password, or the NT hash of one, unless allowBlankPassword', async () => {
    for (const entry of [{ user: 'guest', password: '' }, { user: 'guest', ntHash: BLANK_NT }, { user: 'guest', ntHash: Buffer.from(BLANK_NT, 'hex') }]) {
      const err = await acquireError({ users: [{ domain: 'EXAMPLE', user: 'alice', password: 'x' }, entry] });
      expect(err?.code).toBe('SEC_E_UNKNOWN_CREDENTIALS');
      expect(err?.message).toMatch(/allowBlankPassword/);
      expect(await acquireError({ users: [entry], allowBlankPassword: true })).toBeUndefined();
    }
  });

  it('refuses blank passwords in a file (Heimdal and smbpasswd lines), naming the line', async () => {
    const heimdal = file('EXAMPLE:alice:secret\n# comment\nEXAMPLE:guest:\n');
    expect(await acquireError({ users: heimdal })).toMatchObject({ code: 'SEC_E_UNKNOWN_CREDENTIALS', message: expect.stringMatching(/line 3\b/) });
    const smb = file(`guest:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:${BLANK_NT}:[U          ]:LCT-00000000:\n`);
    expect(await acquireError({ users: smb })).toMatchObject({ code: 'SEC_E_UNKNOWN_CREDENTIALS', message: expect.stringMatching(/line 1\b/) });
    expect(await acquireError({ users: smb, allowBlankPassword: true })).toBeUndefined();
  });

  it('with allowBlankPassword a blank-password account logs on', async () => {
    expect(await logon({ user: 'guest', domain: 'EXAMPLE', password: '' }, { users: [{ domain: 'EXAMPLE', user: 'guest', password: '' }], allowBlankPassword: true })).toBe('EXAMPLE\\guest');
  });
});

describe('the file parser refuses an empty user name and names the line', () => {
  for (const [name, text, line] of [
    ['Heimdal', 'EXAMPLE:alice:secret\nEXAMPLE::Sup3rSecretPw\n', 2],
    ['smbpasswd', 'EXAMPLE:alice:secret\n\n# c\n:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846F7EAEE8FB117AD06BDD830B7586C:[U]:LCT-0:\n', 4],
    ['smbpasswd with a domain', 'EXAMPLE\\:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846F7EAEE8FB117AD06BDD830B7586C:[U]:LCT-0:\r\n', 1],
  ] as const) {
    it(`${name}: line ${line}, and never the password`, async () => {
      const err = await acquireError({ users: file(text) });
      expect(err?.code).toBe('SEC_E_UNKNOWN_CREDENTIALS');
      expect(err?.message).toContain(`line ${line},`);
      expect(err?.message).toMatch(/empty user name/);
      expect(err?.message).not.toMatch(/Sup3rSecretPw|8846F7EA|secret/i);
    });
  }

  it('an entries array names the entry', async () => {
    const err = await acquireError({ users: [{ user: 'alice', password: 'x' }, { user: '', password: 'y' }] });
    expect(err).toMatchObject({ code: 'SEC_E_UNKNOWN_CREDENTIALS', message: expect.stringContaining('entry 1') });
  });
});

describe("smbpasswd's D flag", () => {
  const hash = '8846F7EAEE8FB117AD06BDD830B7586C'; // NTOWFv1('password')
  const line = (name: string, flags: string) => `${name}:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:${hash}:${flags}:LCT-5F5E1000:\n`;

  it('a disabled account cannot log on; the same line without D can', async () => {
    const who = { user: 'eve', domain: 'EXAMPLE', password: 'password' };
    expect(await logon(who, { users: file(line('EXAMPLE\\eve', '[DU         ]')) })).toBe('SEC_E_LOGON_DENIED');
    expect(await logon(who, { users: file(line('EXAMPLE\\eve', '[UD         ]')) })).toBe('SEC_E_LOGON_DENIED');
    expect(await logon(who, { users: file(line('EXAMPLE\\eve', '[U          ]')) })).toBe('EXAMPLE\\eve');
  });

  it('a disabled entry does not hide an enabled one later in the file', async () => {
    const text = line('EXAMPLE\\eve', '[DU         ]') + line('EXAMPLE\\eve', '[UX         ]');
    expect(await logon({ user: 'eve', domain: 'EXAMPLE', password: 'password' }, { users: file(text) })).toBe('EXAMPLE\\eve');
  });
});
