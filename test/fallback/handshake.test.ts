import { afterEach, describe, expect, it, vi } from 'vitest';
import { backend, creds, expectSspi, handshake, tok, upToAuthenticate, ASC_FLAGS, ISC_FLAGS } from './helpers.js';
import { AscRet, IscRet } from '../../lib/flags.js';
import { SecStatus } from '../../lib/status.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_MIC_OFFSET, NegFlag } from '../../lib/fallback/constants.js';
import { setRandomSourceForTest } from '../../lib/fallback/internal.js';
import { randomBytes } from 'node:crypto';

afterEach(() => {
  vi.useRealTimers();
  setRandomSourceForTest();
});

describe('NTLM handshake through the backend', () => {
  it('authenticates and reports names, flags, sizes', async () => {
    const { client, server } = await creds();
    const r = await handshake(client, server, 'HTTP/server.example.com');
    expect(r.result.status).toBe(SecStatus.SEC_E_OK);
    expect(backend.queryContextAttributes(r.serverCtx, 'names').clientName).toBe('EXAMPLE\\alice');
    expect(backend.queryContextAttributes(r.clientCtx, 'names').serverName).toBe('HTTP/server.example.com');
    expect(backend.queryContextAttributes(r.clientCtx, 'names').clientName).toBe('EXAMPLE\\alice');
    expect(backend.queryContextAttributes(r.serverCtx, 'sizes')).toEqual({ cbMaxToken: 2888, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 });
    const sflags = backend.queryContextAttributes(r.serverCtx, 'flags');
    expect(sflags & AscRet.CONFIDENTIALITY).toBeTruthy();
    expect(sflags & AscRet.INTEGRITY).toBeTruthy();
    expect(backend.queryContextAttributes(r.clientCtx, 'flags') & IscRet.CONFIDENTIALITY).toBeTruthy();
    expect(backend.queryContextAttributes(r.clientCtx, 'packageInfo').name).toBe('NTLM');
    const life = backend.queryContextAttributes(r.serverCtx, 'lifespan');
    expect(life.expiry).toBeGreaterThan(life.start);
    expect(backend.queryContextAttributes(r.serverCtx, 'nativeNames').clientName).toBe('EXAMPLE\\alice');
  });

  it('writes NTLMv2 with ESS, KEY_EXCH, 128-bit and a MIC', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    const flags = t.authenticate.readUInt32LE(60);
    for (const f of [NegFlag.EXTENDED_SESSIONSECURITY, NegFlag.KEY_EXCH, NegFlag.NEG_128, NegFlag.SIGN, NegFlag.SEAL, NegFlag.UNICODE]) expect(flags & f).toBeTruthy();
    expect(t.authenticate.subarray(AUTH_MIC_OFFSET, AUTH_MIC_OFFSET + 16).equals(Buffer.alloc(16))).toBe(false);
    expect(t.authenticate.readUInt16LE(20)).toBeGreaterThan(24); // NTLMv2 response, not v1
  });

  it('a Negotiate acceptor takes raw NTLMSSP from an NTLM client, as Windows does', async () => {
    const { client } = await creds();
    const { server } = await creds(undefined, undefined, 'Negotiate');
    const r = await handshake(client, server);
    expect(r.negotiate.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(r.challenge.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(r.result.status).toBe(0);
    expect(backend.queryContextAttributes(r.serverCtx, 'packageInfo').name).toBe('Negotiate');
  });

  it('matches user and domain case-insensitively; empty domains are wildcards', async () => {
    const a = await creds({ user: 'ALICE', domain: 'example', password: 'Passw0rd!' });
    expect(backend.queryContextAttributes((await handshake(a.client, a.server)).serverCtx, 'names').clientName).toBe('EXAMPLE\\alice');
    const b = await creds({ user: 'bob', domain: '', password: 'password' });
    expect(backend.queryContextAttributes((await handshake(b.client, b.server)).serverCtx, 'names').clientName).toBe('EXAMPLE\\bob');
    const c = await creds({ user: 'carol', domain: 'ANY', password: 'x' }, [{ domain: '', user: 'carol', password: 'x' }]);
    expect((await handshake(c.client, c.server)).result.status).toBe(SecStatus.SEC_E_OK);
  });

  it('DOMAIN\\user in the user field is split when domain is empty', async () => {
    const { client, server } = await creds({ user: 'EXAMPLE\\alice', domain: '', password: 'Passw0rd!' });
    expect(backend.queryContextAttributes((await handshake(client, server)).serverCtx, 'names').clientName).toBe('EXAMPLE\\alice');
  });

  it('reads a DOMAIN:user:password file, and NTLM_USER_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ntlm-users-'));
    const file = join(dir, 'users');
    writeFileSync(file, '# comment\nEXAMPLE:alice:Passw0rd!\r\nbad line\nOTHER:dave:pw:with:colons\nEXAMPLE\\eve:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846F7EAEE8FB117AD06BDD830B7586C:[U]:LCT-0\n');
    const a = await creds(undefined, file);
    expect((await handshake(a.client, a.server)).result.status).toBe(SecStatus.SEC_E_OK);
    const e = await creds({ user: 'eve', domain: 'EXAMPLE', password: 'password' }, file);
    expect((await handshake(e.client, e.server)).result.status).toBe(SecStatus.SEC_E_OK);
    vi.stubEnv('NTLM_USER_FILE', file);
    try {
      const server = (await backend.acquireCredentialsHandle({ packageName: 'NTLM', use: 'inbound' })).cred;
      expect((await handshake(a.client, server)).result.status).toBe(SecStatus.SEC_E_OK);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('handshake failures', () => {
  it('wrong password -> SEC_E_LOGON_DENIED, and the context is gone', async () => {
    const { client, server } = await creds({ user: 'alice', domain: 'EXAMPLE', password: 'wrong' });
    const t = await upToAuthenticate(client, server);
    await expectSspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(t.authenticate) }), 'SEC_E_LOGON_DENIED');
    await expectSspi(() => backend.queryContextAttributes(t.serverCtx, 'names'), 'SEC_E_INVALID_HANDLE');
  });

  it('unknown user -> SEC_E_LOGON_DENIED', async () => {
    const { client, server } = await creds({ user: 'mallory', domain: 'EXAMPLE', password: 'x' });
    await expectSspi(handshake(client, server), 'SEC_E_LOGON_DENIED');
  });

  it('bad MIC -> SEC_E_LOGON_DENIED', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    const auth = Buffer.from(t.authenticate);
    auth[AUTH_MIC_OFFSET + 3]! ^= 1;
    await expectSspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(auth) }), 'SEC_E_LOGON_DENIED');
  });

  it('a flag stripped from AUTHENTICATE is caught by the MIC', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    const auth = Buffer.from(t.authenticate);
    auth.writeUInt32LE((auth.readUInt32LE(60) & ~NegFlag.SEAL) >>> 0, 60);
    await expectSspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(auth) }), 'SEC_E_LOGON_DENIED');
  });

  it('a CHALLENGE modified in flight is caught by the MIC', async () => {
    const { client, server } = await creds();
    const r1 = await backend.initializeSecurityContext(client, { context: null, flags: ISC_FLAGS, input: [] });
    const r2 = await backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(r1.output[0]!.buffer) });
    const chal = Buffer.from(r2.output[0]!.buffer);
    chal[chal.length - 20]! ^= 0x20; // inside the target info names
    const r3 = await backend.initializeSecurityContext(client, { context: r1.context, flags: ISC_FLAGS, input: tok(chal) });
    await expectSspi(backend.acceptSecurityContext(server, { context: r2.context, flags: ASC_FLAGS, input: tok(r3.output[0]!.buffer) }), 'SEC_E_LOGON_DENIED');
  });

  it('an AUTHENTICATE arriving after the skew window -> SEC_E_LOGON_DENIED', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    vi.setSystemTime(Date.now() + 6 * 60 * 1000);
    await expectSspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(t.authenticate) }), 'SEC_E_LOGON_DENIED');
  });

  it('a replayed NTProofStr is refused even under the same server challenge', async () => {
    const { client, server } = await creds();
    // Pin the randomness so the second handshake sees the same challenge and client challenge.
    setRandomSourceForTest((n) => Buffer.alloc(n, 7));
    const a = await upToAuthenticate(client, server);
    const b = await upToAuthenticate(client, server);
    await backend.acceptSecurityContext(server, { context: a.serverCtx, flags: ASC_FLAGS, input: tok(a.authenticate) });
    const err = await backend.acceptSecurityContext(server, { context: b.serverCtx, flags: ASC_FLAGS, input: tok(a.authenticate) }).catch((e) => e);
    expect(err.code).toBe('SEC_E_LOGON_DENIED');
    expect(err.message).toMatch(/replay/);
    setRandomSourceForTest(randomBytes);
  });

  it('refuses a CHALLENGE without extended session security (NTLMv1)', async () => {
    const { client, server } = await creds();
    const r1 = await backend.initializeSecurityContext(client, { context: null, flags: ISC_FLAGS, input: [] });
    const r2 = await backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(r1.output[0]!.buffer) });
    const chal = Buffer.from(r2.output[0]!.buffer);
    chal.writeUInt32LE(((chal.readUInt32LE(20) & ~NegFlag.EXTENDED_SESSIONSECURITY) | NegFlag.LM_KEY) >>> 0, 20);
    const err = await backend.initializeSecurityContext(client, { context: r1.context, flags: ISC_FLAGS, input: tok(chal) }).catch((e) => e);
    expect(err.code).toBe('SEC_E_UNSUPPORTED_FUNCTION');
    expect(err.message).toMatch(/NTLMv1/);
  });

  it('refuses a NEGOTIATE without extended session security, and an NTLMv1 response', async () => {
    const { client, server } = await creds();
    const r1 = await backend.initializeSecurityContext(client, { context: null, flags: ISC_FLAGS, input: [] });
    const neg = Buffer.from(r1.output[0]!.buffer);
    neg.writeUInt32LE((neg.readUInt32LE(12) & ~NegFlag.EXTENDED_SESSIONSECURITY) >>> 0, 12);
    await expectSspi(backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(neg) }), 'SEC_E_UNSUPPORTED_FUNCTION');

    const t = await upToAuthenticate(client, server);
    const auth = Buffer.from(t.authenticate);
    auth.writeUInt16LE(24, 20); // NtChallengeResponse of NTLMv1 size
    auth.writeUInt16LE(24, 22);
    await expectSspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(auth) }), 'SEC_E_UNSUPPORTED_FUNCTION');
  });

  it('bad package, missing identity, wrong-direction credential, missing token', async () => {
    await expectSspi(backend.acquireCredentialsHandle({ packageName: 'Kerberos', use: 'outbound' }), 'SEC_E_SECPKG_NOT_FOUND');
    await expectSspi(backend.acquireCredentialsHandle({ packageName: 'NTLM', use: 'outbound' }), 'SEC_E_NO_CREDENTIALS');
    const { client, server } = await creds();
    await expectSspi(backend.initializeSecurityContext(server, { context: null, flags: 0, input: [] }), 'SEC_E_NO_CREDENTIALS');
    await expectSspi(backend.acceptSecurityContext(client, { context: null, flags: 0, input: [] }), 'SEC_E_NO_CREDENTIALS');
    await expectSspi(backend.acceptSecurityContext(server, { context: null, flags: 0, input: [] }), 'SEC_E_INVALID_TOKEN');
    backend.freeCredentialsHandle(client);
    backend.freeCredentialsHandle(client);
    await expectSspi(backend.initializeSecurityContext(client, { context: null, flags: 0, input: [] }), 'SEC_E_INVALID_HANDLE');
  });

  it('impersonation and tokens are Windows-only', async () => {
    const { client, server } = await creds();
    const r = await handshake(client, server);
    for (const f of [() => backend.impersonateSecurityContext(r.serverCtx), () => backend.revertSecurityContext(r.serverCtx), () => backend.querySecurityContextToken(r.serverCtx), () => backend.adoptToken(1n)]) {
      let msg = '';
      await expectSspi(() => {
        try {
          return f();
        } catch (e) {
          msg = (e as Error).message;
          throw e;
        }
      }, 'SEC_E_UNSUPPORTED_FUNCTION');
      expect(msg).toMatch(/Windows/);
    }
  });
});
