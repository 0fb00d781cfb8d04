/** Every parser bounds-checks: truncations and mutations of real messages give SspiError only. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backend, creds, tok, upToAuthenticate, ASC_FLAGS, ISC_FLAGS } from './helpers.js';
import { isSspiError } from '../../lib/errors.js';
import type { CredHandleRef } from '../../lib/backend/types.js';

async function onlySspi(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (!isSspiError(e)) throw new Error(`non-SspiError escaped: ${String(e)}`);
    return e.code;
  }
}

type Leg = 'negotiate' | 'challenge' | 'authenticate';

/** Feed `bytes` in place of one leg of a fresh handshake. */
async function feed(client: CredHandleRef, server: CredHandleRef, leg: Leg, bytes: Buffer): Promise<string> {
  if (leg === 'negotiate') return onlySspi(backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(bytes) }));
  if (leg === 'challenge') {
    const r1 = await backend.initializeSecurityContext(client, { context: null, flags: ISC_FLAGS, input: [] });
    return onlySspi(backend.initializeSecurityContext(client, { context: r1.context, flags: ISC_FLAGS, input: tok(bytes) }));
  }
  const t = await upToAuthenticate(client, server);
  return onlySspi(backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(bytes) }));
}

describe('truncation of every message type at every length', () => {
  for (const leg of ['negotiate', 'challenge', 'authenticate'] as const) {
    it(leg, async () => {
      const { client, server } = await creds();
      const t = await upToAuthenticate(client, server);
      const msg = t[leg];
      for (let n = 0; n < msg.length; n++) {
        const code = await feed(client, server, leg, Buffer.from(msg.subarray(0, n)));
        // Our NEGOTIATE sets NTLMSSP_NEGOTIATE_VERSION, so its Version field is required too.
        expect(code, `length ${n}`).toBe('SEC_E_INVALID_TOKEN');
      }
    });
  }

  it('accepts a 32-byte NEGOTIATE that does not claim a Version field', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    const short = Buffer.from(t.negotiate.subarray(0, 32));
    short.writeUInt32LE((short.readUInt32LE(12) & ~0x02000000) >>> 0, 12);
    expect(await feed(client, server, 'negotiate', short)).toBe('OK');
  });

  it('answers an OEM-only NEGOTIATE (as curl sends) with a Unicode CHALLENGE', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    const oem = Buffer.from(t.negotiate);
    oem.writeUInt32LE(((oem.readUInt32LE(12) & ~0x1) | 0x2) >>> 0, 12);
    const r = await backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(oem) });
    const challenge = r.output[0]!.buffer;
    expect(challenge.readUInt32LE(8)).toBe(2);
    expect(challenge.readUInt32LE(20) & 0x1).toBe(0x1);
    backend.deleteSecurityContext(r.context);
  });
});

describe('mutations of real messages (fast-check)', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fff, 0xffff) }),
    fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x10000) }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  );

  type Mutation = { kind: string; at?: number; bit?: number; value?: number; bytes?: Uint8Array };
  function apply(msg: Buffer, muts: Mutation[]): Buffer {
    let m = Buffer.from(msg);
    for (const mu of muts) {
      if (mu.kind === 'append') m = Buffer.concat([m, Buffer.from(mu.bytes!)]);
      else if (mu.kind === 'flip') m[mu.at! % m.length]! ^= 1 << mu.bit!;
      else if (mu.kind === 'u16' && m.length >= 2) m.writeUInt16LE(mu.value!, mu.at! % (m.length - 1));
      else if (mu.kind === 'u32' && m.length >= 4) m.writeUInt32LE(mu.value!, mu.at! % (m.length - 3));
    }
    return m;
  }

  for (const leg of ['negotiate', 'challenge', 'authenticate'] as const) {
    it(leg, async () => {
      const { client, server } = await creds();
      const t = await upToAuthenticate(client, server);
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (muts) => {
          await feed(client, server, leg, apply(t[leg], muts));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('sealed and signed messages fed to decrypt/verify', async () => {
    const { client, server } = await creds();
    const t = await upToAuthenticate(client, server);
    await backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(t.authenticate) });
    await fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 24 }), (a, b) => {
        for (const f of [() => backend.decryptMessage(t.serverCtx, Buffer.from(a)), () => backend.verifySignature(t.serverCtx, Buffer.from(a), Buffer.from(b))]) {
          try {
            f();
          } catch (e) {
            if (!isSspiError(e)) throw e;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
