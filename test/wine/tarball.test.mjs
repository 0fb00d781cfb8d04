// The packed tarball, installed into an empty project (scripts/wine/tarball-project.sh lays it
// out on the Linux side; npm cannot run under Wine), loads its prebuild in Windows node.exe by
// itself: no SSPI_CONTEXT_ADDON, no build/ folder, only prebuilds/win32-x64/. Then a loopback
// NTLM handshake through the public API (Wine's NTLM, scripts/wine/shim/ntlm_auth).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// A Linux path from the shell script; under Wine, / is drive Z:.
const raw = process.env.SSPI_TARBALL_PROJECT;
const project = raw && process.env.SSPI_WINE === '1' && raw.startsWith('/') ? `Z:${raw}` : raw;
const skip = !project || !existsSync(join(project, 'node_modules', 'sspi-context'))
  ? 'no installed tarball: SSPI_TARBALL_PROJECT is set by npm run test:wine (scripts/wine/tarball-project.sh)'
  : false;

describe('the installed tarball', { skip }, () => {
  it('loads prebuilds/win32-x64 through node-gyp-build with no SSPI_CONTEXT_ADDON and completes a handshake', async () => {
    const child = join(project, 'tarball-child.cjs');
    copyFileSync(fileURLToPath(new URL('./tarball-child.cjs', import.meta.url)), child);
    const env = { ...process.env };
    delete env.SSPI_CONTEXT_ADDON;
    delete env.SSPI_CONTEXT_BACKEND;
    delete env.SSPI_CONTEXT_PREBUILD;
    const p = fork(child, [], { cwd: project, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const result = await new Promise((resolve, reject) => {
      p.once('message', resolve);
      p.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
    });
    p.kill();
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result, {
      backend: 'native',
      established: true,
      // NTLMSSP NEGOTIATE, CHALLENGE, AUTHENTICATE (MS-NLMP 2.2.1).
      messageTypes: [1, 2, 3],
      addonEnv: null,
      hasBuildDir: false,
      prebuilds: ['sspi-context.node'],
    });
  });
});
