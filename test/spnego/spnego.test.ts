// The fallback's Negotiate package in-process: the SPNEGO legs (RFC 4178 §5,
// MS-SPNG 3.1.5), the Kerberos-first NegTokenInit, mechListMIC checks, the
// exported NTLM context, and strict DER (X.690 §10) on every token.
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';
import { decodeNegotiationToken, encodeMechTypes, encodeNegTokenResp, NegState, OID_NTLMSSP } from '../../lib/fallback/spnego-der.js';

const identity = { user: 'alice', domain: 'CONTOSO', password: 'Spnego-Passw0rd!' };
const OID_MS_KRB5 = '1.2.840.48018.1.2.2';
const OID_KRB5 = '1.2.840.113554.1.2.2';
const SPNEGO_OID_DER = Buffer.from('06062b0601050502', 'hex');

async function creds(pkg = 'Negotiate') {
  const client = await api.Credentials.acquire({ package: pkg, use: 'outbound', identity });
  const server = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: [identity] });
  return { client, server };
}

/** DER TLV with a short or long definite length. */
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function initialToken(mechTypesDer: Buffer, mechToken?: Buffer): Buffer {
  const fields = [tlv(0xa0, mechTypesDer), ...(mechToken ? [tlv(0xa2, tlv(0x04, mechToken))] : [])];
  return tlv(0x60, Buffer.concat([SPNEGO_OID_DER, tlv(0xa0, tlv(0x30, Buffer.concat(fields)))]));
}

describe('SPNEGO in the fallback Negotiate package', () => {
  beforeAll(() => api.setBackend('fallback'));

  it('runs NegTokenInit, accept-incomplete, AUTHENTICATE + mechListMIC, accept-completed; messages start at SeqNum 1', async () => {
    const { client: cc, server: sc } = await creds();
    const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
    const server = new api.ServerContext(sc);
    const t1 = await client.step();
    const init = decodeNegotiationToken(t1.token!, 'test');
    expect(init.kind).toBe('init');
    if (init.kind !== 'init') return;
    expect(init.init.mechTypes).toEqual([OID_NTLMSSP]);
    expect(init.init.mechToken!.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');

    const t2 = await server.step(t1.token);
    const r2 = decodeNegotiationToken(t2.token!, 'test');
    expect(r2).toMatchObject({ kind: 'resp', resp: { negState: NegState.ACCEPT_INCOMPLETE, supportedMech: OID_NTLMSSP } });

    const t3 = await client.step(t2.token);
    expect(t3.done).toBe(false);
    const r3 = decodeNegotiationToken(t3.token!, 'test');
    expect(r3.kind === 'resp' && r3.resp.mechListMIC?.length).toBe(16);
    // The client's protection calls wait for the acceptor's mechListMIC.
    expect(() => client.encrypt(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_HANDLE' }));

    const t4 = await server.step(t3.token);
    expect(t4.done).toBe(true);
    const r4 = decodeNegotiationToken(t4.token!, 'test');
    expect(r4.kind === 'resp' && r4.resp.negState).toBe(NegState.ACCEPT_COMPLETED);
    expect(r4.kind === 'resp' && r4.resp.mechListMIC?.length).toBe(16);
    expect(await client.step(t4.token)).toEqual({ done: true });

    const sealed = client.encrypt(Buffer.from('first'));
    expect(sealed.readUInt32LE(12)).toBe(1);
    expect(server.decrypt(sealed).toString()).toBe('first');
    const back = server.encrypt(Buffer.from('reply'));
    expect(back.readUInt32LE(12)).toBe(1);
    expect(client.decrypt(back).toString()).toBe('reply');
    expect(server.names.clientName).toBe('CONTOSO\\alice');

    // The exported context is the NTLM context the negotiation selected.
    const exported = await server.export();
    expect([exported.packageName, exported.credentialPackage]).toEqual(['NTLM', 'Negotiate']);
    const viaNtlm = await api.importContext(exported);
    expect(viaNtlm.packageName).toBe('NTLM');
    expect(viaNtlm.decrypt(client.encrypt(Buffer.from('after export'))).toString()).toBe('after export');
    for (const c of [client, server, viaNtlm]) c.close();
    cc.close();
    sc.close();
  });

  it('selects NTLM with no response token when the client lists Kerberos first with an AP-REQ, and then insists on the mechListMIC', async () => {
    const { server: sc } = await creds();
    const ntlmClientCred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity });
    const mechTypes = encodeMechTypes([OID_MS_KRB5, OID_KRB5, OID_NTLMSSP]);
    const fakeApReq = Buffer.from('6e8201', 'hex'); // the optimistic Kerberos token, never parsed

    for (const withMic of [true, false]) {
      const server = new api.ServerContext(sc);
      const ntlm = new api.ClientContext(ntlmClientCred, { target: 'HTTP/localhost' });
      const first = await server.step(initialToken(mechTypes, fakeApReq));
      const r1 = decodeNegotiationToken(first.token!, 'test');
      // RFC 4178 §5: not the first choice, so request-mic; no responseToken for the dropped AP-REQ.
      expect(r1).toEqual({ kind: 'resp', resp: { negState: NegState.REQUEST_MIC, supportedMech: OID_NTLMSSP } });

      const neg = await ntlm.step();
      const second = await server.step(encodeNegTokenResp({ responseToken: neg.token! }));
      const r2 = decodeNegotiationToken(second.token!, 'test');
      expect(r2.kind === 'resp' && r2.resp.responseToken!.readUInt32LE(8)).toBe(2); // CHALLENGE_MESSAGE
      const auth = await ntlm.step(r2.kind === 'resp' ? r2.resp.responseToken : undefined);
      if (withMic) {
        const mic = ntlm.sign(mechTypes); // NTLM signature over the DER MechTypeList at SeqNum 0
        const done = await server.step(encodeNegTokenResp({ responseToken: auth.token!, mechListMIC: mic }));
        expect(done.done).toBe(true);
        const r3 = decodeNegotiationToken(done.token!, 'test');
        expect(r3.kind === 'resp' && ntlm.verify(mechTypes, r3.resp.mechListMIC!)).toBe(true);
        expect(server.names.clientName).toBe('CONTOSO\\alice');
      } else {
        await expect(server.step(encodeNegTokenResp({ responseToken: auth.token! }))).rejects.toMatchObject({ code: 'SEC_E_MESSAGE_ALTERED', operation: 'AcceptSecurityContext' });
      }
      server.close();
      ntlm.close();
    }
    ntlmClientCred.close();
    sc.close();
  });

  it('refuses a NegTokenInit without NTLM, a tampered mechListMIC and a tampered mechTypes list', async () => {
    const { client: cc, server: sc } = await creds();
    const s0 = new api.ServerContext(sc);
    await expect(s0.step(initialToken(encodeMechTypes([OID_KRB5]), Buffer.from('6e00', 'hex')))).rejects.toMatchObject({ code: 'SEC_E_LOGON_DENIED' });

    // A flipped MIC byte.
    {
      const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
      const server = new api.ServerContext(sc);
      const t2 = await server.step((await client.step()).token);
      const t3 = (await client.step(t2.token)).token!;
      const r3 = decodeNegotiationToken(t3, 'test');
      if (r3.kind !== 'resp') throw new Error('expected a NegTokenResp');
      const mic = Buffer.from(r3.resp.mechListMIC!);
      mic[6]! ^= 0x40;
      await expect(server.step(encodeNegTokenResp({ responseToken: r3.resp.responseToken!, mechListMIC: mic }))).rejects.toMatchObject({ code: 'SEC_E_MESSAGE_ALTERED' });
      client.close();
    }
    // A man in the middle adds a mechanism to the client's list: the MICs no longer agree.
    {
      const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
      const server = new api.ServerContext(sc);
      const t1 = decodeNegotiationToken((await client.step()).token!, 'test');
      if (t1.kind !== 'init') throw new Error('expected a NegTokenInit');
      const forged = initialToken(encodeMechTypes([OID_NTLMSSP, OID_KRB5]), t1.init.mechToken);
      const t2 = await server.step(forged);
      const t3 = await client.step(t2.token);
      await expect(server.step(t3.token)).rejects.toMatchObject({ code: 'SEC_E_MESSAGE_ALTERED' });
      client.close();
    }
    cc.close();
    sc.close();
  });

  it('the client refuses an acceptor that skips its mechListMIC or selects another mechanism', async () => {
    const { client: cc, server: sc } = await creds();
    for (const bad of ['no-mic', 'other-mech'] as const) {
      const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
      const server = new api.ServerContext(sc);
      const t2 = await server.step((await client.step()).token);
      if (bad === 'other-mech') {
        const r2 = decodeNegotiationToken(t2.token!, 'test');
        const forged = encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, supportedMech: OID_KRB5, responseToken: r2.kind === 'resp' ? r2.resp.responseToken! : Buffer.alloc(0) });
        await expect(client.step(forged)).rejects.toMatchObject({ code: 'SEC_E_INVALID_TOKEN' });
      } else {
        const t3 = await client.step(t2.token);
        await server.step(t3.token);
        await expect(client.step(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED }))).rejects.toMatchObject({ code: 'SEC_E_MESSAGE_ALTERED' });
      }
      server.close();
    }
    cc.close();
    sc.close();
  });
});

describe('strict DER: every malformed Negotiate token is SEC_E_INVALID_TOKEN', () => {
  beforeAll(() => api.setBackend('fallback'));

  async function firstToken(): Promise<Buffer> {
    const { client: cc } = await creds();
    const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
    const t = (await client.step()).token!;
    client.close();
    cc.close();
    return t;
  }

  async function refused(token: Buffer): Promise<void> {
    const { server: sc } = await creds();
    const server = new api.ServerContext(sc);
    await expect(server.step(token)).rejects.toMatchObject({ code: 'SEC_E_INVALID_TOKEN', operation: 'AcceptSecurityContext' });
    sc.close();
  }

  it('refuses every truncation, a trailing byte and a bad outer tag', async () => {
    const good = await firstToken();
    for (let n = 1; n < good.length; n++) await refused(good.subarray(0, n));
    await refused(Buffer.concat([good, Buffer.from([0])]));
    await refused(Buffer.concat([Buffer.from([0x61]), good.subarray(1)]));
    // The NegTokenInit without its InitialContextToken framing (0x60, thisMech).
    expect(good[1]).toBeLessThan(0x80);
    expect(good.subarray(2, 10)).toEqual(SPNEGO_OID_DER);
    await refused(good.subarray(10));
  });

  it('refuses BER-only encodings: indefinite length, non-minimal lengths, OID padding', async () => {
    const good = await firstToken();
    const { mechToken } = (decodeNegotiationToken(good, 't') as { init: { mechToken: Buffer } }).init;
    const mechTypes = encodeMechTypes([OID_NTLMSSP]);
    // Indefinite length on the outer token.
    const inner = good.subarray(2);
    await refused(Buffer.concat([Buffer.from([0x60, 0x80]), inner, Buffer.from([0, 0])]));
    // A long-form length for a short value (0x81 0x0c instead of 0x0c).
    const longForm = Buffer.concat([Buffer.from([0x30, 0x81, mechTypes.length - 2]), mechTypes.subarray(2)]);
    await refused(initialToken(longForm, mechToken));
    // An OID subidentifier with a leading 0x80 (NTLMSSP's 311 as 80 82 37).
    await refused(initialToken(Buffer.from('300d060b2b06010401808237020' + '20a', 'hex'), mechToken));
    // An empty mechTypes list, and one holding a non-OID.
    await refused(initialToken(Buffer.from('3000', 'hex'), mechToken));
    await refused(initialToken(Buffer.from('30020400', 'hex'), mechToken));
  });

  it('refuses NegTokenInit fields repeated, out of order or unknown', async () => {
    const good = await firstToken();
    const { mechToken } = (decodeNegotiationToken(good, 't') as { init: { mechToken: Buffer } }).init;
    const mt = tlv(0xa0, encodeMechTypes([OID_NTLMSSP]));
    const tok = tlv(0xa2, tlv(0x04, mechToken));
    const wrap = (fields: Buffer[]) => tlv(0x60, Buffer.concat([SPNEGO_OID_DER, tlv(0xa0, tlv(0x30, Buffer.concat(fields)))]));
    await refused(wrap([tok, mt]));
    await refused(wrap([mt, mt, tok]));
    await refused(wrap([mt, tok, tlv(0xa7, Buffer.from('0400', 'hex'))]));
    await refused(wrap([tok])); // no mechTypes
    await refused(wrap([mt, tlv(0xa2, tlv(0x03, mechToken))])); // mechToken not an OCTET STRING
  });

  it('refuses a NegTokenResp with a bad negState or as a first token', async () => {
    await refused(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: Buffer.from('x') }));
    const { client: cc, server: sc } = await creds();
    const client = new api.ClientContext(cc, { target: 'HTTP/localhost' });
    const server = new api.ServerContext(sc);
    await server.step((await client.step()).token);
    // negState 4 does not exist.
    await expect(server.step(Buffer.from('a1073005a0030a0104', 'hex'))).rejects.toMatchObject({ code: 'SEC_E_INVALID_TOKEN' });
    client.close();
    cc.close();
    sc.close();
  });
});
