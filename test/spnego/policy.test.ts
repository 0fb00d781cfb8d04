// Server and client policy in the fallback NTLM package: targetNames
// (MsvAvTargetName, MS-NLMP 2.2.2.1), reflection (MS08-068), and the client's
// 128-bit floor (NTLMMinClientSec).
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';

const identity = { user: 'alice', domain: 'CONTOSO', password: 'Policy-Passw0rd!' };
const NEG_128 = 0x20000000;
const NEG_56 = 0x80000000;

async function creds(pkg = 'NTLM') {
  const client = await api.Credentials.acquire({ package: pkg, use: 'outbound', identity });
  const server = await api.Credentials.acquire({ package: pkg, use: 'inbound', users: [identity] });
  return { client, server, close: () => (client.close(), server.close()) };
}

/** A full NTLM exchange; `copy` sends every token as fresh bytes, as over a network. */
async function exchange(client: InstanceType<typeof api.ClientContext>, server: InstanceType<typeof api.ServerContext>, copy = false) {
  const wire = (b: Buffer) => (copy ? Buffer.from(b.toString('base64'), 'base64') : b);
  const neg = (await client.step()).token!;
  const chal = (await server.step(wire(neg))).token!;
  const auth = (await client.step(wire(chal))).token!;
  return server.step(wire(auth));
}

describe('targetNames', () => {
  beforeAll(() => api.setBackend('fallback'));

  it('accepts a client whose MsvAvTargetName is listed (any case), refuses another target and no target', async () => {
    const c = await creds();
    const names = ['HTTP/web.example.com', 'HTTP/web'];
    const cases: [string | undefined, string][] = [
      ['HTTP/web.example.com', 'ok'],
      ['http/WEB', 'ok'],
      ['HTTP/other.example.com', 'SEC_E_LOGON_DENIED'],
      [undefined, 'SEC_E_LOGON_DENIED'],
    ];
    for (const [target, want] of cases) {
      const client = new api.ClientContext(c.client, target ? { target } : {});
      const server = new api.ServerContext(c.server, { targetNames: names });
      const got = await exchange(client, server).then(
        () => 'ok',
        (e: { code: string; message: string }) => (expect(e.message).toMatch(/target/i), e.code),
      );
      expect([target, got]).toEqual([target, want]);
      client.close();
      server.close();
    }
    expect(() => new api.ServerContext(c.server, { targetNames: [''] })).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
    c.close();
  });
});

describe('reflection (MS08-068)', () => {
  beforeAll(() => api.setBackend('fallback'));

  it("refuses a local client's answer to a challenge that the attacker's own NEGOTIATE started", async () => {
    const c = await creds();
    const victim = new api.ClientContext(c.client, { target: 'HTTP/attacker.example' });
    const attacker = new api.ClientContext(c.client, { target: 'HTTP/localhost' });
    const server = new api.ServerContext(c.server);
    await victim.step(); // the victim's NEGOTIATE goes to the attacker, who keeps it
    const chal = (await server.step((await attacker.step()).token)).token!;
    const auth = (await victim.step(chal)).token!; // the victim answers our own challenge
    await expect(server.step(auth)).rejects.toMatchObject({ code: 'SEC_E_LOGON_DENIED', message: expect.stringMatching(/reflection/) });
    for (const x of [victim, attacker, server]) x.close();
    c.close();
  });

  it('refuses it over the wire when the local client meant another host, for NTLM and Negotiate', async () => {
    for (const pkg of ['NTLM', 'Negotiate']) {
      const c = await creds(pkg);
      const victim = new api.ClientContext(c.client, { target: 'HTTP/attacker.example' });
      const server = new api.ServerContext(c.server);
      const wire = (b: Buffer) => Buffer.from(b.toString('base64'), 'base64');
      let t = await victim.step();
      let err: unknown;
      try {
        for (;;) {
          const r = await server.step(wire(t.token!));
          if (r.done) break;
          t = await victim.step(wire(r.token!));
        }
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'SEC_E_LOGON_DENIED', message: expect.stringMatching(/reflection.*attacker\.example/) });
      victim.close();
      server.close();
      c.close();
    }
  });

  it('lets a genuine in-process loopback through: direct, or over the wire to this host or a listed target', async () => {
    const c = await creds();
    const runs: [string, boolean, readonly string[] | undefined][] = [
      ['HTTP/server.example.com', false, undefined], // the same tokens passed straight through
      ['HOST/localhost', true, undefined],
      ['HTTP/web.example.com', true, ['HTTP/web.example.com']],
    ];
    for (const [target, copy, targetNames] of runs) {
      const client = new api.ClientContext(c.client, { target });
      const server = new api.ServerContext(c.server, targetNames ? { targetNames } : {});
      expect((await exchange(client, server, copy)).done).toBe(true);
      expect(server.decrypt(client.encrypt(Buffer.from('loop'))).toString()).toBe('loop');
      client.close();
      server.close();
    }
    c.close();
  });
});

describe('the client floor (NTLMMinClientSec)', () => {
  beforeAll(() => api.setBackend('fallback'));

  it('refuses a CHALLENGE without 128-bit keys, saying why; reports only what the CHALLENGE granted', async () => {
    const c = await creds();
    const client = new api.ClientContext(c.client, { target: 'HOST/localhost' });
    const server = new api.ServerContext(c.server);
    const chal = Buffer.from((await server.step((await client.step()).token)).token!);
    chal.writeUInt32LE((chal.readUInt32LE(20) & ~(NEG_128 | NEG_56)) >>> 0, 20);
    await expect(client.step(chal)).rejects.toMatchObject({ code: 'SEC_E_UNSUPPORTED_FUNCTION', operation: 'InitializeSecurityContextW', message: expect.stringMatching(/40-bit.*128-bit is required/) });

    // Under minimumSecurity 40 the client answers; a CHALLENGE without SEAL gives no CONFIDENTIALITY.
    const weak = new api.ClientContext(c.client, { target: 'HOST/localhost', minimumSecurity: 40 });
    const s2 = new api.ServerContext(c.server);
    const chal2 = Buffer.from((await s2.step((await weak.step()).token)).token!);
    chal2.writeUInt32LE((chal2.readUInt32LE(20) & ~(NEG_128 | NEG_56 | 0x20)) >>> 0, 20);
    const answered = await weak.step(chal2);
    expect(answered.done).toBe(true);
    expect(weak.flags & api.IscRet.CONFIDENTIALITY).toBe(0);
    expect(weak.flags & api.IscRet.INTEGRITY).toBeTruthy();
    // The server's own floor refuses the weakened AUTHENTICATE (its MIC would not verify either).
    await expect(s2.step(answered.token)).rejects.toMatchObject({ code: 'SEC_E_UNSUPPORTED_FUNCTION', operation: 'AcceptSecurityContext' });
    for (const x of [client, server, weak, s2]) x.close();
    expect(() => new api.ClientContext(c.client, { minimumSecurity: 64 as never })).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
    c.close();
  });
});
