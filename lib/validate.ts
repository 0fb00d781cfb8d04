/**
 * Argument checks shared by the public entry points: bad input becomes an SspiError
 * (SEC_E_INVALID_PARAMETER, or SEC_E_INVALID_HANDLE when a handle is missing) before
 * anything is allocated, never a TypeError from deep inside.
 */
import { SspiError } from './errors.js';

/** An options argument: undefined means `{}`; anything but a plain object is refused. */
export function optionsOf<T extends object>(options: T | undefined, operation: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', operation, 'options must be an object');
  }
  return options;
}

/** A flags option: an unsigned 32-bit integer. */
export function flagsOf(flags: unknown, fallback: number, operation: string): number {
  if (flags === undefined) return fallback;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', operation, 'flags must be an unsigned 32-bit integer');
  }
  return flags;
}
