import { describeStatus } from './status.js';

const BRAND = Symbol.for('sspi-context.SspiError');

/**
 * Every failure status that leaves the library. `code` is the status name,
 * `status` its unsigned value and `operation` the SSPI or package function
 * that failed. Messages never contain secrets: callers pass only static detail.
 */
export class SspiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly operation: string;

  constructor(status: number | string, operation: string, detail?: string) {
    const row = describeStatus(status);
    super(`${operation} failed: ${row.name} (${row.hex}): ${detail ?? row.message}`);
    this.name = 'SspiError';
    this.code = row.name;
    this.status = row.value;
    this.operation = operation;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across two loaded copies of the package (CJS and ESM, or two versions). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function isSspiError(e: unknown, code?: string): e is SspiError {
  return e instanceof SspiError && (code === undefined || e.code === code);
}
