// Second Windows process of handoff.test.mjs: adopts the duplicated token, imports the
// context through ImportSecurityContextW, and reports every step to the parent.
import { createRequire } from 'node:module';
import { backend, binding } from './helpers.mjs';

// The same handoff through the public API: importContext of an envelope.
async function publicApi(m) {
  const api = createRequire(import.meta.url)('../../dist/index.js');
  api.setBackend(backend);
  const ctx = await api.importContext(Buffer.from(m.envelope, 'base64'), { key: Buffer.from(m.key, 'base64') });
  const out = { pid: process.pid, packageName: ctx.packageName, clientName: ctx.names.clientName };
  out.plaintext = ctx.decrypt(Buffer.from(m.sealed, 'base64')).toString();
  out.threadDuring = ctx.impersonate(() => binding.threadTokenInfo());
  out.processPrivileges = binding.processPrivileges();
  out.reply = ctx.encrypt(Buffer.from('reply from the child')).toString('base64');
  ctx.impersonate(() => ctx.close());
  out.threadAfterClose = binding.threadTokenInfo();
  out.closeHandleFailures = binding.closeHandleFailures();
  return out;
}

process.once('message', async (m) => {
  if (m.publicApi) {
    let out;
    try {
      out = await publicApi(m);
    } catch (e) {
      out = { error: `${e?.constructor?.name}: ${e?.code ?? ''} ${e?.message}` };
    }
    process.send(out, () => process.exit(0));
    return;
  }
  const out = { pid: process.pid, steps: {} };
  try {
    const token = backend.adoptToken(BigInt(m.token));
    out.tokenSid = token.userSid();
    const ctx = await backend.importSecurityContext(m.packageName, Buffer.from(m.packed, 'base64'), undefined, m.bufferType);
    const ctxWithToken = await backend.importSecurityContext(m.packageName, Buffer.from(m.packed2, 'base64'), token, m.bufferType);
    out.steps.imported = true;
    out.clientName = backend.queryContextAttributes(ctxWithToken, 'names').clientName;
    backend.verifySignature(ctxWithToken, Buffer.from(m.msg, 'base64'), Buffer.from(m.sig, 'base64'));
    out.steps.verified = true;
    out.plaintext = backend.decryptMessage(ctxWithToken, Buffer.from(m.sealed, 'base64')).toString();
    out.threadBefore = binding.threadTokenInfo();
    backend.impersonateSecurityContext(ctxWithToken);
    try {
      out.threadDuring = binding.threadTokenInfo();
    } finally {
      backend.revertSecurityContext(ctxWithToken);
    }
    out.threadAfter = binding.threadTokenInfo();
    out.processSid = binding.processUserSid();
    out.processPrivileges = binding.processPrivileges();
    const q = backend.querySecurityContextToken(ctxWithToken);
    out.queriedSid = q.userSid();
    q.close();
    out.reply = backend.encryptMessage(ctxWithToken, Buffer.from('reply from the child')).toString('base64');
    // The token-less import has no token: impersonation is refused.
    try {
      backend.impersonateSecurityContext(ctx);
      out.noTokenImpersonation = 'SEC_E_OK';
      backend.revertSecurityContext(ctx);
    } catch (e) {
      out.noTokenImpersonation = e.code;
    }
    backend.deleteSecurityContext(ctx);
    backend.deleteSecurityContext(ctxWithToken);
    backend.deleteSecurityContext(ctxWithToken);
    token.close();
    out.closeHandleFailures = binding.closeHandleFailures();
    try {
      backend.makeSignature(ctxWithToken, Buffer.from('x'));
    } catch (e) {
      out.afterClose = e.code;
    }
  } catch (e) {
    out.error = `${e?.constructor?.name}: ${e?.code ?? ''} ${e?.message}`;
  }
  process.send(out, () => process.exit(0));
});
process.send({ ready: true, pid: process.pid });
