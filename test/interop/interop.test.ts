// The TypeScript NTLM package against gss-ntlmssp, a real and independent
// implementation, in both directions, with message protection and export.
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';
import { b64, peerAvailable, unb64, usePeerSuite, type Peer } from './peer';

const avail = peerAvailable();
const DOMAIN = 'EXAMPLE';
const USER = 'alice';
const PASSWORD = 'Interop-Passw0rd!';
const TARGET = 'HTTP/srv1.example.com';

describe.skipIf(!avail.ok)(`interop with gss-ntlmssp${avail.ok ? '' : ` (skipped: ${avail.reason})`}`, () => {
  const suite = usePeerSuite(DOMAIN, USER, PASSWORD, api.setBackend);
  let peer: Peer;
  let userFile: string;
  beforeAll(() => ({ peer, userFile } = suite));

  async function tsClientToPeerServer(password = PASSWORD) {
    const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: USER, domain: DOMAIN, password } });
    const client = new api.ClientContext(cred, { target: TARGET });
    const { id } = await peer.request('server_new');
    const neg = await client.step();
    const chal = await peer.request('step', { id, token: b64(neg.token!) });
    expect(chal.done).toBe(false);
    const auth = await client.step(unb64(chal.token));
    expect(auth.done).toBe(true);
    const fin = await peer.request('step', { id, token: b64(auth.token!) });
    return { client, cred, id, fin };
  }

  async function peerClientToTsServer(password = PASSWORD) {
    const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: userFile });
    const server = new api.ServerContext(cred);
    const { id } = await peer.request('client_new', { user: USER, domain: DOMAIN, password, target: TARGET });
    const neg = await peer.request('step', { id });
    const chal = await server.step(unb64(neg.token));
    const auth = await peer.request('step', { id, token: b64(chal.token!) });
    expect(auth.done).toBe(true);
    const fin = await server.step(unb64(auth.token));
    return { server, cred, id, fin, micSent: auth.micSent };
  }

  it('a TS client authenticates to the gss-ntlmssp server; both sign, verify, seal and unseal', async () => {
    const { client, cred, id, fin } = await tsClientToPeerServer();
    expect(fin.done).toBe(true);
    const names = await peer.request('names', { id });
    expect(names.initiator).toBe(`${DOMAIN}\\${USER}`);
    for (let i = 0; i < 3; i++) {
      const m = Buffer.from(`client message ${i}`);
      expect((await peer.request('unwrap', { id, data: b64(client.encrypt(m)) })).data).toBe(b64(m));
      await peer.request('verify_mic', { id, data: b64(m), mic: b64(client.sign(m)) });
      const r = Buffer.from(`server reply ${i}`);
      const wrapped = await peer.request('wrap', { id, data: b64(r) });
      expect(client.decrypt(unb64(wrapped.data))).toEqual(r);
      const mic = await peer.request('get_mic', { id, data: b64(r) });
      expect(client.verify(r, unb64(mic.mic))).toBe(true);
    }
    client.close();
    cred.close();
    await peer.request('close', { id });
  });

  it('the gss-ntlmssp client authenticates to the TS server, with a MIC; both sign, verify, seal and unseal', async () => {
    const { server, cred, id, fin, micSent } = await peerClientToTsServer();
    expect(fin.done).toBe(true);
    expect(micSent).toBe(true);
    expect(server.names.clientName).toBe(`${DOMAIN}\\${USER}`);
    for (let i = 0; i < 3; i++) {
      const m = Buffer.from(`peer message ${i}`);
      const wrapped = await peer.request('wrap', { id, data: b64(m) });
      expect(server.decrypt(unb64(wrapped.data))).toEqual(m);
      const mic = await peer.request('get_mic', { id, data: b64(m) });
      expect(server.verify(m, unb64(mic.mic))).toBe(true);
      const r = Buffer.from(`ts reply ${i}`);
      expect((await peer.request('unwrap', { id, data: b64(server.encrypt(r)) })).data).toBe(b64(r));
      await peer.request('verify_mic', { id, data: b64(r), mic: b64(server.sign(r)) });
    }
    server.close();
    cred.close();
    await peer.request('close', { id });
  });

  it('the TS server refuses the peer client with a wrong password (SEC_E_LOGON_DENIED)', async () => {
    await expect(peerClientToTsServer('wrong')).rejects.toMatchObject({ code: 'SEC_E_LOGON_DENIED', operation: 'AcceptSecurityContext' });
  });

  it('the peer server refuses a TS client with a wrong password', async () => {
    await expect(tsClientToPeerServer('wrong')).rejects.toThrow(/peer step failed/);
  });

  it('a TS server context exported after authenticating the peer keeps talking to it once imported', async () => {
    const { server, cred, id } = await peerClientToTsServer();
    const before = await peer.request('wrap', { id, data: b64(Buffer.from('sealed before export')) });
    const exported = await server.export({ deleteOld: true });
    const imported = await api.importContext(api.encodeHandoff(exported, { key: Buffer.alloc(32, 7) }), { key: Buffer.alloc(32, 7) });
    expect(imported.names.clientName).toBe(`${DOMAIN}\\${USER}`);
    expect(imported.decrypt(unb64(before.data)).toString()).toBe('sealed before export');
    const r = Buffer.from('after import');
    expect((await peer.request('unwrap', { id, data: b64(imported.encrypt(r)) })).data).toBe(b64(r));
    imported.close();
    cred.close();
    await peer.request('close', { id });
  });

  it('a gss-ntlmssp acceptor context, exported and re-imported by the peer, keeps talking to a TS client', async () => {
    const { client, cred, id } = await tsClientToPeerServer();
    const sealed = client.encrypt(Buffer.from('sealed before the peer export'));
    const { data } = await peer.request('export', { id });
    const { id: id2 } = await peer.request('import', { data });
    expect(unb64((await peer.request('unwrap', { id: id2, data: b64(sealed) })).data).toString()).toBe('sealed before the peer export');
    client.close();
    cred.close();
    await peer.request('close', { id: id2 });
  });
});
