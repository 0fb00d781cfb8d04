// Only the protection that was negotiated, against a real gss-ntlmssp client:
// a man in the middle strips NEG_128 and NEG_56 from its NEGOTIATE (MS-NLMP
// 2.2.2.5; without a MIC nothing else notices). The TS server refuses, as
// Windows' default NTLMMinServerSec (128-bit) does; minimumSecurity: 40 is
// the opt-in for old peers. Contexts report CONFIDENTIALITY only with SEAL
// and INTEGRITY only with SIGN.
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';
import { b64, peerAvailable, unb64, usePeerSuite, type Peer } from './peer';

const avail = peerAvailable();
const DOMAIN = 'EXAMPLE';
const USER = 'alice';
const PASSWORD = 'Downgrade-Passw0rd!';
const NEG_128 = 0x20000000;
const NEG_56 = 0x80000000;
const SEAL = 0x20;
const SIGN = 0x10;

describe.skipIf(!avail.ok)(`downgrade and negotiated protection with gss-ntlmssp${avail.ok ? '' : ` (skipped: ${avail.reason})`}`, () => {
  const suite = usePeerSuite(DOMAIN, USER, PASSWORD, api.setBackend);
  let peer: Peer;
  let userFile: string;
  beforeAll(() => ({ peer, userFile } = suite));

  /** The peer client against a TS NTLM server, with `edit` applied to the NEGOTIATE in flight. */
  async function run(opts: { mic: boolean; flags?: string[]; edit?: (neg: Buffer) => void; server?: ConstructorParameters<typeof api.ServerContext>[1] }) {
    const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: userFile });
    const server = new api.ServerContext(cred, opts.server);
    const { id } = await peer.request('client_new', { user: USER, domain: DOMAIN, password: PASSWORD, target: 'HTTP/srv1.example.com', mic: opts.mic, ...(opts.flags ? { flags: opts.flags } : {}) });
    const cleanup = async () => {
      server.close();
      cred.close();
      await peer.request('close', { id }).catch(() => undefined);
    };
    try {
      const neg = unb64((await peer.request('step', { id })).token);
      opts.edit?.(neg);
      const chal = await server.step(neg);
      const auth = await peer.request('step', { id, token: b64(chal.token!) });
      await server.step(unb64(auth.token));
      return { server, id, cleanup };
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  const strip = (neg: Buffer) => neg.writeUInt32LE((neg.readUInt32LE(12) & ~(NEG_128 | NEG_56)) >>> 0, 12);

  it('a NEGOTIATE stripped of NEG_128 and NEG_56 is refused with SEC_E_UNSUPPORTED_FUNCTION, saying why', async () => {
    await expect(run({ mic: false, edit: strip })).rejects.toMatchObject({
      code: 'SEC_E_UNSUPPORTED_FUNCTION',
      operation: 'AcceptSecurityContext',
      message: expect.stringMatching(/40-bit.*128-bit is required/),
    });
  });

  it('minimumSecurity: 40 lets the old-peer case through, and the 40-bit context still talks to the peer', async () => {
    const { server, id, cleanup } = await run({ mic: false, edit: strip, server: { minimumSecurity: 40 } });
    const m = Buffer.from('forty bits');
    expect((await peer.request('unwrap', { id, data: b64(server.encrypt(m)) })).data).toBe(b64(m));
    await cleanup();
  });

  it('with a MIC, the stripped NEGOTIATE is caught even under minimumSecurity: 40', async () => {
    await expect(run({ mic: true, edit: strip, server: { minimumSecurity: 40 } })).rejects.toMatchObject({ code: 'SEC_E_LOGON_DENIED' });
  });

  it('ASC_RET reports only what was negotiated: integrity only, then neither', async () => {
    const integ = await run({ mic: true, flags: ['integ'] });
    const f1 = integ.server.flags;
    expect(f1 & api.AscRet.INTEGRITY).toBeTruthy();
    expect(f1 & api.AscRet.CONFIDENTIALITY).toBe(0);
    expect(() => integ.server.encrypt(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'SEC_E_UNSUPPORTED_FUNCTION' }));
    await integ.cleanup();

    // A client that asks for no protection: the server must claim neither, whatever it requested.
    let negFlags = 0;
    const bare = await run({ mic: false, flags: ['mutual'], edit: (neg) => (negFlags = neg.readUInt32LE(12)) });
    expect(negFlags & (SIGN | SEAL)).toBe(0);
    const f2 = bare.server.flags;
    expect(f2 & api.AscRet.INTEGRITY).toBe(0);
    expect(f2 & api.AscRet.CONFIDENTIALITY).toBe(0);
    await bare.cleanup();
  });
});
