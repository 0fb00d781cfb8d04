/**
 * MD4 (RFC 1320). Node's OpenSSL 3 default provider has no MD4, and NTLM
 * needs it for exactly one thing: the NT hash (NTOWFv1). It runs once per
 * credential, so clarity beats speed here. Written here rather than taken
 * from js-md4 because its input is the password: the padded copy and the
 * message schedule are wiped below, which a package's internal buffers are not.
 */

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

export function md4(input: Uint8Array): Buffer {
  const bitLen = input.length * 8;
  // Message || 0x80 || zeros || 64-bit little-endian bit length, to a multiple of 64 bytes.
  const padded = new Uint8Array((((input.length + 8) >>> 6) + 1) << 6);
  padded.set(input);
  padded[input.length] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, bitLen >>> 0, true);
  dv.setUint32(padded.length - 4, Math.floor(bitLen / 0x100000000), true);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Int32Array(16);

  for (let off = 0; off < padded.length; off += 64) {
    for (let k = 0; k < 16; k++) x[k] = dv.getInt32(off + k * 4, true);
    const aa = a, bb = b, cc = c, dd = d;
    const X = (k: number): number => x[k]!;

    // Round 1: F(x,y,z) = xy | ~xz
    for (const k of [0, 4, 8, 12]) {
      a = rotl((a + ((b & c) | (~b & d)) + X(k)) | 0, 3);
      d = rotl((d + ((a & b) | (~a & c)) + X(k + 1)) | 0, 7);
      c = rotl((c + ((d & a) | (~d & b)) + X(k + 2)) | 0, 11);
      b = rotl((b + ((c & d) | (~c & a)) + X(k + 3)) | 0, 19);
    }
    // Round 2: G(x,y,z) = xy | xz | yz, constant 0x5a827999
    for (const k of [0, 1, 2, 3]) {
      a = rotl((a + ((b & c) | (b & d) | (c & d)) + X(k) + 0x5a827999) | 0, 3);
      d = rotl((d + ((a & b) | (a & c) | (b & c)) + X(k + 4) + 0x5a827999) | 0, 5);
      c = rotl((c + ((d & a) | (d & b) | (a & b)) + X(k + 8) + 0x5a827999) | 0, 9);
      b = rotl((b + ((c & d) | (c & a) | (d & a)) + X(k + 12) + 0x5a827999) | 0, 13);
    }
    // Round 3: H(x,y,z) = x ^ y ^ z, constant 0x6ed9eba1
    for (const k of [0, 2, 1, 3]) {
      a = rotl((a + (b ^ c ^ d) + X(k) + 0x6ed9eba1) | 0, 3);
      d = rotl((d + (a ^ b ^ c) + X(k + 8) + 0x6ed9eba1) | 0, 9);
      c = rotl((c + (d ^ a ^ b) + X(k + 4) + 0x6ed9eba1) | 0, 11);
      b = rotl((b + (c ^ d ^ a) + X(k + 12) + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }

  const out = Buffer.allocUnsafe(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  // The padded copy held the (password-derived) input: wipe it.
  padded.fill(0);
  x.fill(0);
  return out;
}
