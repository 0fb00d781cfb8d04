// The fallback's Negotiate package (SPNEGO, RFC 4178) against MIT's SPNEGO
// with gss-ntlmssp underneath (mech 1.3.6.1.5.5.2), both directions: the
// handshake with mechListMIC, then wrap/unwrap and MICs both ways, export
// mid-conversation, and channel bindings (RFC 5929 application data, MS-NLMP
// MsvAvChannelBindings) right, missing and wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';
import { b64, peerAvailable, PeerError, unb64, usePeerSuite, type Peer } from './peer';

const avail = peerAvailable();
const DOMAIN = 'EXAMPLE';
const USER = 'alice';
const PASSWORD = 'Spnego-Passw0rd!';
const TARGET = 'HTTP/srv1.example.com';
const KEY = Buffer.alloc(32, 9);
const BINDINGS = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 0xab)]);
const OTHER_BINDINGS = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 0xcd)]);

type ServerOptions = ConstructorParameters<typeof api.ServerContext>[1];
type ClientOptions = ConstructorParameters<typeof api.ClientContext>[1];

describe.skipIf(!avail.ok)(`SPNEGO interop with gss-ntlmssp${avail.ok ? '' : ` (skipped: ${avail.reason})`}`, () => {
  const suite = usePeerSuite(DOMAIN, USER, PASSWORD, api.setBackend);
  let peer: Peer;
  let userFile: string;
  beforeAll(() => ({ peer, userFile } = suite));

  /** TS Negotiate client -> gss-ntlmssp SPNEGO acceptor. Returns after the client completed. */
  async function tsClientToPeer(opts: { client?: ClientOptions; peerBindings?: Buffer } = {}) {
    const cred = await api.Credentials.acquire({ package: 'Negotiate', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: PASSWORD } });
    const client = new api.ClientContext(cred, { target: TARGET, ...opts.client });
    const { id } = await peer.request('server_new', { mech: 'spnego', ...(opts.peerBindings ? { channelBindings: b64(opts.peerBindings) } : {}) });
    try {
      const init = await client.step();
      expect(init.token![0]).toBe(0x60); // InitialContextToken, not raw NTLMSSP
      const resp = await peer.request('step', { id, token: b64(init.token!) });
      expect(resp.done).toBe(false);
      const auth = await client.step(unb64(resp.token));
      expect(auth.done).toBe(false); // the acceptor's mechListMIC is still to come
      const fin = await peer.request('step', { id, token: b64(auth.token!) });
      expect(fin.done).toBe(true);
      expect(fin.token).toBeTruthy(); // accept-completed with the acceptor's mechListMIC
      const last = await client.step(unb64(fin.token));
      expect(last).toEqual({ done: true });
      return { client, cred, id };
    } catch (e) {
      client.close();
      cred.close();
      throw e;
    }
  }

  /** gss-ntlmssp SPNEGO initiator -> TS Negotiate acceptor. */
  async function peerToTsServer(opts: { server?: ServerOptions; peerBindings?: Buffer } = {}) {
    const cred = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: userFile });
    const server = new api.ServerContext(cred, opts.server);
    try {
      const { id } = await peer.request('client_new', { mech: 'spnego', user: USER, domain: DOMAIN, password: PASSWORD, target: TARGET, ...(opts.peerBindings ? { channelBindings: b64(opts.peerBindings) } : {}) });
      const init = await peer.request('step', { id });
      expect(unb64(init.token)[0]).toBe(0x60);
      const resp = await server.step(unb64(init.token));
      expect(resp.done).toBe(false);
      const auth = await peer.request('step', { id, token: b64(resp.token!) });
      expect(auth.done).toBe(false);
      const fin = await server.step(unb64(auth.token));
      expect(fin.done).toBe(true);
      expect(fin.token).toBeTruthy();
      const last = await peer.request('step', { id, token: b64(fin.token!) });
      expect(last.done).toBe(true);
      return { server, cred, id };
    } catch (e) {
      server.close();
      cred.close();
      throw e;
    }
  }

  /** Close both ends of one conversation. */
  async function end(ts: { close(): void }, cred: { close(): void }, id: string) {
    ts.close();
    cred.close();
    await peer.request('close', { id });
  }

  /** Three rounds of seal/unseal and sign/verify each way; the first message of each direction has SeqNum 1. */
  async function talk(ts: InstanceType<typeof api.ClientContext> | InstanceType<typeof api.ServerContext> | InstanceType<typeof api.SecurityContext>, id: string, firstSeq?: number) {
    for (let i = 0; i < 3; i++) {
      const m = Buffer.from(`ts message ${i}`);
      const sealed = ts.encrypt(m);
      if (i === 0 && firstSeq !== undefined) expect(sealed.readUInt32LE(12)).toBe(firstSeq);
      expect((await peer.request('unwrap', { id, data: b64(sealed) })).data).toBe(b64(m));
      await peer.request('verify_mic', { id, data: b64(m), mic: b64(ts.sign(m)) });
      const r = Buffer.from(`peer message ${i}`);
      const wrapped = unb64((await peer.request('wrap', { id, data: b64(r) })).data);
      if (i === 0 && firstSeq !== undefined) expect(wrapped.readUInt32LE(12)).toBe(firstSeq);
      expect(ts.decrypt(wrapped)).toEqual(r);
      const mic = await peer.request('get_mic', { id, data: b64(r) });
      expect(ts.verify(r, unb64(mic.mic))).toBe(true);
    }
  }

  it('TS client -> gss-ntlmssp acceptor: SPNEGO with mechListMIC, then wrap/unwrap both ways from SeqNum 1', async () => {
    const { client, cred, id } = await tsClientToPeer();
    const names = await peer.request('names', { id });
    expect(names.initiator).toBe(`${DOMAIN}\\${USER}`);
    await talk(client, id, 1);
    await end(client, cred, id);
  });

  it('gss-ntlmssp initiator -> TS acceptor: SPNEGO with mechListMIC, then wrap/unwrap both ways from SeqNum 1', async () => {
    const { server, cred, id } = await peerToTsServer();
    expect(server.names.clientName).toBe(`${DOMAIN}\\${USER}`);
    await talk(server, id, 1);
    await end(server, cred, id);
  });

  it('a TS Negotiate acceptor exported mid-conversation is an NTLM context that keeps talking to the peer', async () => {
    const { server, cred, id } = await peerToTsServer();
    await talk(server, id);
    const pending = unb64((await peer.request('wrap', { id, data: b64(Buffer.from('in flight across the export')) })).data);
    const exported = await server.export({ deleteOld: true });
    // The Negotiate context hands off the NTLM context it selected (INTERFACES.md).
    expect([exported.packageName, exported.credentialPackage]).toEqual(['NTLM', 'Negotiate']);
    const imported = await api.importContext(api.encodeHandoff(exported, { key: KEY }), { key: KEY });
    expect(imported.names.clientName).toBe(`${DOMAIN}\\${USER}`);
    expect(imported.packageName).toBe('NTLM');
    expect(imported.decrypt(pending).toString()).toBe('in flight across the export');
    await talk(imported, id);
    await end(imported, cred, id);
  });

  it('a gss-ntlmssp SPNEGO acceptor exported and re-imported by the peer keeps talking to the TS client', async () => {
    const { client, cred, id } = await tsClientToPeer();
    await talk(client, id);
    const { data } = await peer.request('export', { id });
    const { id: id2 } = await peer.request('import', { data });
    await talk(client, id2);
    await end(client, cred, id2);
  });

  describe('channel bindings', () => {
    it('TS client -> peer acceptor, both with the same bindings: completes and talks', async () => {
      const { client, cred, id } = await tsClientToPeer({ client: { channelBindings: BINDINGS }, peerBindings: BINDINGS });
      await talk(client, id, 1);
      await end(client, cred, id);
    });

    // gss-ntlmssp 1.2.0 compares MsvAvChannelBindings with MD5(gss_channel_bindings_struct) and
    // fails the AUTHENTICATE; through MIT's SPNEGO the major status reads GSS_S_DEFECTIVE_TOKEN.
    it('TS client with other bindings than the peer acceptor: gss-ntlmssp refuses the AUTHENTICATE', async () => {
      const err = await tsClientToPeer({ client: { channelBindings: OTHER_BINDINGS }, peerBindings: BINDINGS }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerError);
      expect((err as PeerError).info.names).toEqual(['GSS_S_DEFECTIVE_TOKEN']);
    });

    // gss-ntlmssp 1.2.0 treats the 16 zero bytes a client without bindings sends as "none" and accepts.
    for (const [name, opts] of [
      ['TS client without bindings -> peer acceptor with bindings: accepted (the peer allows missing bindings)', { peerBindings: BINDINGS }],
      ['TS client with bindings -> peer acceptor without: accepted (the peer does not check)', { client: { channelBindings: BINDINGS } }],
    ] as const) {
      it(name, async () => {
        const { client, cred, id } = await tsClientToPeer(opts);
        await talk(client, id, 1);
        await end(client, cred, id);
      });
    }

    it('peer initiator -> TS acceptor, same bindings, policy require: completes and talks', async () => {
      const { server, cred, id } = await peerToTsServer({ server: { channelBindings: BINDINGS, channelBindingPolicy: 'require' }, peerBindings: BINDINGS });
      await talk(server, id, 1);
      await end(server, cred, id);
    });

    it('peer initiator with wrong bindings: refused with SEC_E_BAD_BINDINGS under allow and require, accepted under none', async () => {
      for (const policy of ['allow', 'require'] as const) {
        await expect(peerToTsServer({ server: { channelBindings: BINDINGS, channelBindingPolicy: policy }, peerBindings: OTHER_BINDINGS })).rejects.toMatchObject({ code: 'SEC_E_BAD_BINDINGS', operation: 'AcceptSecurityContext' });
      }
      const { server, cred, id } = await peerToTsServer({ server: { channelBindings: BINDINGS, channelBindingPolicy: 'none' }, peerBindings: OTHER_BINDINGS });
      await talk(server, id);
      await end(server, cred, id);
    });

    it('peer initiator without bindings: refused under require, accepted under allow', async () => {
      await expect(peerToTsServer({ server: { channelBindings: BINDINGS, channelBindingPolicy: 'require' } })).rejects.toMatchObject({ code: 'SEC_E_BAD_BINDINGS' });
      const { server, cred, id } = await peerToTsServer({ server: { channelBindings: BINDINGS, channelBindingPolicy: 'allow' } });
      await talk(server, id);
      await end(server, cred, id);
    });
  });
});
