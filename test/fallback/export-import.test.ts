import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { crc32 } from 'node:zlib';
import { backend, creds, expectSspi, handshake } from './helpers.js';
import { SecPkgContextExport } from '../../lib/flags.js';
import { keyBuffersForTest, credentialKeyBuffersForTest } from '../../lib/fallback/internal.js';
import { PACKED_MAGIC } from '../../lib/fallback/packed-context.js';

const { RESET_NEW, DELETE_OLD } = SecPkgContextExport;

async function pair() {
  const { client, server } = await creds();
  const r = await handshake(client, server);
  return { c: r.clientCtx, s: r.serverCtx, client, server };
}

describe('ExportSecurityContext / ImportSecurityContext', () => {
  it('continues the cipher state: a message sealed before export unseals after import', async () => {
    const { c, s } = await pair();
    backend.decryptMessage(s, backend.encryptMessage(c, Buffer.from('warm up')));
    const pending = backend.encryptMessage(c, Buffer.from('sealed before the handoff'));
    const sig = backend.makeSignature(c, Buffer.from('signed before'));
    const { packed, token } = await backend.exportSecurityContext(s, 0);
    expect(token).toBeUndefined();
    expect(packed.subarray(0, 8).equals(PACKED_MAGIC)).toBe(true);
    const imported = await backend.importSecurityContext('NTLM', packed);
    expect(backend.queryContextAttributes(imported, 'names').clientName).toBe('EXAMPLE\\alice');
    expect(backend.decryptMessage(imported, pending).toString()).toBe('sealed before the handoff');
    backend.verifySignature(imported, Buffer.from('signed before'), sig);
    // Replies from the imported context reach the client.
    expect(backend.decryptMessage(c, backend.encryptMessage(imported, Buffer.from('reply'))).toString()).toBe('reply');
    // The old context still works independently (no DELETE_OLD), at its own position.
    expect(backend.decryptMessage(s, pending).toString()).toBe('sealed before the handoff');
  });

  it('RESET_NEW restarts sequence numbers and RC4 state', async () => {
    const { c, s } = await pair();
    const first = backend.encryptMessage(c, Buffer.from('first'));
    backend.decryptMessage(s, first);
    backend.decryptMessage(s, backend.encryptMessage(c, Buffer.from('second')));
    const { packed } = await backend.exportSecurityContext(s, RESET_NEW);
    const imported = await backend.importSecurityContext('NTLM', packed);
    // It expects SeqNum 0 and the initial keystream again: the very first message unseals.
    expect(backend.decryptMessage(imported, first).toString()).toBe('first');
  });

  it('DELETE_OLD invalidates the source context on every call', async () => {
    const { c, s } = await pair();
    const bufs = keyBuffersForTest(s);
    const { packed } = await backend.exportSecurityContext(s, DELETE_OLD);
    expect(bufs.every((b) => b.every((x) => x === 0))).toBe(true);
    await expectSspi(() => backend.makeSignature(s, Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.verifySignature(s, Buffer.from('x'), Buffer.alloc(16)), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.encryptMessage(s, Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.decryptMessage(s, Buffer.alloc(20)), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.queryContextAttributes(s, 'names'), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.queryContextAttributes(s, 'sizes'), 'SEC_E_INVALID_HANDLE');
    await expectSspi(backend.exportSecurityContext(s, 0), 'SEC_E_INVALID_HANDLE');
    await expectSspi(() => backend.impersonateSecurityContext(s), 'SEC_E_INVALID_HANDLE');
    backend.deleteSecurityContext(s); // idempotent
    const imported = await backend.importSecurityContext('NTLM', packed);
    expect(backend.decryptMessage(imported, backend.encryptMessage(c, Buffer.from('ok'))).toString()).toBe('ok');
  });

  it('RESET_NEW | DELETE_OLD, and exporting the client side', async () => {
    const { c, s } = await pair();
    const { packed } = await backend.exportSecurityContext(c, RESET_NEW | DELETE_OLD);
    const c2 = await backend.importSecurityContext('NTLM', packed);
    expect(backend.decryptMessage(s, backend.encryptMessage(c2, Buffer.from('from imported client'))).toString()).toBe('from imported client');
    await expectSspi(() => backend.makeSignature(c, Buffer.alloc(1)), 'SEC_E_INVALID_HANDLE');
  });

  it('import is strict: garbage, truncation, trailing bytes, any mutation', async () => {
    const { s } = await pair();
    const { packed } = await backend.exportSecurityContext(s, 0);
    await expectSspi(backend.importSecurityContext('NTLM', Buffer.alloc(0)), 'SEC_E_INVALID_TOKEN');
    await expectSspi(backend.importSecurityContext('NTLM', Buffer.from('not a context at all')), 'SEC_E_INVALID_TOKEN');
    for (let n = 0; n < packed.length; n++) await expectSspi(backend.importSecurityContext('NTLM', packed.subarray(0, n)), 'SEC_E_INVALID_TOKEN');
    await expectSspi(backend.importSecurityContext('NTLM', Buffer.concat([packed, Buffer.alloc(1)])), 'SEC_E_INVALID_TOKEN');
    for (let k = 0; k < packed.length; k++) {
      const m = Buffer.from(packed);
      m[k]! ^= 1 << (k % 8);
      await expectSspi(backend.importSecurityContext('NTLM', m), 'SEC_E_INVALID_TOKEN');
    }
    // Negotiate selects NTLM, so it takes an NTLM context (the retry of importContext relies on it).
    const viaNegotiate = await backend.importSecurityContext('Negotiate', packed);
    expect(backend.queryContextAttributes(viaNegotiate, 'negotiationInfo')).toEqual({ packageName: 'NTLM', state: 0 });
    backend.deleteSecurityContext(viaNegotiate);
    await expectSspi(backend.importSecurityContext('Kerberos', packed), 'SEC_E_SECPKG_NOT_FOUND');
  });

  // docs/ntlm-packed-context.md: the send and receive RC4 states are 256-byte
  // S-boxes at 132 and 390, each a permutation of 0..255, and a CRC-32 (zlib)
  // of everything before it closes the context. With the checksum fixed up, only
  // the permutation check stands between a bad S-box and an imported context.
  it('refuses an RC4 state that is not a permutation, wherever the repeated value sits', async () => {
    const { s } = await pair();
    const { packed } = await backend.exportSecurityContext(s, 0);
    const resealed = (m: Buffer): Buffer => {
      m.writeUInt32LE(crc32(m.subarray(0, m.length - 4)) >>> 0, m.length - 4);
      return m;
    };
    // Every offset of a 4-entry step, at the start, middle and end of both boxes.
    for (const box of [132, 390]) {
      for (const k of [0, 1, 2, 3, 125, 126, 127, 128, 252, 253, 254, 255]) {
        const m = Buffer.from(packed);
        m[box + k] = m[box + ((k + 1) % 256)]!;
        await expect(backend.importSecurityContext('NTLM', resealed(m))).rejects.toMatchObject({ code: 'SEC_E_INVALID_TOKEN', message: expect.stringMatching(/not a permutation/) });
      }
    }
    // Two entries swapped is still a permutation: it imports (the check refuses only duplicates).
    const swapped = Buffer.from(packed);
    [swapped[390 + 7], swapped[390 + 200]] = [swapped[390 + 200]!, swapped[390 + 7]!];
    const ok = await backend.importSecurityContext('NTLM', resealed(swapped));
    backend.deleteSecurityContext(ok);
  });
});

describe('secrets', () => {
  it('DeleteSecurityContext and FreeCredentialsHandle zero every key buffer', async () => {
    const { c, s, client, server } = await pair();
    const keys = [...keyBuffersForTest(c), ...keyBuffersForTest(s)];
    expect(keys.length).toBeGreaterThanOrEqual(14);
    expect(keys.every((b) => b.some((x) => x !== 0))).toBe(true);
    backend.deleteSecurityContext(c);
    backend.deleteSecurityContext(s);
    expect(keys.every((b) => b.every((x) => x === 0))).toBe(true);
    const credKeys = [...credentialKeyBuffersForTest(client), ...credentialKeyBuffersForTest(server)];
    expect(credKeys.length).toBe(3);
    backend.freeCredentialsHandle(client);
    backend.freeCredentialsHandle(server);
    expect(credKeys.every((b) => b.every((x) => x === 0))).toBe(true);
  });

  it('handles reveal no secrets through inspect or JSON, nor do errors', async () => {
    const password = 'Canary-Pa55word-7f3a';
    const { client, server } = await creds({ user: 'canary', domain: 'EXAMPLE', password }, [{ domain: 'EXAMPLE', user: 'canary', password }]);
    const r = await handshake(client, server);
    const { packed } = await backend.exportSecurityContext(r.serverCtx, 0);
    const secrets = [password, ...keyBuffersForTest(r.serverCtx).map((b) => Buffer.from(b).toString('hex').slice(0, 16)), ...credentialKeyBuffersForTest(server).map((b) => Buffer.from(b).toString('hex'))];
    const outputs = [inspect(client, { depth: 10, showHidden: true }), inspect(server, { depth: 10 }), inspect(r.serverCtx, { depth: 10 }), JSON.stringify(client), JSON.stringify(server), JSON.stringify(r.serverCtx), JSON.stringify(r.clientCtx)];
    const bad = Buffer.from(packed);
    bad[100]! ^= 1;
    outputs.push(String(await backend.importSecurityContext('NTLM', bad).catch((e) => e.message)));
    const wrong = await creds({ user: 'canary', domain: 'EXAMPLE', password: password + 'x' }, [{ domain: 'EXAMPLE', user: 'canary', password }]);
    outputs.push(String(await handshake(wrong.client, wrong.server).catch((e) => e.message)));
    for (const o of outputs) for (const secret of secrets) expect(o.toLowerCase()).not.toContain(secret.toLowerCase());
    expect(outputs[2]).toMatch(/FallbackContext/);
  });
});
