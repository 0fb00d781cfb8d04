/** Randomness for challenges and session keys, with a test-only override for worked examples. */
import { randomBytes } from 'node:crypto';

let source: (n: number) => Buffer = randomBytes;

export function random(n: number): Buffer {
  return source(n);
}

/** @internal Tests only: replace the random source; call with no argument to restore. */
export function setRandomSourceForTest(fn?: (n: number) => Buffer): void {
  source = fn ?? randomBytes;
}
