// Issue 13, the single-use cache and the envelope lifetime: expiry and replay
// on a clock a wall-clock step cannot move, pruning in expiry order, a hard
// bound on memory, and ttlMs kept within 1 ms .. 24 h.
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, establish } from '../helpers/handshake';

const require = createRequire(import.meta.url);
// The cache module the dist build uses (same instance as dist/index.js's).
const replay = () => require('../../dist/handoff/replay.js');
const { encodeHandoff, importContext, SspiError } = api;

let session: Awaited<ReturnType<typeof establish>>;
let exported: InstanceType<typeof api.ExportedContext>;
beforeAll(async () => {
  session = await establish();
  exported = await session.server.export();
});
afterAll(() => session.close());

const realNow = Date.now.bind(Date);
// The process clock is made virtual for this file through the module's internal
// hook: it starts at the wall clock and moves only when a test moves it.
const virtualStart = realNow();
let ahead = 0;
function advanceProcessClock(ms: number): void {
  ahead += ms;
}
let processClock: () => number;
beforeAll(() => {
  // (Guarded so that, on a build without the hook, each test fails on its own.)
  const clock = replay().replayClock ?? { now: () => Number.NaN };
  processClock = clock.now;
  clock.now = () => virtualStart + ahead;
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** An envelope made now on the process clock (which the tests move ahead of the wall clock). */
function envelope(ttlMs: number): Buffer {
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => virtualStart + ahead);
  try {
    return encodeHandoff(exported, { ttlMs });
  } finally {
    spy.mockRestore();
  }
}

async function expectStatus(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SspiError);
  expect((e as { code: string }).code).toBe(code);
}

async function importOnce(bytes: Buffer): Promise<void> {
  const ctx = await importContext(bytes);
  ctx.close();
}

describe('expiry and replay use the process clock', () => {
  it('the process clock does not follow Date.now', () => {
    const before = processClock();
    vi.spyOn(Date, 'now').mockImplementation(() => 0);
    const during = processClock();
    expect(during).toBeGreaterThanOrEqual(before);
    expect(Math.abs(during - realNow())).toBeLessThan(60_000);
  });

  it('a wall-clock step forward then back does not let an envelope import twice', async () => {
    const first = envelope(10_000);
    await importOnce(first);
    // The wall clock jumps an hour ahead: another import prunes what looks expired...
    const wall = realNow();
    vi.spyOn(Date, 'now').mockImplementation(() => wall + 3_600_000);
    await importOnce(encodeHandoff(exported, { ttlMs: 10_000 }));
    // ...and steps back: the first envelope looks fresh again, but its id is remembered.
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    await expectStatus(importContext(first), 'SEC_E_OUT_OF_SEQUENCE');
  });

  it('an envelope that expired stays expired when the wall clock steps back', async () => {
    const bytes = envelope(50);
    advanceProcessClock(1_000);
    const wall = realNow();
    vi.spyOn(Date, 'now').mockImplementation(() => wall - 3_600_000);
    await expectStatus(importContext(bytes), 'SEC_E_CONTEXT_EXPIRED');
  });

  it('an expired envelope is not recorded', () => {
    const r = replay();
    const before = r.replayCacheSize();
    expect(r.claimEnvelope('00'.repeat(16), r.replayClock.now() - 1)).toBe('expired');
    expect(r.replayCacheSize()).toBe(before);
  });
});

describe('pruning in expiry order', () => {
  it('one long-lived id does not keep 200,000 expired short-lived ids alive', () => {
    const r = replay();
    advanceProcessClock(10 * 24 * 3_600_000); // everything earlier has expired
    const t0 = r.replayClock.now();
    expect(r.claimEnvelope('long-lived', t0 + 30_000)).toBe('claimed');
    // 200 waves of 1,000 envelopes that live 1 ms, 20 ms apart (4 s in all).
    let largest = 0;
    for (let wave = 0; wave < 200; wave++) {
      const now = r.replayClock.now();
      let claimed = 0;
      for (let i = 0; i < 1_000; i++) if (r.claimEnvelope(`short-${wave}-${i}`, now + 1) === 'claimed') claimed++;
      expect(claimed).toBe(1_000);
      largest = Math.max(largest, r.replayCacheSize());
      advanceProcessClock(20);
    }
    expect(r.claimEnvelope('after', r.replayClock.now() + 1_000)).toBe('claimed');
    expect(largest).toBeLessThanOrEqual(1_001);
    expect(r.replayCacheSize()).toBe(2);
    // The long-lived id is still remembered.
    expect(r.claimEnvelope('long-lived', r.replayClock.now() + 30_000)).toBe('replayed');
  });
});

describe('memory stays bounded under a flood', () => {
  it(`holds at most MAX_LIVE_ENVELOPES ids; beyond, importContext refuses with SEC_E_INSUFFICIENT_MEMORY until some expire`, async () => {
    const r = replay();
    advanceProcessClock(10 * 24 * 3_600_000);
    const max: number = r.MAX_LIVE_ENVELOPES;
    expect(max).toBeGreaterThan(1_000);
    const t0 = r.replayClock.now();
    let i = 0;
    while (r.replayCacheSize() < max) expect(r.claimEnvelope(`flood-${i++}`, t0 + 60_000)).toBe('claimed');
    expect(r.claimEnvelope('one-more', t0 + 60_000)).toBe('full');
    expect(r.replayCacheSize()).toBe(max);
    const bytes = envelope(3_600_000);
    await expectStatus(importContext(bytes), 'SEC_E_INSUFFICIENT_MEMORY');
    // Refused when full is not recorded: once the flood expires the envelope imports (once).
    advanceProcessClock(61_000);
    await importOnce(bytes);
    await expectStatus(importContext(bytes), 'SEC_E_OUT_OF_SEQUENCE');
    expect(r.replayCacheSize()).toBe(1);
  });
});

describe('ttlMs is 1 ms .. 24 h', () => {
  it('refuses lifetimes outside the range with SEC_E_INVALID_PARAMETER', () => {
    for (const ttlMs of [1e20, 1e16, 24 * 3_600_000 + 1, 0.5, 0, -1, Number.NaN, Infinity, '1000']) {
      let err: unknown;
      try {
        encodeHandoff(exported, { ttlMs });
      } catch (e) {
        err = e;
      }
      expect(err, String(ttlMs)).toBeInstanceOf(SspiError);
      expect((err as { code: string }).code).toBe('SEC_E_INVALID_PARAMETER');
    }
  });

  it('accepts the bounds themselves', () => {
    for (const ttlMs of [1, 24 * 3_600_000]) {
      const h = api.decodeHandoff(encodeHandoff(exported, { ttlMs })).header;
      expect(h.expiresAt - h.createdAt).toBe(ttlMs);
    }
  });
});
