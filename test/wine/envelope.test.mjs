// The envelope path through the public API with a real token (test provider): the import
// gives the package its own duplicate (which the package keeps and closes at
// DeleteSecurityContext, as Windows' NTLM does) and closes the envelope's handle at once;
// a refused (expired) envelope closes it at once too. Handle counts prove both.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { backend, binding, establishPublic, handleCount, hasProvider, providerIdentity } from './helpers.mjs';

const api = createRequire(import.meta.url)('../../dist/index.js');
api.setBackend(backend);
const skip = hasProvider() ? false : 'no SspiTest provider';

const established = () => establishPublic(api, 'SspiTest', { identity: providerIdentity });

describe('handoff envelope with a token (public API)', () => {
  it('a good import hands the package its own copy and closes the envelope handle; the package closes its copy at delete', { skip }, async () => {
    const h = await established();
    const exported = await h.s.export({ deleteOld: true });
    const base = handleCount();
    const key = randomBytes(32);
    const envelope = api.encodeHandoff(exported, { key });
    assert.equal(handleCount(), base + 1, 'the token was duplicated into this process');
    exported.dispose();
    assert.equal(handleCount(), base, 'the exporter closed its own token');
    const ctx = await api.importContext(envelope, { key });
    // The envelope's handle is closed; the copy the package keeps replaces it.
    assert.equal(handleCount(), base, 'one token handle: the copy the package keeps');
    assert.equal(ctx.names.clientName, 'TESTDOM\\alice');
    ctx.close();
    assert.equal(handleCount(), base - 1, 'DeleteSecurityContext: the package closed its copy');
    assert.equal(binding.closeHandleFailures(), 0, 'no CloseHandle of the addon failed');
    h.close();
  });

  it('an expired envelope is refused with SEC_E_CONTEXT_EXPIRED and its token is closed', { skip }, async () => {
    const h = await established();
    const exported = await h.s.export();
    const base = handleCount();
    const key = randomBytes(32);
    const envelope = api.encodeHandoff(exported, { key, ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(api.importContext(envelope, { key }), (e) => e instanceof api.SspiError && e.code === 'SEC_E_CONTEXT_EXPIRED');
    assert.equal(handleCount(), base, 'the refused envelope left no handle behind');
    exported.dispose();
    h.close();
  });
});
