// Second Windows process of handoff.test.mjs: adopts the duplicated token, imports the
// context through ImportSecurityContextW, and reports every step to the parent.
import { backend, binding } from './helpers.mjs';

process.once('message', async (m) => {
  const out = { pid: process.pid, steps: {} };
  try {
    const token = backend.adoptToken(BigInt(m.token));
    out.steps.tokenSid = binding.processUserSid() && token.value > 0n ? 'ok' : 'bad';
    const ctx = await backend.importSecurityContext(m.packageName, Buffer.from(m.packed, 'base64'));
    const ctxWithToken = await backend.importSecurityContext(m.packageName, Buffer.from(m.packed2, 'base64'), token);
    out.steps.imported = true;
    out.clientName = backend.queryContextAttributes(ctxWithToken, 'names').clientName;
    backend.verifySignature(ctxWithToken, Buffer.from(m.msg, 'base64'), Buffer.from(m.sig, 'base64'));
    out.steps.verified = true;
    out.plaintext = backend.decryptMessage(ctxWithToken, Buffer.from(m.sealed, 'base64')).toString();
    out.threadBefore = binding.threadTokenSid();
    backend.impersonateSecurityContext(ctxWithToken);
    try {
      out.threadDuring = binding.threadTokenSid();
      out.userDuring = binding.userName();
    } finally {
      backend.revertSecurityContext(ctxWithToken);
    }
    out.threadAfter = binding.threadTokenSid();
    out.processSid = binding.processUserSid();
    const q = backend.querySecurityContextToken(ctxWithToken);
    out.queriedSid = (await import('./helpers.mjs')).binding && q.value > 0n;
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
