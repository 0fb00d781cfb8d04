// The SSPI status report (test/windows/sspi-report.mjs) that the windows-latest job uploads:
// it runs here against Wine's NTLM and the test provider, so the report the real run
// produces is known to be complete and well-formed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasProvider } from './helpers.mjs';

const SCRIPT = fileURLToPath(new URL('../windows/sspi-report.mjs', import.meta.url));

it('the SSPI report records every call per package', { skip: hasProvider() ? false : 'the SspiTest provider is not registered' }, () => {
  const out = join(tmpdir(), `sspi-report-${process.pid}.json`);
  try {
    execFileSync(process.execPath, [SCRIPT, out, 'NTLM,SspiTestNego'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const report = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(Object.keys(report.packages), ['NTLM', 'SspiTestNego']);
    const byCall = (pkg) => Object.fromEntries(report.packages[pkg].calls.map((c) => [c.call, c]));
    const nego = byCall('SspiTestNego');
    assert.equal(nego['AcceptSecurityContext leg 1'].status, 'SEC_E_OK');
    assert.deepEqual(nego['export({ deleteOld: true })'].value, { packageName: 'SspiTest', credentialPackage: 'SspiTestNego', bufferType: 2, token: true });
    assert.equal(nego['ImportSecurityContextW(SspiTestNego) without token'].status, 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.deepEqual(nego['importContext(exported)'].value, { packageName: 'SspiTest' });
    assert.equal(nego['imported names'].value.clientName, 'TESTDOM\\alice');
    assert.equal(nego['imported: close() inside impersonate, thread token after'].value, null);
    assert.equal(nego['thread token after impersonate()'].value, null);
    assert.equal(nego['CloseHandle failures during export/import'].value, 0);
    // Wine's NTLM: export and names are unsupported (shared/wine/README.md); recorded, not hidden.
    const ntlm = byCall('NTLM');
    assert.equal(ntlm['QueryContextAttributesW(names) server'].status, 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.equal(ntlm['export({ deleteOld: true })'].status, 'SEC_E_UNSUPPORTED_FUNCTION');
  } finally {
    rmSync(out, { force: true });
  }
});
