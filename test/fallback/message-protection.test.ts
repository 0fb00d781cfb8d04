import { describe, expect, it } from 'vitest';
import { backend, creds, expectSspi, handshake } from './helpers.js';

async function pair() {
  const { client, server } = await creds();
  const r = await handshake(client, server);
  return { c: r.clientCtx, s: r.serverCtx };
}

describe('sign and seal (MS-NLMP 3.4)', () => {
  it('signs and verifies in both directions', async () => {
    const { c, s } = await pair();
    for (let k = 0; k < 5; k++) {
      const m = Buffer.from(`client message ${k}`);
      backend.verifySignature(s, m, backend.makeSignature(c, m));
      const n = Buffer.from(`server message ${k}`);
      backend.verifySignature(c, n, backend.makeSignature(s, n));
    }
  });

  it('seals and unseals in both directions, interleaved with signing, including empty and 64 KiB', async () => {
    const { c, s } = await pair();
    const big = Buffer.alloc(64 * 1024, 0x5a);
    for (const m of [Buffer.from('hello'), Buffer.alloc(0), big]) {
      const w = backend.encryptMessage(c, m);
      expect(w.length).toBe(16 + m.length);
      if (m.length > 8) expect(w.subarray(16).equals(m)).toBe(false);
      expect(backend.decryptMessage(s, w).equals(m)).toBe(true);
      const sig = backend.makeSignature(s, m);
      backend.verifySignature(c, m, sig);
      expect(backend.decryptMessage(c, backend.encryptMessage(s, m)).equals(m)).toBe(true);
    }
  });

  it('replayed and reordered messages -> SEC_E_MESSAGE_ALTERED (as Windows NTLM), without desynchronising', async () => {
    const { c, s } = await pair();
    const w0 = backend.encryptMessage(c, Buffer.from('zero'));
    const w1 = backend.encryptMessage(c, Buffer.from('one'));
    await expectSspi(() => backend.decryptMessage(s, w1), 'SEC_E_MESSAGE_ALTERED');
    expect(backend.decryptMessage(s, w0).toString()).toBe('zero');
    await expectSspi(() => backend.decryptMessage(s, w0), 'SEC_E_MESSAGE_ALTERED');
    expect(backend.decryptMessage(s, w1).toString()).toBe('one');

    const m = Buffer.from('signed');
    const sig = backend.makeSignature(s, m);
    backend.verifySignature(c, m, sig);
    await expectSspi(() => backend.verifySignature(c, m, sig), 'SEC_E_MESSAGE_ALTERED');
  });

  it('tampered messages -> SEC_E_MESSAGE_ALTERED, and the next genuine message still works', async () => {
    const { c, s } = await pair();
    const w = backend.encryptMessage(c, Buffer.from('attack at dawn'));
    const bad = Buffer.from(w);
    bad[20]! ^= 1;
    await expectSspi(() => backend.decryptMessage(s, bad), 'SEC_E_MESSAGE_ALTERED');
    expect(backend.decryptMessage(s, backend.encryptMessage(c, Buffer.from('next'))).toString()).toBe('next');

    const m = Buffer.from('data');
    const sig = backend.makeSignature(c, m);
    await expectSspi(() => backend.verifySignature(s, Buffer.from('dat4'), sig), 'SEC_E_MESSAGE_ALTERED');
    const sig2 = backend.makeSignature(c, m);
    const badSig = Buffer.from(sig2);
    badSig[5]! ^= 0x80;
    await expectSspi(() => backend.verifySignature(s, m, badSig), 'SEC_E_MESSAGE_ALTERED');
    const sig3 = backend.makeSignature(c, m);
    backend.verifySignature(s, m, sig3);
  });

  it('short or malformed inputs give SspiError, never RangeError', async () => {
    const { c, s } = await pair();
    for (let n = 0; n < 16; n++) await expectSspi(() => backend.decryptMessage(s, Buffer.alloc(n)), 'SEC_E_INVALID_TOKEN');
    await expectSspi(() => backend.verifySignature(s, Buffer.from('x'), Buffer.alloc(15)), 'SEC_E_INVALID_TOKEN');
    await expectSspi(() => backend.verifySignature(s, Buffer.from('x'), Buffer.alloc(16)), 'SEC_E_MESSAGE_ALTERED');
    void c;
  });

  it('a context that is not established cannot sign', async () => {
    const { client } = await creds();
    const r = await backend.initializeSecurityContext(client, { context: null, flags: 0, input: [] });
    await expectSspi(() => backend.makeSignature(r.context, Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
    await expectSspi(backend.exportSecurityContext(r.context, 0), 'SEC_E_INVALID_HANDLE');
  });
});
