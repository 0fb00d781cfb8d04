import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'sspi-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, input, encoding: 'utf8', env: { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sspi-context CLI', () => {
  it('status explains a code by number or name, with its counterpart', () => {
    const a = run(['status', '0x8009030C']);
    expect(a.code).toBe(0);
    expect(a.out).toContain('SEC_E_LOGON_DENIED (0x8009030C)');
    expect(a.out).toMatch(/severity:\s+error/);
    expect(a.out).toContain('STATUS_LOGON_FAILURE (0xC000006D)');
    const b = run(['status', 'STATUS_NOT_SUPPORTED']);
    expect(b.out).toContain('SEC_E_UNSUPPORTED_FUNCTION (0x80090302)');
    expect(run(['status', '-2146893048']).out).toContain('SEC_E_INVALID_TOKEN');
  });

  it('inspect shows the header of an envelope, and never its key or context bytes', async () => {
    const packed = Buffer.from('0123456789abcdef-secret-packed-context');
    const key = Buffer.alloc(32, 9);
    const env = api.encodeHandoff(new api.ExportedContext('NTLM', packed), { key, targetPid: 4321, ttlMs: 60_000 });
    const file = join(dir, 'env.bin');
    writeFileSync(file, env);
    const r = run(['inspect', file]);
    expect(r.code).toBe(0);
    const id = api.decodeHandoff(env, { headerOnly: true }).header.id;
    for (const want of ['handoff envelope v2', 'NTLM', id, 'yes (AES-256-GCM)', `source pid:  ${process.pid}`, 'target pid:  4321', `packed context ${packed.length} bytes`]) {
      expect(r.out).toContain(want);
    }
    expect(r.out).not.toContain(packed.toString());
    // base64 text on stdin, and JSON output
    const j = run(['inspect', '-', '--json'], Buffer.from(env.toString('base64')));
    expect(j.code).toBe(0);
    const header = JSON.parse(j.out);
    expect(header).toMatchObject({ version: 2, sealed: true, packageName: 'NTLM', targetPid: 4321, id });
    expect(j.out).not.toContain(packed.toString('base64'));
  });

  it('packages lists the backend and its packages', () => {
    const r = run(['packages']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('backend: fallback');
    expect(r.out).toMatch(/NTLM/);
  });

  it('errors are one line with a non-zero exit; --help comes from the parser', () => {
    const bad = run(['status', 'NOPE']);
    expect(bad.code).not.toBe(0);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, 'not an envelope');
    const g = run(['inspect', garbage]);
    expect(g.code).not.toBe(0);
    expect(g.err.trim()).toMatch(/^sspi-context: not an envelope: /);
    expect(g.err.trim().split('\n')).toHaveLength(1);
    const missing = run(['inspect', join(dir, 'nope')]);
    expect(missing.code).not.toBe(0);
    expect(missing.err.trim()).toBe(`sspi-context: cannot read ${join(dir, 'nope')}: ENOENT`);
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const verb of ['status', 'inspect', 'packages', 'demo']) expect(help.out).toContain(verb);
    expect(run(['frobnicate']).code).not.toBe(0);
  });

  it('no arguments: the help on stdout and a non-zero exit', () => {
    const r = run([]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Usage: sspi-context /);
    for (const verb of ['status', 'inspect', 'packages', 'demo']) expect(r.out).toContain(verb);
  });

  it('status of a number beyond 32 bits is an error, not its low bits', () => {
    for (const code of ['12345678901234567890', '4294967296', '-2147483649']) {
      const r = run(['status', code]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.trim()).toBe(`sspi-context: not a status: ${code} is outside the 32-bit range`);
    }
    expect(run(['status', '4294967295']).code).toBe(1); // 0xFFFFFFFF: in range, just unknown
    expect(run(['status', '4294967295']).err).toMatch(/unknown status: 4294967295 \(0xFFFFFFFF\)/);
  });

  it('inspect of a short text file (which would decode as base64 or hex) is "not an envelope"', () => {
    for (const [name, text] of [['word.txt', 'hello\n'], ['hex.txt', 'abcd\n'], ['b64.txt', 'aGVsbG8gd29ybGQ=']]) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = run(['inspect', file]);
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(`sspi-context: not an envelope: ${file} does not start with the handoff magic (binary, base64 or hex)`);
    }
  });

  it('demo runs the whole handoff and exits 0', () => {
    const out = execFileSync(process.execPath, [cli, 'demo'], { cwd: root, encoding: 'utf8', env: { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' } });
    expect(out).toContain('imported a NTLM context for CONTOSO\\alice');
    expect(out).toContain('"sealed by the client before the handoff"');
    expect(out.trim().split('\n').pop()).toBe('demo: OK');
  });
});
