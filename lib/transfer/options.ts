/** Option checks shared by both ends of a transfer. */
import { SspiError } from '../errors.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** setTimeout's ceiling; a longer delay silently becomes 1 ms (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 0x7fffffff;

/** Milliseconds to wait, or undefined for no limit (`0` or `Infinity`). */
export function timeoutOf(value: unknown, op: string): number | undefined {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (value === Infinity || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, `timeoutMs must be 0 or Infinity (no limit) or a number of milliseconds up to ${MAX_TIMER_MS}`);
  }
  return value;
}

/** Run `onExpire` once after `ms` (never when there is no limit); returns the cancel function. */
export function startTimer(ms: number | undefined, onExpire: () => void): () => void {
  if (ms === undefined) return () => undefined;
  const t = setTimeout(onExpire, ms);
  return () => clearTimeout(t);
}

/** One deadline for a whole transfer, raced against each step in turn. */
export class Deadline {
  #expired = false;
  #onExpire: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(ms: number | undefined) {
    if (ms !== undefined) {
      this.#timer = setTimeout(() => {
        this.#expired = true;
        this.#onExpire?.();
      }, ms);
    }
  }

  /** `p`, or a rejection with `onTimeout()` once the deadline passes (after `cancel()`). */
  race<T>(p: Promise<T>, onTimeout: () => Error, cancel?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const expire = () => {
        cancel?.();
        reject(onTimeout());
      };
      if (this.#expired) return expire();
      this.#onExpire = expire;
      p.then(
        (v) => {
          this.#onExpire = undefined;
          resolve(v);
        },
        (e: unknown) => {
          this.#onExpire = undefined;
          reject(e);
        },
      );
    });
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#onExpire = undefined;
  }
}
