import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SspiError, isSspiError } from '../../lib/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('SspiError', () => {
  it('carries code, status, operation and message', () => {
    const e = new SspiError(0x80090308, 'ImportSecurityContextW', 'packed context is truncated');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(SspiError);
    expect(e.name).toBe('SspiError');
    expect(e.code).toBe('SEC_E_INVALID_TOKEN');
    expect(e.status).toBe(0x80090308);
    expect(e.operation).toBe('ImportSecurityContextW');
    expect(e.message).toBe('ImportSecurityContextW failed: SEC_E_INVALID_TOKEN (0x80090308): packed context is truncated');
    expect(isSspiError(e, 'SEC_E_INVALID_TOKEN')).toBe(true);
    expect(isSspiError(new Error('x'))).toBe(false);
    expect(inspect(e)).toContain('SEC_E_INVALID_TOKEN');
  });

  it('accepts names and uses the table message by default', () => {
    const e = new SspiError('SEC_E_LOGON_DENIED', 'AcceptSecurityContext');
    expect(e.status).toBe(0x8009030c);
    expect(e.message).toMatch(/^AcceptSecurityContext failed: SEC_E_LOGON_DENIED \(0x8009030C\): /);
  });

  it('is instanceof-checkable from the built CJS and ESM entry points alike', () => {
    // A real Node process, so module caching is Node's own and not the test runner's.
    const script = `
      import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
      import * as esm from './dist/index.mjs';
      const cjs = createRequire(import.meta.url)('./dist/index.js');
      const e = new cjs.SspiError('SEC_E_INVALID_HANDLE', 'X');
      console.log(JSON.stringify([esm.SspiError === cjs.SspiError, e instanceof esm.SspiError, new esm.SspiError(1, 'Y') instanceof cjs.SspiError, ({}) instanceof esm.SspiError]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true, true, false]);
    // A second copy of the class (another installed version) is recognised by brand.
    const require = createRequire(import.meta.url);
    const cjs = require('../../dist/index.js');
    expect(new cjs.SspiError('SEC_E_INVALID_HANDLE', 'X')).toBeInstanceOf(SspiError);
    expect(new SspiError('SEC_E_INVALID_HANDLE', 'X')).toBeInstanceOf(cjs.SspiError);
  });
});
