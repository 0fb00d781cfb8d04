// Cross-process handoff through the real secur32 dispatch with the test provider:
// process A exports (ExportSecurityContext), duplicates the token into process B
// (OpenProcess + DuplicateHandle), B (a forked Windows node.exe) imports it
// (ImportSecurityContextW), verifies, unseals, impersonates, reverts and closes.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXPORT_DELETE_OLD, assertProviderToken, backend, binding, establishPublic, handshake, hasProvider, providerIdentity, throwsCode } from './helpers.mjs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const CHILD = fileURLToPath(new URL('./handoff-child.mjs', import.meta.url));
const skip = hasProvider() ? false : 'the SspiTest provider is not registered';

function startChild(env) {
  const p = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, ...env } });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const messages = [];
  let wake = () => {};
  p.on('message', (m) => {
    messages.push(m);
    wake();
  });
  const next = () =>
    new Promise((resolve, reject) => {
      const tick = () => (messages.length ? resolve(messages.shift()) : null);
      wake = tick;
      p.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      tick();
    });
  return { p, next };
}

describe('handoff to a second Windows process (SspiTest)', { skip }, () => {
  it('export → DuplicateHandle → fork → import → verify/unseal → impersonate → close', async () => {
    const log = join(tmpdir(), `sspitest-${process.pid}.log`);
    rmSync(log, { force: true });
    const h = await handshake('SspiTest', { identity: providerIdentity });
    const { p, next } = startChild({ SSPITEST_LOG: log });
    try {
      const ready = await next();
      assert.equal(ready.ready, true);
      assert.notEqual(ready.pid, process.pid);

      const msg = Buffer.from('signed by the client');
      const sig = backend.makeSignature(h.cc, msg);
      const sealed = backend.encryptMessage(h.cc, Buffer.from('sealed by the client'));
      // One export without moving the context, then the real move (DELETE_OLD).
      const copy = await backend.exportSecurityContext(h.sc, 0);
      copy.token?.close();
      const exp = await backend.exportSecurityContext(h.sc, EXPORT_DELETE_OLD);
      assert.ok(exp.token, 'the export returned a token');
      // Under Wine every token has the process user's SID (shared/wine/PROVIDER.md).
      const exportedSid = binding.processUserSid();
      const remote = backend.duplicateTokenToProcess(exp.token, ready.pid);
      assert.ok(remote > 0n);
      exp.token.close();
      throwsCode(() => backend.makeSignature(h.sc, msg), 'SEC_E_INVALID_HANDLE');

      p.send({
        packageName: 'SspiTest',
        bufferType: exp.bufferType,
        packed: copy.packed.toString('base64'),
        packed2: exp.packed.toString('base64'),
        token: remote.toString(),
        msg: msg.toString('base64'),
        sig: sig.toString('base64'),
        sealed: sealed.toString('base64'),
      });
      const res = await next();
      assert.equal(res.error, undefined, res.error);
      assert.equal(res.pid, ready.pid);
      assert.equal(res.steps.imported, true);
      assert.equal(res.steps.verified, true);
      assert.equal(res.tokenSid, exportedSid, 'the duplicated handle is the exported token in the child');
      assert.equal(res.queriedSid, exportedSid, 'QuerySecurityContextToken gives the imported token');
      assert.equal(res.clientName, 'TESTDOM\\alice');
      assert.equal(res.plaintext, 'sealed by the client');
      assert.equal(res.threadBefore, null, 'no thread token before');
      assert.ok(res.threadDuring, 'a thread token while impersonating');
      assert.equal(res.threadDuring.sid, exportedSid, 'the thread carries the imported token');
      assertProviderToken(res.threadDuring, res.processPrivileges);
      assert.equal(res.threadAfter, null, 'thread token gone after revert');
      assert.equal(res.closeHandleFailures, 0);
      assert.equal(res.noTokenImpersonation, 'SEC_E_NO_IMPERSONATION');
      assert.equal(res.afterClose, 'SEC_E_INVALID_HANDLE');
      assert.equal(res.processSid, binding.processUserSid());
      // The child's reply, sealed with the imported context, reaches the client.
      assert.equal(backend.decryptMessage(h.cc, Buffer.from(res.reply, 'base64')).toString(), 'reply from the child');

      // The provider log proves the calls reached the provider in each process.
      assert.ok(existsSync(log), 'SSPITEST_LOG written');
      const lines = readFileSync(log, 'latin1').split(/\r?\n/);
      assert.ok(lines.includes(`${ready.pid} ImportSecurityContextW 0x00000000`), lines.join('\n'));
      assert.ok(lines.includes(`${ready.pid} ImpersonateSecurityContext 0x00000000`));
      assert.ok(lines.includes(`${ready.pid} RevertSecurityContext 0x00000000`));
    } finally {
      h.close();
      p.kill();
      rmSync(log, { force: true });
    }
  });

  it('public API: a context negotiated with SspiTestNego exports as SspiTest; a second process imports it, names alice, unseals, impersonates the imported token', async () => {
    const api = createRequire(import.meta.url)('../../dist/index.js');
    api.setBackend(backend);
    const h = await establishPublic(api, 'SspiTestNego', { identity: providerIdentity });
    const { p, next } = startChild({});
    try {
      const ready = await next();
      const sealed = h.c.encrypt(Buffer.from('sealed before the handoff'));
      assert.equal(h.s.negotiatedPackage, 'SspiTest');
      const exported = await h.s.export({ deleteOld: true });
      assert.equal(exported.packageName, 'SspiTest');
      assert.equal(exported.credentialPackage, 'SspiTestNego');
      assert.equal(exported.bufferType, 2, 'the provider marks its packed buffer SECBUFFER_TOKEN');
      const key = randomBytes(32);
      const envelope = api.encodeHandoff(exported, { key, targetPid: ready.pid });
      exported.dispose();
      p.send({ publicApi: true, envelope: envelope.toString('base64'), key: key.toString('base64'), sealed: sealed.toString('base64') });
      const res = await next();
      assert.equal(res.error, undefined, res.error);
      assert.equal(res.packageName, 'SspiTest', 'imported under the package that holds the context');
      assert.equal(res.clientName, 'TESTDOM\\alice');
      assert.equal(res.plaintext, 'sealed before the handoff');
      assert.ok(res.threadDuring, 'impersonating in the child');
      assertProviderToken(res.threadDuring, res.processPrivileges);
      assert.equal(res.threadAfterClose, null, 'closing inside impersonate() left no thread token');
      assert.equal(res.closeHandleFailures, 0);
      assert.equal(h.c.decrypt(Buffer.from(res.reply, 'base64')).toString(), 'reply from the child');
    } finally {
      h.close();
      p.kill();
    }
  });

  it('DuplicateHandle into a process that does not exist: SspiError', async () => {
    const h = await handshake('SspiTest', { identity: providerIdentity });
    try {
      const exp = await backend.exportSecurityContext(h.sc, 0);
      assert.throws(() => backend.duplicateTokenToProcess(exp.token, 0x7ffffff0), (e) => e.code === 'SEC_E_INVALID_HANDLE' && e.operation === 'OpenProcess');
      exp.token.close();
    } finally {
      h.close();
    }
  });
});
