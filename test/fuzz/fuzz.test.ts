// The short fuzz of `npm test`: 10,000 inputs over every decoder (the long
// run is `npm run fuzz -- --runs 200000`), and a check that the harness
// itself reports a planted non-SspiError, a planted hang and a planted
// "accepted but different" decoder.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module, also run by `npm run fuzz`
import { describeResult, runFuzz } from './run.mjs';

interface Result {
  target: string;
  runs: number;
  failed: boolean;
  counterexample: string | null;
  error: string | null;
  shrinks: number;
  depth: { inputs: number; deep: number; accepted: number };
}

describe('fuzz', () => {
  it('10,000 mutated inputs over every decoder: only SspiError comes out', async () => {
    const { inputs, failures, results, seed } = (await runFuzz({ runs: 10_000 })) as { inputs: number; failures: number; results: Result[]; seed: number };
    const report = results.map(describeResult).join('\n');
    expect(failures, `seed ${seed}\n${report}`).toBe(0);
    expect(inputs).toBe(10_000);
    expect(results.map((r) => r.target).sort()).toEqual(['authenticate', 'challenge', 'decrypt', 'envelopeClear', 'envelopeSealed', 'negotiate', 'packed', 'spnego', 'verify']);
    // Every decoder's deep checks are reached (past magic, type, lengths,
    // checksum). For the packed context that needs the real CRC-32 fix-up: with
    // a wrong trailer no mutated input gets past the checksum.
    for (const r of results) expect(r.depth.deep, `${r.target}: ${JSON.stringify(r.depth)}`).toBeGreaterThan(r.runs / 10);
    const packed = results.find((r) => r.target === 'packed')!;
    expect(packed.depth.accepted).toBeGreaterThan(0);
  });

  it('the oracle reports a decoder that accepts an input but decodes it to something else', async () => {
    const { results } = (await runFuzz({ runs: 200, targets: ['selftestDifferent'] })) as { results: Result[] };
    expect(results[0]!.failed).toBe(true);
    expect(results[0]!.error).toMatch(/accepted but different: planted name decoder/);
  });

  it('the harness reports a planted non-SspiError (shrunk) and a planted synchronous hang', async () => {
    const { results } = (await runFuzz({ runs: 400, targets: ['selftestThrow', 'selftestHang'], killMs: 1500 })) as { results: Result[] };
    const thrown = results.find((r) => r.target === 'selftestThrow')!;
    expect(thrown.failed).toBe(true);
    expect(thrown.error).toMatch(/planted non-SspiError/);
    // The shrunk counterexample still holds the culprit, and shrinking ran.
    const muts = JSON.parse(thrown.counterexample!).muts as { k: string; b: number }[];
    expect(muts.some((m) => m.k === 'byte' && (m.b & 0xff) >= 0x80)).toBe(true);
    expect(thrown.shrinks).toBeGreaterThan(0);
    const hung = results.find((r) => r.target === 'selftestHang')!;
    expect(hung.failed).toBe(true);
    expect(hung.error).toMatch(/^hang/);
    expect(JSON.parse(hung.counterexample!).muts.length).toBeGreaterThanOrEqual(3);
  });
});
