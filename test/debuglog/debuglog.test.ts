// NODE_DEBUG=sspi-context: the log names handshake legs, the package and the handoff, and
// never carries a secret. Canaries: the password, its NT hash (MS-NLMP 3.3.2 NTOWFv2 input:
// MD4 of the UTF-16LE password), the packed context (it holds the session keys), the envelope
// key, and the tokens' bytes, each searched as hex, base64 and any 12-byte window of them.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');

function forms(hex: string): string[] {
  const b = Buffer.from(hex, 'hex');
  const out: string[] = [];
  for (let i = 0; i + 12 <= b.length; i += 4) {
    const w = b.subarray(i, i + 12);
    out.push(w.toString('hex'), w.toString('hex').toUpperCase(), w.toString('base64').slice(0, 14));
  }
  return out;
}

describe('NODE_DEBUG=sspi-context', () => {
  let r: ReturnType<typeof spawnSync<string>>;
  beforeAll(() => {
    const env = { ...process.env, NODE_DEBUG: 'sspi-context', SSPI_CONTEXT_BACKEND: 'fallback' };
    const args = [resolve(__dirname, 'canary.cjs'), resolve(root, 'dist/index.js'), resolve(root, 'dist/fallback/md4.js')];
    r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  });

  it('logs the handshake legs and the package choice', () => {
    expect(r.status, r.stderr).toBe(0);
    const log = r.stderr;
    expect(log).toMatch(/SSPI-CONTEXT \d+: AcquireCredentialsHandleW: package Negotiate, use outbound, explicit identity, backend fallback/);
    expect(log).toMatch(/InitializeSecurityContextW leg 1 \(Negotiate\): SEC_I_CONTINUE_NEEDED, 0-byte token in, \d+-byte token out/);
    expect(log).toMatch(/AcceptSecurityContext leg 2 \(Negotiate\): SEC_E_OK, \d+-byte token in, \d+-byte token out, established/);
    expect(log).toMatch(/InitializeSecurityContextW leg 3 \(Negotiate\): SEC_E_OK, \d+-byte token in, 0-byte token out, established/);
    expect(log).toMatch(/AcceptSecurityContext: established under NTLM \(credential package Negotiate\)/);
  });

  it('never logs the password, the NT hash, the packed context, the envelope key or token bytes', () => {
    const { password, ntHash, packed, envelopeKey, childLog, tokens } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const log = r.stderr + childLog;
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(password);
    expect(log).not.toContain(Buffer.from(password, 'utf16le').toString('latin1'));
    const found = [ntHash, packed, envelopeKey, ...tokens].flatMap(forms).filter((f) => log.includes(f));
    expect(found).toEqual([]);
  });
});
