/**
 * Small key and cipher-state arrays carved out of shared blocks. Importing a
 * context makes several tiny arrays; a fresh ArrayBuffer for each cost more
 * than the import's real work. Every user zeroes its own slice on close, and a
 * block is freed when its last slice is.
 */
const BLOCK_BYTES = 64 * 1024;

let words = new Int32Array(0);
let wordsAt = 0;
let bytes = Buffer.alloc(0);
let bytesAt = 0;

/** `n` zeroed 32-bit words. */
export function int32Slice(n: number): Int32Array {
  if (wordsAt + n > words.length) {
    words = new Int32Array(Math.max(BLOCK_BYTES >> 2, n));
    wordsAt = 0;
  }
  const view = words.subarray(wordsAt, wordsAt + n);
  wordsAt += n;
  return view;
}

/** `n` zeroed bytes. */
export function byteSlice(n: number): Buffer {
  if (bytesAt + n > bytes.length) {
    bytes = Buffer.alloc(Math.max(BLOCK_BYTES, n));
    bytesAt = 0;
  }
  const view = bytes.subarray(bytesAt, bytesAt + n);
  bytesAt += n;
  return view;
}
