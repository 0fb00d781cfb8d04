// Channel bindings: the SEC_CHANNEL_BINDINGS the addon gets (learn.microsoft.com
// "SEC_CHANNEL_BINDINGS structure"), the MsvAvChannelBindings hash the NTLM
// package sends (MS-NLMP 2.2.2.1, RFC 2744 §3.11), tls-server-end-point
// (RFC 5929 §4.1) from real TLS sockets, and the server policy matrix.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelBindingsHash, secChannelBindings, tlsChannelBindings, tlsServerEndPoint } from '../../lib/channel-bindings.js';
import { Credentials } from '../../lib/credentials.js';
import { ClientContext, ServerContext } from '../../lib/context.js';
import { createNativeBackend } from '../../lib/native/backend.js';
import type { NativeBinding } from '../../lib/native/native.js';
import { AscReq } from '../../lib/flags.js';
import { api } from '../helpers/handshake.js';
import { AvId } from '../../lib/fallback/constants.js';
import { parseAvPairs } from '../../lib/fallback/av-pairs.js';

const APP = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex')]);

describe('SEC_CHANNEL_BINDINGS and its gss_channel_bindings_struct hash', () => {
  it('is a 32-byte header with only the application fields set, the data after it', () => {
    const b = secChannelBindings(APP);
    const header = Buffer.alloc(32);
    header.writeUInt32LE(APP.length, 24); // cbApplicationDataLength
    header.writeUInt32LE(32, 28); // dwApplicationDataOffset
    expect(b).toEqual(Buffer.concat([header, APP]));
  });

  it('hashes as MD5(four zero ULONGs || application length || application data)', () => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(APP.length, 0);
    const expected = createHash('md5').update(Buffer.alloc(16)).update(len).update(APP).digest();
    expect(channelBindingsHash(secChannelBindings(APP), 't')).toEqual(expected);
  });

  it('includes initiator and acceptor addresses when a SEC_CHANNEL_BINDINGS carries them', () => {
    const b = Buffer.alloc(32 + 4 + 4);
    b.writeUInt32LE(2, 0); // GSS_C_AF_INET
    b.writeUInt32LE(4, 4);
    b.writeUInt32LE(32, 8);
    b.writeUInt32LE(2, 12);
    b.writeUInt32LE(4, 16);
    b.writeUInt32LE(36, 20);
    Buffer.from([127, 0, 0, 1]).copy(b, 32);
    Buffer.from([10, 0, 0, 1]).copy(b, 36);
    const u32 = (v: number) => Buffer.from([v, 0, 0, 0]);
    const expected = createHash('md5').update(Buffer.concat([u32(2), u32(4), Buffer.from([127, 0, 0, 1]), u32(2), u32(4), Buffer.from([10, 0, 0, 1]), u32(0)])).digest();
    expect(channelBindingsHash(b, 't')).toEqual(expected);
    const bad = Buffer.from(b);
    bad.writeUInt32LE(4000, 8);
    expect(() => channelBindingsHash(bad, 't')).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
  });

  it('refuses bindings that are not bytes', () => {
    expect(() => secChannelBindings('tls-unique:x' as never)).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
  });
});

/** A minimal fake addon (test/native/backend.test.ts pattern) recording the input buffers of each step. */
function fakeAddon() {
  class Handle {
    close(): void {}
  }
  const steps: { op: string; flags: number; input: { type: number; buffer: Buffer }[] }[] = [];
  const result = { status: 0x00090312, output: [{ type: 2, buffer: Buffer.from('tok') }], contextAttributes: 0, expiry: 1, completed: false };
  const binding = {
    setErrorClass: () => {},
    Context: Handle,
    Credential: Handle,
    Token: Handle,
    acquireCredentialsHandle: async () => ({ cred: new Handle(), expiry: 1 }),
    initializeSecurityContext: async (_c: unknown, _x: unknown, _t: unknown, flags: number, input: { type: number; buffer: Buffer }[]) => {
      steps.push({ op: 'isc', flags, input });
      return result;
    },
    acceptSecurityContext: async (_c: unknown, _x: unknown, flags: number, input: { type: number; buffer: Buffer }[]) => {
      steps.push({ op: 'asc', flags, input });
      return result;
    },
  } as unknown as NativeBinding;
  return { binding, steps };
}

describe('the native backend gets SECBUFFER_CHANNEL_BINDINGS next to the token', () => {
  it('client: every leg carries the exact SEC_CHANNEL_BINDINGS bytes as buffer type 14', async () => {
    const f = fakeAddon();
    const cred = await Credentials.acquire({ package: 'Negotiate', use: 'outbound', backend: createNativeBackend(f.binding) });
    const c = new ClientContext(cred, { target: 'HTTP/x', channelBindings: APP });
    await c.step();
    await c.step(Buffer.from('challenge'));
    const header = Buffer.alloc(32);
    header.writeUInt32LE(APP.length, 24);
    header.writeUInt32LE(32, 28);
    expect(f.steps[0]!.input).toEqual([{ type: 14, buffer: Buffer.concat([header, APP]) }]);
    expect(f.steps[1]!.input).toEqual([
      { type: 2, buffer: Buffer.from('challenge') },
      { type: 14, buffer: Buffer.concat([header, APP]) },
    ]);
  });

  it('server: allow sets ASC_REQ_ALLOW_MISSING_BINDINGS, require does not, none passes no bindings', async () => {
    for (const [policy, buffers, allowMissing] of [
      ['allow', 2, true],
      ['require', 2, false],
      ['none', 1, false],
    ] as const) {
      const f = fakeAddon();
      const cred = await Credentials.acquire({ package: 'Negotiate', use: 'inbound', backend: createNativeBackend(f.binding) });
      const s = new ServerContext(cred, { channelBindings: APP, channelBindingPolicy: policy });
      await s.step(Buffer.from('negotiate'));
      const st = f.steps[0]!;
      expect(st.input.length).toBe(buffers);
      expect(st.input[0]).toEqual({ type: 2, buffer: Buffer.from('negotiate') });
      if (buffers === 2) expect(st.input[1]).toEqual({ type: 14, buffer: secChannelBindings(APP) });
      expect((st.flags & AscReq.ALLOW_MISSING_BINDINGS) !== 0).toBe(allowMissing);
    }
  });
});

describe('fallback-only settings on the native backend', () => {
  it('refuses targetNames and a lowered minimumSecurity instead of ignoring them', async () => {
    const f = fakeAddon();
    const cred = await Credentials.acquire({ package: 'Negotiate', use: 'both', backend: createNativeBackend(f.binding) });
    expect(() => new ServerContext(cred, { targetNames: ['HTTP/x'] })).toThrow(expect.objectContaining({ code: 'SEC_E_UNSUPPORTED_FUNCTION' }));
    expect(() => new ClientContext(cred, { minimumSecurity: 40 })).toThrow(expect.objectContaining({ code: 'SEC_E_UNSUPPORTED_FUNCTION' }));
    expect(() => new ServerContext(cred, { minimumSecurity: 128 })).not.toThrow();
  });
});

describe('the fallback NTLM server applies the policy (IIS tokenChecking None/Allow/Require)', () => {
  beforeAll(() => api.setBackend('fallback'));
  const identity = { user: 'alice', domain: 'CONTOSO', password: 'Bind-Passw0rd!' };
  const OTHER = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 7)]);

  async function run(pkg: string, client: Buffer | undefined, policy: 'none' | 'allow' | 'require') {
    const cc = await api.Credentials.acquire({ package: pkg, use: 'outbound', identity });
    const sc = await api.Credentials.acquire({ package: pkg, use: 'inbound', users: [identity] });
    const c = new api.ClientContext(cc, { target: 'HTTP/localhost', ...(client ? { channelBindings: client } : {}) });
    const s = new api.ServerContext(sc, { channelBindings: APP, channelBindingPolicy: policy });
    try {
      let t = await c.step();
      for (;;) {
        const r = await s.step(t.token);
        if (!r.token) break;
        t = await c.step(r.token);
        if (!t.token) break;
      }
      expect(s.isEstablished).toBe(true);
      expect(s.decrypt(c.encrypt(Buffer.from('bound'))).toString()).toBe('bound');
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    } finally {
      c.close();
      s.close();
      cc.close();
      sc.close();
    }
  }

  for (const pkg of ['NTLM', 'Negotiate']) {
    it(`${pkg}: right, missing and wrong bindings under each policy`, async () => {
      const table: Record<string, Record<string, string>> = {};
      for (const policy of ['none', 'allow', 'require'] as const) {
        table[policy] = { right: await run(pkg, APP, policy), missing: await run(pkg, undefined, policy), wrong: await run(pkg, OTHER, policy) };
      }
      expect(table).toEqual({
        none: { right: 'ok', missing: 'ok', wrong: 'ok' },
        allow: { right: 'ok', missing: 'ok', wrong: 'SEC_E_BAD_BINDINGS' },
        require: { right: 'ok', missing: 'SEC_E_BAD_BINDINGS', wrong: 'SEC_E_BAD_BINDINGS' },
      });
    });
  }

  it('a policy string as channelBindings: that policy with no channel of our own (require refuses everyone)', async () => {
    const outcome = async (policy: 'none' | 'allow' | 'require', client: Buffer | undefined) => {
      const cc = await api.Credentials.acquire({ package: 'Negotiate', use: 'outbound', identity });
      const sc = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: [identity] });
      const c = new api.ClientContext(cc, { target: 'HTTP/localhost', ...(client ? { channelBindings: client } : {}) });
      const s = new api.ServerContext(sc, { channelBindings: policy });
      try {
        let t = await c.step();
        for (let r = await s.step(t.token); !r.done; r = await s.step(t.token)) t = await c.step(r.token);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      } finally {
        for (const x of [c, s, cc, sc]) x.close();
      }
    };
    expect([await outcome('none', APP), await outcome('allow', undefined), await outcome('allow', APP), await outcome('require', undefined), await outcome('require', APP)]).toEqual([
      'ok',
      'ok',
      'SEC_E_BAD_BINDINGS',
      'SEC_E_BAD_BINDINGS',
      'SEC_E_BAD_BINDINGS',
    ]);
    const sc = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: [identity] });
    expect(() => new api.ServerContext(sc, { channelBindings: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
    sc.close();
  });

  it('the client puts MD5 of the bindings in MsvAvChannelBindings, and 16 zero bytes without bindings', async () => {
    const cc = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity });
    const sc = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [identity] });
    for (const bindings of [APP, undefined]) {
      const c = new api.ClientContext(cc, { target: 'HTTP/localhost', ...(bindings ? { channelBindings: bindings } : {}) });
      const s = new api.ServerContext(sc);
      const auth = (await c.step((await s.step((await c.step()).token)).token)).token!;
      const ntLen = auth.readUInt16LE(20);
      const nt = auth.subarray(auth.readUInt32LE(24), auth.readUInt32LE(24) + ntLen);
      const value = parseAvPairs(nt.subarray(16 + 28), 't').find((p) => p.id === AvId.ChannelBindings)!.value;
      expect(value).toEqual(bindings ? channelBindingsHash(secChannelBindings(bindings), 't') : Buffer.alloc(16));
      c.close();
      s.close();
    }
    cc.close();
    sc.close();
  });
});

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const haveOpenssl = openssl.status === 0;

describe.skipIf(!haveOpenssl)(`tls-server-end-point (RFC 5929 §4.1)${haveOpenssl ? '' : ' (skipped: no openssl)'}`, () => {
  let dir: string;
  const certs: Record<string, { cert: Buffer; key: Buffer; der: Buffer }> = {};

  /** A self-signed certificate made at test time; no private key is committed. */
  function make(name: string, keyArgs: string[], digest: string | null): void {
    const key = join(dir, `${name}.key`);
    const crt = join(dir, `${name}.crt`);
    const args = ['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=localhost', ...(digest ? [`-${digest}`] : [])];
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    const der = spawnSync('openssl', ['x509', '-in', crt, '-outform', 'DER']);
    certs[name] = { cert: readFileSync(crt), key: readFileSync(key), der: der.stdout };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-certs-'));
    make('rsa256', ['rsa:2048'], 'sha256');
    make('rsa1', ['rsa:2048'], 'sha1');
    make('ec384', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'sha384');
    make('ed25519', ['ed25519'], null);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const prefix = Buffer.from('tls-server-end-point:');
  it('uses the signature hash: SHA-256, SHA-384, and SHA-256 for a SHA-1 signature', () => {
    expect(tlsServerEndPoint(certs.rsa256!.der)).toEqual(Buffer.concat([prefix, createHash('sha256').update(certs.rsa256!.der).digest()]));
    expect(tlsServerEndPoint(certs.ec384!.der)).toEqual(Buffer.concat([prefix, createHash('sha384').update(certs.ec384!.der).digest()]));
    expect(tlsServerEndPoint(certs.rsa1!.der)).toEqual(Buffer.concat([prefix, createHash('sha256').update(certs.rsa1!.der).digest()]));
  });

  it('refuses a signature with no defined hash (Ed25519) and a non-certificate', () => {
    expect(() => tlsServerEndPoint(certs.ed25519!.der)).toThrow(expect.objectContaining({ code: 'SEC_E_UNSUPPORTED_FUNCTION' }));
    expect(() => tlsServerEndPoint(Buffer.from('3003020101', 'hex'))).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_TOKEN' }));
  });

  it('tlsChannelBindings gives the same bytes on the accepted socket and on the client socket', async () => {
    const { cert, key, der } = certs.ec384!;
    let serverSide: Buffer | undefined;
    const server = createServer({ cert, key }, (s: TLSSocket) => {
      serverSide = tlsChannelBindings(s);
      s.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const clientSide = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        const b = tlsChannelBindings(s);
        s.on('data', () => s.end());
        s.on('close', () => resolve(b));
      });
      s.on('error', reject);
    });
    server.close();
    expect(clientSide).toEqual(tlsServerEndPoint(der));
    expect(serverSide).toEqual(clientSide);
    expect(() => tlsChannelBindings({} as TLSSocket)).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
  });
});
