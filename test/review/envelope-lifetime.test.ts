// Review finding: the single-use cache (lib/handoff/replay.ts) keeps an envelope id
// until the envelope expires and promises "envelopes live at most 24 h", but the
// decoder took any expiry. Found by re-dating a clear envelope (createdAt/expiresAt
// at offsets 24 and 32, docs/handoff-format.md): an id then sat in the cache for
// as long as the forger chose, so 65,536 of them refused every later import
// (SEC_E_INSUFFICIENT_MEMORY) for good.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { clearEnvelope, expectSspiError, failureOf, useClosers } from './fixtures';

const require = createRequire(import.meta.url);
const { replayCacheSize } = require('../../dist/handoff/replay.js') as typeof import('../../lib/handoff/replay.js');

const { importContext, decodeHandoff } = api;
const HOUR = 60 * 60 * 1000;
const closers = useClosers();

function redate(env: Buffer, createdAt: number, expiresAt: number): Buffer {
  const b = Buffer.from(env);
  b.writeBigUInt64LE(BigInt(createdAt), 24);
  b.writeBigUInt64LE(BigInt(expiresAt), 32);
  return b;
}

describe('envelope lifetimes beyond 24 h are refused', () => {
  it('decodeHandoff: expiresAt - createdAt over 24 h is SEC_E_INVALID_TOKEN; exactly 24 h decodes', async () => {
    const env = await clearEnvelope(closers);
    const now = Date.now();
    expectSspiError(await failureOf(() => decodeHandoff(redate(env, now, now + 24 * HOUR + 1))), 'SEC_E_INVALID_TOKEN', 'DecodeHandoff');
    expectSspiError(await failureOf(() => decodeHandoff(redate(env, now, Number.MAX_SAFE_INTEGER))), 'SEC_E_INVALID_TOKEN', 'DecodeHandoff');
    expect(decodeHandoff(redate(env, now, now + 24 * HOUR)).header.expiresAt).toBe(now + 24 * HOUR);
  });

  it('importContext: an envelope dated days ahead takes no single-use slot', async () => {
    const env = await clearEnvelope(closers);
    const ahead = Date.now() + 10 * 24 * HOUR;
    const before = replayCacheSize();
    expectSspiError(await failureOf(() => importContext(redate(env, ahead, ahead + 30_000))), 'SEC_E_INVALID_TOKEN', 'ImportSecurityContextW');
    expect(replayCacheSize()).toBe(before);
    // The same envelope with its own dates still imports, once.
    const ctx = await importContext(env);
    expect(ctx.names.clientName).toBe('CONTOSO\\alice');
    ctx.close();
    expect(replayCacheSize()).toBe(before + 1);
  });
});
