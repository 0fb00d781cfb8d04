import { describeStatus, type StatusCode } from './status.js';

const BRAND = Symbol.for('sspi-context.SspiError');

/**
 * Every failure status that leaves the library. `code` is the status name,
 * `status` its unsigned value and `operation` the SSPI or package function
 * that failed. Messages never contain secrets: callers pass only static detail.
 */
export class SspiError extends Error {
  /** The status name (`'SEC_E_LOGON_DENIED'`), or `'0x…'` for a value the status table lacks. */
  readonly code: StatusCode;
  /** The unsigned 32-bit SECURITY_STATUS (or NTSTATUS) value, e.g. `0x8009030C`. */
  readonly status: number;
  /** The SSPI or library function that failed, e.g. `'AcceptSecurityContext'`. */
  readonly operation: string;

  /**
   * @param status The status value, or its name from the status table.
   * @param operation The SSPI or library function that failed.
   * @param detail Static text for the message; never a secret.
   * @throws SspiError SEC_E_INVALID_PARAMETER when `status` is not a 32-bit value or a status name.
   */
  constructor(status: number | StatusCode, operation: string, detail?: string) {
    let row = describeStatus(status);
    // A name the table lacks has no value to report: say so under SEC_E_INTERNAL_ERROR.
    if (Number.isNaN(row.value)) row = describeStatus('SEC_E_INTERNAL_ERROR');
    const code = (row.unknown ? row.hex : row.name) as StatusCode;
    super(`${operation} failed: ${code} (${row.hex}): ${detail ?? row.message}`);
    this.name = 'SspiError';
    this.code = code;
    this.status = row.value;
    this.operation = operation;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across two loaded copies of the package (CJS and ESM, or two versions). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * True when `e` is an SspiError (from any loaded copy of the package), with `code` when given.
 * @param e Anything caught.
 * @param code The status name to match.
 * @returns Whether `e` is an SspiError (with that code).
 */
export function isSspiError(e: unknown, code?: StatusCode): e is SspiError {
  return e instanceof SspiError && (code === undefined || e.code === code);
}
