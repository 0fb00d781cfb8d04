import { describe, expect, it } from 'vitest';
import { md4 } from '../../lib/fallback/md4.js';
import { Rc4 } from '../../lib/fallback/rc4.js';

describe('MD4 (RFC 1320 A.5 test suite)', () => {
  const vectors: [string, string][] = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ];
  for (const [input, hex] of vectors) {
    it(`MD4("${input.slice(0, 20)}${input.length > 20 ? '…' : ''}")`, () => {
      expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(hex);
    });
  }

  it('handles every padding boundary (lengths 0..130) without throwing', () => {
    for (let n = 0; n <= 130; n++) expect(md4(Buffer.alloc(n, 0x61))).toHaveLength(16);
  });
});

describe('RC4 (RFC 6229 keystream vectors)', () => {
  // Keystream bytes at the given offsets, from RFC 6229 section 2.
  const cases: { key: string; at: Record<number, string> }[] = [
    {
      key: '0102030405',
      at: {
        0: 'b2396305f03dc027ccc3524a0a1118a8',
        16: '6982944f18fc82d589c403a47a0d0919',
        240: '28cb1132c96ce286421dcaadb8b69eae',
        256: '1cfcf62b03eddb641d77dfcf7f8d8c93',
      },
    },
    {
      key: '0102030405060708090a0b0c0d0e0f10',
      at: {
        0: '9ac7cc9a609d1ef7b2932899cde41b97',
        16: '5248c4959014126a6e8a84f11d1a9e1c',
        240: '065902e4b620f6cc36c8589f66432f2b',
        256: 'd39d566bc6bce30107681515 49f3873f'.replace(/ /g, ''),
        4096: 'a36a4c301ae8ac13610ccbc12256cacc',
      },
    },
  ];
  for (const { key, at } of cases) {
    it(`key ${key}`, () => {
      const r = new Rc4(Buffer.from(key, 'hex'));
      const stream = Buffer.alloc(4112);
      r.process(stream);
      for (const [off, hex] of Object.entries(at)) {
        expect(stream.subarray(Number(off), Number(off) + 16).toString('hex')).toBe(hex);
      }
    });
  }

  it('is a stream: chunked processing equals one-shot', () => {
    const key = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const one = Buffer.from(data);
    new Rc4(key).process(one);
    const r = new Rc4(key);
    const chunked = Buffer.from(data);
    for (let k = 0; k < 1000; k += 37) {
      const part = chunked.subarray(k, Math.min(1000, k + 37));
      r.process(part);
    }
    expect(chunked.equals(one)).toBe(true);
  });

  it('writes to a separate destination at an offset', () => {
    const key = Buffer.from('Key');
    const out = Buffer.alloc(12);
    new Rc4(key).process(Buffer.from('Plaintext'), out, 3);
    expect(out.subarray(3).toString('hex')).toBe('bbf316e8d940af0ad3');
  });
});
