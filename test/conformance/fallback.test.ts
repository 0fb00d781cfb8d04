// The conformance suite against the pure-TypeScript NTLM package.
import { createRequire } from 'node:module';
import { describe, it } from 'vitest';
// @ts-expect-error plain JS module shared with the Wine runner
import { runConformance } from './suite.mjs';

const require = createRequire(import.meta.url);
const apiPath = require.resolve('../../dist/index.js');
const api = require(apiPath);
api.setBackend('fallback');

const identity = { user: 'alice', domain: 'CONTOSO', password: 'Passw0rd!conformance' };

for (const packageName of ['NTLM', 'Negotiate']) {
  runConformance({
    describe,
    it,
    api,
    options: {
      apiPath,
      packageName,
      identity,
      target: 'HOST/localhost',
      serverCredentials: { users: [{ domain: identity.domain, user: identity.user, password: identity.password }] },
      // The child process picks the fallback through the same switch users have.
      childEnv: { SSPI_CONTEXT_BACKEND: 'fallback' },
      // Negotiate here always selects NTLM, so its contexts export (and import) as NTLM.
      expect: { names: true, exportImport: true, impersonate: false, unsupportedImpersonationMessage: /Windows/, heldBy: 'NTLM' },
      truncationStride: 1,
    },
  });
}
