import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requestedBackend } from '../../lib/backend/select.js';
import { SspiError } from '../../lib/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Run a snippet against dist/ in a fresh process with the given backend switch. */
function inChild(env: Record<string, string>, code: string): { ok: boolean; out: string } {
  try {
    const out = execFileSync(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, out };
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout) };
  }
}

describe('backend selection', () => {
  it('picks native on win32 and the fallback elsewhere', () => {
    expect(requestedBackend({}, 'win32')).toBe('native');
    expect(requestedBackend({}, 'linux')).toBe('fallback');
    expect(requestedBackend({}, 'darwin')).toBe('fallback');
  });

  it('honours SSPI_CONTEXT_BACKEND either way and refuses other values', () => {
    expect(requestedBackend({ SSPI_CONTEXT_BACKEND: 'fallback' }, 'win32')).toBe('fallback');
    expect(requestedBackend({ SSPI_CONTEXT_BACKEND: ' Native ' }, 'linux')).toBe('native');
    expect(() => requestedBackend({ SSPI_CONTEXT_BACKEND: 'mock' }, 'linux')).toThrow(SspiError);
  });

  it.skipIf(process.platform === 'win32')('asking for native where there is none lists every path tried', () => {
    const r = inChild(
      { SSPI_CONTEXT_BACKEND: 'native', SSPI_CONTEXT_ADDON: '' },
      `const api = require('./dist/index.js');
       try { api.getBackend(); console.log('loaded'); }
       catch (e) { console.log(JSON.stringify({ sspi: e instanceof api.SspiError, code: e.code, message: e.message })); }`,
    );
    const e = JSON.parse(r.out);
    expect(e.sspi).toBe(true);
    expect(e.code).toBe('SEC_E_SECPKG_NOT_FOUND');
    expect(e.message).toContain('Tried:');
    expect(e.message).toContain('build/Release/sspi_context.node');
    expect(e.message).toMatch(/prebuilds\/linux-x64|prebuilds\/[a-z0-9]+-[a-z0-9]+/);
  });

  it.skipIf(process.platform === 'win32')('the fallback is what a plain require gets here, and it lists its packages', () => {
    const r = inChild({ SSPI_CONTEXT_BACKEND: '' }, `const api = require('./dist/index.js'); console.log(api.getBackend().name, api.enumerateSecurityPackages().map((p) => p.name).join(','))`);
    expect(r.ok).toBe(true);
    expect(r.out.trim()).toBe('fallback Negotiate,NTLM');
  });
});
