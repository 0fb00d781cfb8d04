// The gss-ntlmssp harness against itself: proves test/interop/peer.py before
// the TypeScript NTLM package is wired to it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, peerAvailable, PeerError, startPeer, unb64, type Peer } from './peer';

const avail = peerAvailable();
const DOMAIN = 'EXAMPLE';
const USER = 'alice';
const PASSWORD = 'Passw0rd!';
const TARGET = 'HTTP/srv1.example.com';

async function handshake(
  peer: Peer,
  client: Record<string, unknown> = {},
  server: Record<string, unknown> = {},
): Promise<{ c: string; s: string; tokens: Buffer[]; clientDone: any; serverDone: any }> {
  const { id: s } = await peer.request('server_new', server);
  const { id: c } = await peer.request('client_new', {
    user: USER,
    domain: DOMAIN,
    password: PASSWORD,
    target: TARGET,
    ...client,
  });
  const tokens: Buffer[] = [];
  const neg = await peer.request('step', { id: c });
  expect(neg.done).toBe(false);
  tokens.push(unb64(neg.token));
  const chal = await peer.request('step', { id: s, token: neg.token });
  expect(chal.done).toBe(false);
  tokens.push(unb64(chal.token));
  const auth = await peer.request('step', { id: c, token: chal.token });
  expect(auth.done).toBe(true);
  tokens.push(unb64(auth.token));
  const fin = await peer.request('step', { id: s, token: auth.token });
  expect(fin.done).toBe(true);
  expect(fin.token).toBeNull();
  return { c, s, tokens, clientDone: auth, serverDone: fin };
}

async function peerError(p: Promise<unknown>): Promise<PeerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PeerError) return e;
    throw e;
  }
  throw new Error('expected the peer to fail');
}

describe.skipIf(!avail.ok)(`gss-ntlmssp harness self-test${avail.ok ? '' : ` (skipped: ${avail.reason})`}`, () => {
  let dir: string;
  let peer: Peer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ntlm-peer-'));
    const userFile = join(dir, 'users');
    writeFileSync(userFile, `${DOMAIN}:${USER}:${PASSWORD}\nEXAMPLE:bob:builder\n`);
    peer = await startPeer({
      NTLM_USER_FILE: userFile,
      NETBIOS_COMPUTER_NAME: 'SRV1',
      NETBIOS_DOMAIN_NAME: DOMAIN,
    });
  });

  afterAll(async () => {
    await peer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports its version and the NTLM mech', async () => {
    const v = await peer.request('version');
    expect(v.gssNtlmssp).toMatch(/^\d+\.\d+/);
    expect(v.mechs.join(' ')).toContain('1.3.6.1.4.1.311.2.2.10');
  });

  it('completes an NTLMv2 handshake with ESS, KEY_EXCH, 128-bit, sign+seal and a MIC', async () => {
    const { c, s, tokens, clientDone } = await handshake(peer);
    const [neg, chal, auth] = tokens as [Buffer, Buffer, Buffer];
    expect(neg.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(neg.readUInt32LE(8)).toBe(1);
    expect(chal.readUInt32LE(8)).toBe(2);
    expect(auth.readUInt32LE(8)).toBe(3);
    const flags = chal.readUInt32LE(20);
    const has = (bit: number): boolean => (flags & bit) >>> 0 === bit;
    expect(has(0x00080000)).toBe(true); // EXTENDED_SESSIONSECURITY
    expect(has(0x40000000)).toBe(true); // KEY_EXCH
    expect(has(0x20000000)).toBe(true); // 128
    expect(has(0x00000010)).toBe(true); // SIGN
    expect(has(0x00000020)).toBe(true); // SEAL
    // The client was asked (SPNEGO-require-MIC OID) to add a MIC.
    expect(clientDone.micSent).toBe(true);

    const sn = await peer.request('names', { id: s });
    expect(sn.initiator).toBe(`${DOMAIN}\\${USER}`);
    expect(sn.locallyInitiated).toBe(false);
    expect(sn.flagNames).toEqual(expect.arrayContaining(['conf', 'integ']));
    const cn = await peer.request('names', { id: c });
    expect(cn.initiator).toBe(`${DOMAIN}\\${USER}`);
    expect(cn.acceptor).toBe(TARGET);
    expect(cn.locallyInitiated).toBe(true);
    await peer.request('close', { id: c });
    await peer.request('close', { id: s });
  });

  it('handshakes without a MIC when not asked for one', async () => {
    const { clientDone } = await handshake(peer, { mic: false });
    expect(clientDone.micSent).toBeUndefined();
  });

  it('wraps and unwraps both ways; wrap = 16-byte signature || RC4 ciphertext', async () => {
    const { c, s } = await handshake(peer);
    const msg = Buffer.from('hello from the client');
    const w = await peer.request('wrap', { id: c, data: b64(msg) });
    expect(w.encrypted).toBe(true);
    const wrapped = unb64(w.data);
    expect(wrapped.length).toBe(16 + msg.length);
    expect(wrapped.readUInt32LE(0)).toBe(1); // signature version
    expect(wrapped.readUInt32LE(12)).toBe(0); // sequence number 0
    expect(wrapped.subarray(16).equals(msg)).toBe(false);
    const u = await peer.request('unwrap', { id: s, data: w.data });
    expect(unb64(u.data).equals(msg)).toBe(true);

    const back = Buffer.from('hello from the server');
    const w2 = await peer.request('wrap', { id: s, data: b64(back) });
    expect(unb64(w2.data).readUInt32LE(12)).toBe(0); // each direction has its own counter
    const u2 = await peer.request('unwrap', { id: c, data: w2.data });
    expect(unb64(u2.data).equals(back)).toBe(true);

    // Second client message: sequence 1.
    const w3 = await peer.request('wrap', { id: c, data: b64(Buffer.from('again')) });
    expect(unb64(w3.data).readUInt32LE(12)).toBe(1);
    expect(unb64((await peer.request('unwrap', { id: s, data: w3.data })).data).toString()).toBe('again');
  });

  it('get_mic / verify_mic both ways, and rejects tampering and replay with GSS_S_BAD_SIG', async () => {
    const { c, s } = await handshake(peer);
    const data = b64(Buffer.from('signed payload'));
    const m1 = await peer.request('get_mic', { id: c, data });
    const mic = unb64(m1.mic);
    expect(mic.length).toBe(16);
    expect(mic.readUInt32LE(0)).toBe(1);
    expect(mic.readUInt32LE(12)).toBe(0);
    expect((await peer.request('verify_mic', { id: s, data, mic: m1.mic })).ok).toBe(true);

    const m2 = await peer.request('get_mic', { id: s, data });
    expect((await peer.request('verify_mic', { id: c, data, mic: m2.mic })).ok).toBe(true);

    // Replay of the first MIC: gss-ntlmssp has no separate replay status,
    // the expected sequence number differs so the checksum does not match.
    const replay = await peerError(peer.request('verify_mic', { id: s, data, mic: m1.mic }));
    expect(replay.info.names).toContain('GSS_S_BAD_SIG');

    const { c: c2, s: s2 } = await handshake(peer);
    const w = unb64((await peer.request('wrap', { id: c2, data: b64(Buffer.from('tamper me')) })).data);
    w.writeUInt8(w.readUInt8(w.length - 1) ^ 1, w.length - 1);
    const tampered = await peerError(peer.request('unwrap', { id: s2, data: b64(w) }));
    expect(tampered.info.names).toContain('GSS_S_BAD_SIG');
    // A same-length tamper does not desynchronise RC4 or the sequence:
    // the next message still unwraps.
    const next = await peer.request('wrap', { id: c2, data: b64(Buffer.from('next')) });
    expect(unb64((await peer.request('unwrap', { id: s2, data: next.data })).data).toString()).toBe('next');
  });

  it('exports and imports the acceptor context; protection keeps working after import', async () => {
    const { c, s } = await handshake(peer);
    // One message before the export so the import must carry the sequence and RC4 state.
    const before = await peer.request('wrap', { id: c, data: b64(Buffer.from('before export')) });
    const pending = await peer.request('wrap', { id: c, data: b64(Buffer.from('sealed before, opened after')) });
    expect(unb64((await peer.request('unwrap', { id: s, data: before.data })).data).toString()).toBe(
      'before export',
    );

    const exp = await peer.request('export', { id: s });
    const packed = unb64(exp.data);
    // MIT mechglue framing: 4-byte big-endian OID length, the OID's DER
    // contents, then gss-ntlmssp's own export_ctx (version 5, little endian).
    expect(packed.readUInt32BE(0)).toBe(10);
    expect(packed.subarray(4, 14).toString('hex')).toBe('2b06010401823702020a');
    expect(packed.readUInt16LE(14)).toBe(5);
    expect(packed[17]).toBe(5); // stage (offset 14 + version 2 + role 1): EXP_STG_DONE
    // The source context is gone after export.
    const gone = await peerError(peer.request('wrap', { id: s, data: b64(Buffer.from('x')) }));
    expect(gone.info.harness).toBe(true);

    const imp = await peer.request('import', { data: exp.data });
    expect(imp.complete).toBe(true);
    expect(imp.locallyInitiated).toBe(false);
    const names = await peer.request('names', { id: imp.id });
    expect(names.initiator).toBe(`${DOMAIN}\\${USER}`);

    const opened = await peer.request('unwrap', { id: imp.id, data: pending.data });
    expect(unb64(opened.data).toString()).toBe('sealed before, opened after');
    const reply = await peer.request('wrap', { id: imp.id, data: b64(Buffer.from('after import')) });
    expect(unb64((await peer.request('unwrap', { id: c, data: reply.data })).data).toString()).toBe('after import');

    // A second harness process imports the same bytes: cross-process import.
    const other = await startPeer({});
    try {
      const imp2 = await other.request('import', { data: exp.data });
      const again = await other.request('unwrap', { id: imp2.id, data: pending.data });
      expect(unb64(again.data).toString()).toBe('sealed before, opened after');
    } finally {
      await other.close();
    }
  });

  it('exports and imports the initiator context too', async () => {
    const { c, s } = await handshake(peer);
    const exp = await peer.request('export', { id: c });
    const imp = await peer.request('import', { data: exp.data });
    expect(imp.locallyInitiated).toBe(true);
    const w = await peer.request('wrap', { id: imp.id, data: b64(Buffer.from('from imported client')) });
    expect(unb64((await peer.request('unwrap', { id: s, data: w.data })).data).toString()).toBe(
      'from imported client',
    );
  });

  it('refuses a wrong password, an unknown user and a domain whose case differs from the user file', async () => {
    const wrong = await peerError(handshake(peer, { password: 'nope' }));
    expect(wrong.op).toBe('step');
    expect(wrong.info.names).toContain('GSS_S_FAILURE');
    expect(wrong.info.minor).toBe(22); // EINVAL: NTProofStr mismatch

    const unknown = await peerError(handshake(peer, { user: 'mallory' }));
    expect(unknown.info.minor).toBe(13); // EACCES: no such user in NTLM_USER_FILE

    // NTOWFv2 uses the user file's domain string as-is (not upper-cased):
    // the lookup is case-insensitive but the hash is not.
    const lower = await peerError(handshake(peer, { domain: DOMAIN.toLowerCase() }));
    expect(lower.info.minor).toBe(22);
    // The user name is upper-cased in NTOWFv2, so its case does not matter.
    const { s } = await handshake(peer, { user: USER.toUpperCase() });
    expect((await peer.request('names', { id: s })).initiator).toBe(`${DOMAIN}\\${USER.toUpperCase()}`);
  });

  it('a named acceptor reports its SPN', async () => {
    const { s } = await handshake(peer, {}, { service: TARGET });
    const names = await peer.request('names', { id: s });
    expect(names.acceptor).toBe(TARGET);
  });

  it('survives bad requests without dying', async () => {
    const { id: s } = await peer.request('server_new');
    const bad = await peerError(peer.request('step', { id: s, token: b64(Buffer.from('NTLMSSP\0garbage')) }));
    expect(bad.info.names).toContain('GSS_S_DEFECTIVE_TOKEN');
    expect((await peerError(peer.request('nope'))).info.harness).toBe(true);
    expect((await peerError(peer.request('wrap', { id: 'missing', data: '' }))).info.harness).toBe(true);
    expect((await peerError(peer.request('unwrap', { id: 'missing', data: '%%%' }))).info.harness).toBe(true);
    // gss_wrap / gss_get_mic refuse an empty message (MS-NLMP would sign it).
    const { c } = await handshake(peer);
    const empty = await peerError(peer.request('wrap', { id: c, data: '' }));
    expect(empty.info.names).toContain('GSS_S_CALL_INACCESSIBLE_READ');
    expect((await peer.request('ping')).pong).toBe(true);
  });
});
