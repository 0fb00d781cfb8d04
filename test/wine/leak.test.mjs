// Leaks: acquire → handshake → export → import → close, many times in one Windows process.
// The handle count (GetProcessHandleCount; under Wine, where it is always 0, a probe of
// every handle value) and the RSS must stay flat. SSPI_LEAK_CYCLES sets the count
// (default 10000 with the test provider; Wine's NTLM runs ntlm_auth per handshake, so it
// gets a smaller SSPI_LEAK_NTLM_CYCLES, default 100).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { EXPORT_DELETE_OLD, backend, binding, establishPublic, handleCount, handshake, hasProvider, ntlmIdentity, providerIdentity } from './helpers.mjs';

const api = createRequire(import.meta.url)('../../dist/index.js');
api.setBackend(backend);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
};
const CYCLES = Number(process.env.SSPI_LEAK_CYCLES ?? 10000);
const NTLM_CYCLES = Number(process.env.SSPI_LEAK_NTLM_CYCLES ?? 100);
const msg = Buffer.from('leak check');

async function providerCycle(forget) {
  const h = await handshake('SspiTest', { identity: providerIdentity });
  const exp = await backend.exportSecurityContext(h.sc, EXPORT_DELETE_OLD);
  const ctx = await backend.importSecurityContext('SspiTest', exp.packed, exp.token, exp.bufferType);
  backend.verifySignature(ctx, msg, backend.makeSignature(h.cc, msg));
  const token = backend.querySecurityContextToken(ctx);
  if (forget) return; // leave everything to the finalizers
  token.close();
  exp.token.close();
  backend.deleteSecurityContext(ctx);
  h.close();
}

function report(name, before, after, cycles, ms) {
  // Shown in the runner's output (diagnostic lines) and kept in the note.
  const line = `${name}: ${cycles} cycles in ${ms} ms; handles ${before.handles} -> ${after.handles} ` +
    `(GetProcessHandleCount ${before.reported} -> ${after.reported}); rss ${(before.rss / 2 ** 20).toFixed(1)} -> ${(after.rss / 2 ** 20).toFixed(1)} MiB; ` +
    `outside the V8 heap ${(before.native / 2 ** 20).toFixed(1)} -> ${(after.native / 2 ** 20).toFixed(1)} MiB; heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB`;
  return line;
}
const snapshot = () => {
  const m = process.memoryUsage();
  // RSS outside V8's heap is where a native leak shows; V8 grows its young generation on its own.
  return { handles: handleCount(), reported: binding.processHandleCount(), rss: m.rss, native: m.rss - m.heapTotal, heapUsed: m.heapUsed };
};

// Handles are released when the code says so, not when the garbage collector runs:
// these loops never call gc(), and only yield to the event loop.
const HANDOFF_CYCLES = Number(process.env.SSPI_HANDOFF_CYCLES ?? 1000);
const publicCycle = async (viaEnvelope) => {
  const h = await establishPublic(api, 'SspiTestNego', { identity: providerIdentity });
  const sealed = h.c.encrypt(msg);
  const exported = await h.s.export({ deleteOld: true });
  let ctx;
  if (viaEnvelope) {
    const key = randomBytes(32);
    const envelope = api.encodeHandoff(exported, { key, targetPid: process.pid });
    exported.dispose();
    ctx = await api.importContext(envelope, { key });
  } else {
    ctx = await api.importContext(exported);
  }
  assert.deepEqual(ctx.decrypt(sealed), msg);
  ctx.close();
  h.close();
};

describe('deterministic release (no gc)', { skip: hasProvider() ? false : 'no SspiTest provider' }, () => {
  for (const viaEnvelope of [false, true]) {
    it(`${HANDOFF_CYCLES} ${viaEnvelope ? 'envelope' : 'in-process'} export/import/close cycles keep the handle count flat without gc()`, { timeout: 20 * 60_000 }, async (t) => {
      for (let i = 0; i < 20; i++) await publicCycle(viaEnvelope);
      await new Promise((r) => setImmediate(r));
      const failures = binding.closeHandleFailures();
      const before = handleCount();
      const start = Date.now();
      for (let i = 0; i < HANDOFF_CYCLES; i++) await publicCycle(viaEnvelope);
      await new Promise((r) => setImmediate(r));
      const after = handleCount();
      t.diagnostic(`${viaEnvelope ? 'envelope' : 'in-process'}: ${HANDOFF_CYCLES} cycles in ${Date.now() - start} ms; handles ${before} -> ${after}`);
      assert.ok(after <= before + 4, `handles ${before} -> ${after}`);
      assert.equal(binding.closeHandleFailures(), failures, 'no CloseHandle of the addon failed');
    });
  }
});

describe('leaks', () => {
  it(`SspiTest: ${CYCLES} cycles of acquire → handshake → export → import → close leave handles and RSS flat`, { skip: hasProvider() ? false : 'no SspiTest provider', timeout: 30 * 60_000 }, async (t) => {
    // The counter sees one token handle come and go.
    const h = await handshake('SspiTest', { identity: providerIdentity });
    const base = handleCount();
    const token = backend.querySecurityContextToken(h.sc);
    assert.equal(handleCount(), base + 1, 'the handle counter sees a new handle');
    token.close();
    assert.equal(handleCount(), base);
    h.close();
    for (let i = 0; i < 200; i++) await providerCycle(false); // warm-up: caches, heaps, JIT
    await settle();
    const before = snapshot();
    const start = Date.now();
    for (let i = 0; i < CYCLES; i++) await providerCycle(false);
    await settle();
    const after = snapshot();
    t.diagnostic(report('SspiTest', before, after, CYCLES, Date.now() - start));
    assert.ok(after.handles <= before.handles + 5, `handles ${before.handles} -> ${after.handles}`);
    assert.equal(binding.closeHandleFailures(), 0, 'no CloseHandle of the addon failed');
    assert.ok(after.heapUsed - before.heapUsed < 4 * 2 ** 20, `live JS heap grew ${after.heapUsed - before.heapUsed} bytes`);
    assert.ok(after.rss - before.rss < 48 * 2 ** 20, `rss grew ${after.rss - before.rss}`);
  });

  it('SspiTest: forgotten handles are freed by the finalizers', { skip: hasProvider() ? false : 'no SspiTest provider' }, async (t) => {
    for (let i = 0; i < 50; i++) await providerCycle(true);
    await settle();
    const before = snapshot();
    for (let i = 0; i < 500; i++) await providerCycle(true);
    await settle();
    await settle();
    const after = snapshot();
    t.diagnostic(report('SspiTest forgotten', before, after, 500, 0));
    assert.ok(after.handles <= before.handles + 20, `handles ${before.handles} -> ${after.handles}`);
  });

  it(`NTLM: ${NTLM_CYCLES} cycles of acquire → handshake → sign → close leave handles flat`, async (t) => {
    const cycle = async () => {
      const h = await handshake('NTLM', { identity: ntlmIdentity });
      backend.makeSignature(h.cc, msg);
      backend.queryContextAttributes(h.sc, 'sizes');
      h.close();
    };
    for (let i = 0; i < 10; i++) await cycle();
    await settle();
    const before = snapshot();
    const start = Date.now();
    for (let i = 0; i < NTLM_CYCLES; i++) await cycle();
    await settle();
    const after = snapshot();
    t.diagnostic(report('NTLM', before, after, NTLM_CYCLES, Date.now() - start));
    assert.ok(after.handles <= before.handles + 5, `handles ${before.handles} -> ${after.handles}`);
  });
});
