import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, TokenHandleRef } from '../../lib/backend/types.js';
import { SspiError } from '../../lib/errors.js';
import { ExportedContext } from '../../lib/exported.js';
import { decodeHandoff, encodeHandoff, readHandoffHeader } from '../../lib/handoff/codec.js';

const key = randomBytes(32);
const packed = Buffer.from('packed-context-bytes-with-session-keys-0123456789', 'latin1');

function tokenBackend(dupValue: bigint): { backend: Backend; token: TokenHandleRef; calls: Array<[bigint, number]> } {
  const calls: Array<[bigint, number]> = [];
  const token: TokenHandleRef = { kind: 'token', value: 0x44n, close() {} };
  const backend = {
    duplicateTokenToProcess(t: TokenHandleRef, pid: number) {
      calls.push([t.value, pid]);
      return dupValue;
    },
  } as unknown as Backend;
  return { backend, token, calls };
}

function expectSspi(fn: () => unknown, code: string): SspiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SspiError);
    expect((e as SspiError).code).toBe(code);
    return e as SspiError;
  }
  throw new Error(`expected ${code}`);
}

describe('handoff codec', () => {
  it('round-trips every field, clear', () => {
    const before = Date.now();
    const exported = new ExportedContext('NTLM', packed, { credentialPackage: 'Negotiate', bufferType: 2 });
    const bytes = encodeHandoff(exported, { ttlMs: 5000, targetPid: 4242 });
    const d = decodeHandoff(bytes);
    expect(d.packed).toEqual(packed);
    const h = d.header;
    expect(h.version).toBe(2);
    expect(h.sealed).toBe(false);
    expect(h.packageName).toBe('NTLM');
    expect(h.credentialPackage).toBe('Negotiate');
    expect(h.bufferType).toBe(2);
    expect(h.sourcePid).toBe(process.pid);
    expect(h.targetPid).toBe(4242);
    expect(h.token).toEqual({ mode: 'none' });
    expect(h.id).toMatch(/^[0-9a-f]{32}$/);
    expect(h.createdAt).toBeGreaterThanOrEqual(before);
    expect(h.expiresAt - h.createdAt).toBe(5000);
    expect(h.packedLength).toBe(packed.length);
    expect(h.length).toBe(bytes.length);
    // The clear body is the packed context itself.
    expect(bytes.includes(packed)).toBe(true);
  });

  it('round-trips sealed, never holding the packed bytes in clear', () => {
    const bytes = encodeHandoff(new ExportedContext('NTLM', packed), { key });
    expect(bytes.includes(packed.subarray(0, 12))).toBe(false);
    const d = decodeHandoff(bytes, { key });
    expect(d.header.sealed).toBe(true);
    // Without a credential package, the envelope names the context's package twice.
    expect(d.header.credentialPackage).toBe('NTLM');
    expect(d.header.bufferType).toBe(0);
    expect(d.header.targetPid).toBe(0);
    expect(d.packed).toEqual(packed);
    expect(d.header.expiresAt - d.header.createdAt).toBe(30_000);
  });

  it('carries a token duplicated into the target process', () => {
    const { backend, token, calls } = tokenBackend(0x1234n);
    const bytes = encodeHandoff(new ExportedContext('Kerberos', packed, { token, backend }), { key, targetPid: 777 });
    expect(calls).toEqual([[0x44n, 777]]);
    const h = decodeHandoff(bytes, { key }).header;
    expect(h.token).toEqual({ mode: 'handle', value: 0x1234n, targetPid: 777 });
    // Without targetPid the token is duplicated into this process.
    const self = tokenBackend(0x99n);
    const h2 = decodeHandoff(encodeHandoff(new ExportedContext('Kerberos', packed, { token: self.token, backend: self.backend }))).header;
    expect(self.calls).toEqual([[0x44n, process.pid]]);
    expect(h2.targetPid).toBe(process.pid);
  });

  it('makes a fresh id per envelope', () => {
    const a = decodeHandoff(encodeHandoff(new ExportedContext('NTLM', packed))).header.id;
    const b = decodeHandoff(encodeHandoff(new ExportedContext('NTLM', packed))).header.id;
    expect(a).not.toBe(b);
  });

  // docs/handoff-format.md: a 16-byte random id at 8..24 and, sealed, a 12-byte
  // AES-GCM nonce just before the packed length. GCM must never see a nonce twice
  // under one key (NIST SP 800-38D §8), and the id is the single-use cache's key.
  it('gives every sealed envelope its own id and nonce, across many envelopes', () => {
    const seen = new Set<string>();
    const n = 600;
    for (let k = 0; k < n; k++) {
      const bytes = encodeHandoff(new ExportedContext('NTLM', packed), { key });
      const { bodyOffset } = readHandoffHeader(bytes);
      seen.add(bytes.subarray(8, 24).toString('hex'));
      seen.add(bytes.subarray(bodyOffset - 4 - 12, bodyOffset - 4).toString('hex'));
      expect(decodeHandoff(bytes, { key }).packed).toEqual(packed);
    }
    // No id or nonce repeats, and no bytes serve as both.
    expect(seen.size).toBe(2 * n);
  });

  it('rejects every truncation of a valid envelope', () => {
    for (const bytes of [encodeHandoff(new ExportedContext('NTLM', packed)), encodeHandoff(new ExportedContext('NTLM', packed), { key })]) {
      for (let n = 0; n < bytes.length; n++) {
        expectSspi(() => decodeHandoff(bytes.subarray(0, n), bytes[5] ? { key } : {}), 'SEC_E_INVALID_TOKEN');
      }
    }
  });

  it('rejects trailing bytes, bad magic, unknown version and bad lengths', () => {
    const bytes = encodeHandoff(new ExportedContext('NTLM', packed));
    expectSspi(() => decodeHandoff(Buffer.concat([bytes, Buffer.from([0])])), 'SEC_E_INVALID_TOKEN');
    const magic = Buffer.from(bytes);
    magic[0] = 0x58;
    expectSspi(() => decodeHandoff(magic), 'SEC_E_INVALID_TOKEN');
    const version = Buffer.from(bytes);
    version[4] = 1;
    expect(expectSspi(() => decodeHandoff(version), 'SEC_E_INVALID_TOKEN').message).toContain('version 1');
    // An empty credential-package field is refused like an empty package name.
    const cred = Buffer.from(bytes);
    cred[61 + 'NTLM'.length] = 0;
    expectSspi(() => decodeHandoff(cred), 'SEC_E_INVALID_TOKEN');
    const len = Buffer.from(bytes);
    len.writeUInt32LE(0xffffffff, len.length - packed.length - 4);
    expectSspi(() => decodeHandoff(len), 'SEC_E_INVALID_TOKEN');
    expectSspi(() => decodeHandoff(Buffer.alloc(0)), 'SEC_E_INVALID_TOKEN');
  });

  it('rejects every single-bit flip of a sealed envelope', () => {
    const bytes = encodeHandoff(new ExportedContext('NTLM', packed), { key, targetPid: 99 });
    for (let i = 0; i < bytes.length * 8; i++) {
      const m = Buffer.from(bytes);
      m[i >> 3]! ^= 1 << (i & 7);
      let threw: unknown;
      try {
        decodeHandoff(m, { key });
      } catch (e) {
        threw = e;
      }
      expect(threw, `bit ${i}`).toBeInstanceOf(SspiError);
      expect(['SEC_E_INVALID_TOKEN', 'SEC_E_DECRYPT_FAILURE']).toContain((threw as SspiError).code);
    }
  });

  it('refuses a wrong key, a missing key and a key for a clear envelope', () => {
    const sealed = encodeHandoff(new ExportedContext('NTLM', packed), { key });
    expectSspi(() => decodeHandoff(sealed, { key: randomBytes(32) }), 'SEC_E_DECRYPT_FAILURE');
    expectSspi(() => decodeHandoff(sealed), 'SEC_E_DECRYPT_FAILURE');
    expectSspi(() => decodeHandoff(encodeHandoff(new ExportedContext('NTLM', packed)), { key }), 'SEC_E_DECRYPT_FAILURE');
    expectSspi(() => decodeHandoff(sealed, { key: randomBytes(16) }), 'SEC_E_INVALID_PARAMETER');
    expectSspi(() => encodeHandoff(new ExportedContext('NTLM', packed), { key: Buffer.alloc(31) }), 'SEC_E_INVALID_PARAMETER');
    expectSspi(() => encodeHandoff(new ExportedContext('NTLM', packed), { ttlMs: 0 }), 'SEC_E_INVALID_PARAMETER');
    expectSspi(() => encodeHandoff(new ExportedContext('NTLM', packed), { targetPid: -1 }), 'SEC_E_INVALID_PARAMETER');
  });

  it('reads a sealed header without the key, and hides secrets from inspect and JSON', () => {
    const sealed = encodeHandoff(new ExportedContext('NTLM', packed), { key });
    const h = decodeHandoff(sealed, { headerOnly: true });
    expect(h.packed).toBeUndefined();
    expect(h.header.sealed).toBe(true);
    const d = decodeHandoff(sealed, { key });
    const shown = inspect(d, { depth: 5 }) + JSON.stringify(d) + inspect(new ExportedContext('NTLM', packed)) + JSON.stringify(new ExportedContext('NTLM', packed));
    expect(shown).not.toContain(packed.toString('latin1').slice(0, 10));
    expect(shown).not.toContain(packed.toString('hex').slice(0, 20));
    expect(shown).toContain('redacted');
  });

  it('gives only SspiError for 100k random and mutated inputs', () => {
    const clear = encodeHandoff(new ExportedContext('NTLM', packed), { targetPid: 5 });
    const sealed = encodeHandoff(new ExportedContext('NTLM', packed), { key });
    const mutated = fc
      .tuple(fc.constantFrom(clear, sealed), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), fc.boolean())
      .map(([base, edits, cut, doCut]) => {
        const m = Buffer.from(base);
        for (const [at, v] of edits) m[at % m.length] = v;
        return doCut ? m.subarray(0, cut % (m.length + 1)) : m;
      });
    const random = fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u));
    const magicPrefixed = fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.concat([clear.subarray(0, 8), Buffer.from(u)]));
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, random, magicPrefixed), fc.boolean(), (input, withKey) => {
        runs++;
        try {
          decodeHandoff(input, withKey ? { key } : {});
          readHandoffHeader(input);
        } catch (e) {
          if (!(e instanceof SspiError)) throw e;
        }
      }),
      { numRuns: 100_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(100_000);
  });
});
