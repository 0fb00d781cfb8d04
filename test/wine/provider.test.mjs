// The test provider's contracts (test/wine/provider/README.md) through secur32 and the
// addon's low-level binding: the behaviours the provider models on Windows packages, each
// checked so that a provider that does otherwise fails. probe.exe checks the same provider
// without the addon. Skipped where SspiTest is not registered (windows-latest).
//
// Checks that need binding features of issue 10 (the packed buffer's type on export/import,
// SECPKG_ATTR_NEGOTIATION_INFO, threadTokenInfo) skip, with the reason, on a binding without them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ASC_FLAGS, EXPORT_DELETE_OLD, EXPORT_RESET_NEW, ISC_FLAGS, SEC_E_OK, SEC_I_CONTINUE_NEEDED, SspiError, TOKEN,
  binding, handleCount, hasProvider, providerIdentity,
} from './helpers.mjs';

const skip = hasProvider() ? false : 'the SspiTest provider is not registered';
const INNER = 'SspiTest';
const NEGO = 'SspiTestNego';
const NTLM_TARGET = 'HOST/server.example';
const KRB_TARGET = 'KRB/server.example'; // "krb/" in any case selects the Kerberos-like profile
const SECBUFFER_EXTRA = 5;
const SECBUFFER_EMPTY = 0;
const SECBUFFER_TOKEN = TOKEN;
const EXPORT_TO_KERNEL = 4;
const ATTR = { SIZES: 0, NAMES: 1, LIFESPAN: 2, PACKAGE_INFO: 10, NEGOTIATION_INFO: 12, NATIVE_NAMES: 13, FLAGS: 14 };
// SecPkgContext_NegotiationInfoW.NegotiationState ([M8]).
const NEGOTIATION_COMPLETE = 0;
const NEGOTIATION_IN_PROGRESS = 2;
const ALICE = 'TESTDOM\\alice';
const msg = Buffer.from('the quick brown fox'); // odd length: a short Kerberos-like token, 5 bytes of padding
const even = Buffer.from('sixteen bytes!!!');

function identity(password = providerIdentity.password) {
  return { user: providerIdentity.user, domain: providerIdentity.domain, password: Buffer.from(password, 'utf16le') };
}

/**
 * A loopback handshake on the binding. `onClientStep(ctx)` runs after every client step.
 * Returns both contexts, the statuses in order and the output token length of each step.
 */
async function establish(pkg, { target = NTLM_TARGET, password, iflags = ISC_FLAGS, aflags = ASC_FLAGS, onClientStep } = {}) {
  const { cred: cc } = await binding.acquireCredentialsHandle(pkg, 2, identity(password));
  const { cred: sc } = await binding.acquireCredentialsHandle(pkg, 1, null);
  const c = new binding.Context();
  const s = new binding.Context();
  const statuses = [];
  const outputs = [];
  const close = () => [c, s, cc, sc].forEach((h) => h.close());
  try {
    let input = [];
    for (let i = 0; i < 4; i++) {
      const r = await binding.initializeSecurityContext(cc, c, target, iflags, input);
      statuses.push(r.status);
      outputs.push(r.output[0].buffer.length);
      onClientStep?.(c, r);
      if (r.output[0].buffer.length === 0) break;
      const a = await binding.acceptSecurityContext(sc, s, aflags, [{ type: TOKEN, buffer: r.output[0].buffer }]);
      statuses.push(a.status);
      outputs.push(a.output[0].buffer.length);
      if (a.output[0].buffer.length === 0) break;
      input = [{ type: TOKEN, buffer: a.output[0].buffer }];
    }
  } catch (e) {
    close();
    throw e;
  }
  return { c, s, statuses, outputs, close };
}

async function withPair(pkg, opts, fn) {
  const h = await establish(pkg, opts);
  try {
    return await fn(h);
  } finally {
    h.close();
  }
}

function isSspiError(code, operation) {
  return (e) => {
    assert.ok(e instanceof SspiError, `expected SspiError, got ${e?.constructor?.name}: ${e?.message}`);
    if (code) assert.equal(e.code, code, e.message);
    if (operation) assert.equal(e.operation, operation);
    return true;
  };
}
const throwsCode = (fn, code, operation) => assert.throws(fn, isSspiError(code, operation));
const rejectsCode = (p, code, operation) => assert.rejects(p, isSspiError(code, operation));

/** NEGOTIATION_INFO through the binding, or null when the binding does not know attribute 12. */
function negotiationInfo(ctx) {
  try {
    return binding.queryContextAttributes(ctx, ATTR.NEGOTIATION_INFO);
  } catch (e) {
    if (e instanceof TypeError && /unsupported attribute/.test(e.message)) return null;
    throw e;
  }
}

async function bindingCarriesBufferType() {
  return withPair(INNER, {}, async (h) => {
    const exp = await binding.exportSecurityContext(h.c, 0);
    return typeof exp.bufferType === 'number';
  });
}

/** The binding's count of failed CloseHandle calls (a double close). */
const closeFailures = () => binding.closeHandleFailures();

const noBufferType = 'the binding does not report the packed buffer type on export (issue 10 item 5)';
const typedImport = hasProvider() && (await bindingCarriesBufferType()) ? false : noBufferType;
const noThreadTokenInfo = typeof binding.threadTokenInfo === 'function' ? false : 'the binding has no threadTokenInfo()';

describe('SspiTest provider: packages and handshakes', { skip }, () => {
  it('one DLL lists SspiTest and SspiTestNego, the negotiating one marked NEGOTIABLE', () => {
    const pkgs = binding.enumerateSecurityPackages();
    const inner = pkgs.find((p) => p.name === INNER);
    const nego = pkgs.find((p) => p.name === NEGO);
    assert.ok(inner && nego, 'both packages listed');
    const SECPKG_FLAG_NEGOTIABLE = 0x800;
    assert.equal(nego.capabilities & SECPKG_FLAG_NEGOTIABLE, SECPKG_FLAG_NEGOTIABLE);
    assert.equal(inner.capabilities & SECPKG_FLAG_NEGOTIABLE, 0);
  });

  it('SspiTest: CONTINUE, OK, OK; ISC/ASC_REQ_ALLOCATE_MEMORY gives the same', async () => {
    for (const alloc of [0, 0x100]) {
      await withPair(INNER, { iflags: ISC_FLAGS | alloc, aflags: ASC_FLAGS | alloc }, (h) => {
        assert.deepEqual(h.statuses, [SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK]);
      });
    }
  });

  it('SspiTestNego: a SPNEGO-like exchange whose final SEC_E_OK still carries a token', async () => {
    await withPair(NEGO, {}, (h) => {
      assert.deepEqual(h.statuses, [SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK]);
      assert.ok(h.outputs[3] > 0, 'the acceptor\'s SEC_E_OK step has an output token');
      assert.equal(h.outputs[4], 0, 'the initiator\'s last step has none');
    });
  });

  it('a wrong password: SEC_E_LOGON_DENIED from AcceptSecurityContext, in both packages', async () => {
    for (const pkg of [INNER, NEGO]) {
      await rejectsCode(establish(pkg, { password: 'nope' }), 'SEC_E_LOGON_DENIED', 'AcceptSecurityContext');
    }
  });

  it('SECBUFFER_EXTRA: unconsumed input bytes come back', async () => {
    const { cred: cc } = await binding.acquireCredentialsHandle(INNER, 2, identity());
    const { cred: sc } = await binding.acquireCredentialsHandle(INNER, 1, null);
    const c = new binding.Context();
    const s = new binding.Context();
    try {
      const r = await binding.initializeSecurityContext(cc, c, NTLM_TARGET, ISC_FLAGS, []);
      const tail = Buffer.from('next-record');
      const a = await binding.acceptSecurityContext(sc, s, ASC_FLAGS, [{ type: TOKEN, buffer: Buffer.concat([r.output[0].buffer, tail]) }]);
      const extra = a.output.find((b) => b.type === SECBUFFER_EXTRA);
      assert.ok(extra, 'SECBUFFER_EXTRA present');
      assert.deepEqual(extra.buffer, tail);
    } finally {
      [c, s, cc, sc].forEach((x) => x.close());
    }
  });
});

describe('SspiTest provider: context attributes', { skip }, () => {
  it('NAMES is TESTDOM\\alice on client and server; NATIVE_NAMES adds the target', async () => {
    for (const pkg of [INNER, NEGO]) {
      await withPair(pkg, {}, (h) => {
        assert.deepEqual(binding.queryContextAttributes(h.c, ATTR.NAMES), { clientName: ALICE });
        assert.deepEqual(binding.queryContextAttributes(h.s, ATTR.NAMES), { clientName: ALICE });
        assert.deepEqual(binding.queryContextAttributes(h.s, ATTR.NATIVE_NAMES), { clientName: ALICE, serverName: NTLM_TARGET });
      });
    }
  });

  it('SIZES: NTLM profile 16/16/0, Kerberos-like profile (target krb/...) a larger trailer and block size 8', async () => {
    await withPair(INNER, { target: NTLM_TARGET }, (h) => {
      for (const ctx of [h.c, h.s]) {
        assert.deepEqual(binding.queryContextAttributes(ctx, ATTR.SIZES), { cbMaxToken: 1024, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 });
      }
    });
    for (const target of [KRB_TARGET, 'krb/lower.example']) {
      await withPair(INNER, { target }, (h) => {
        for (const ctx of [h.c, h.s]) {
          const z = binding.queryContextAttributes(ctx, ATTR.SIZES);
          assert.ok(z.cbMaxSignature > 16 && z.cbSecurityTrailer > 16, JSON.stringify(z));
          assert.equal(z.cbBlockSize, 8);
        }
      });
    }
  });

  it('FLAGS: the requested bits granted, confidentiality for the server when the client asked for it', async () => {
    await withPair(INNER, {}, (h) => {
      assert.equal(binding.queryContextAttributes(h.c, ATTR.FLAGS), ISC_FLAGS);
      assert.equal(binding.queryContextAttributes(h.s, ATTR.FLAGS), ASC_FLAGS);
    });
    const CONFIDENTIALITY = 0x10;
    await withPair(INNER, { iflags: ISC_FLAGS & ~CONFIDENTIALITY }, (h) => {
      assert.equal(binding.queryContextAttributes(h.c, ATTR.FLAGS), ISC_FLAGS & ~CONFIDENTIALITY);
      assert.equal(binding.queryContextAttributes(h.s, ATTR.FLAGS), ASC_FLAGS & ~CONFIDENTIALITY);
    });
  });

  it('PACKAGE_INFO: SspiTestNego before completion, SspiTest once it completed; SspiTest on SspiTest', async () => {
    const early = [];
    await withPair(NEGO, { onClientStep: (c, r) => r.status !== SEC_E_OK && early.push(binding.queryContextAttributes(c, ATTR.PACKAGE_INFO).name) }, (h) => {
      assert.equal(binding.queryContextAttributes(h.c, ATTR.PACKAGE_INFO).name, INNER);
      assert.equal(binding.queryContextAttributes(h.s, ATTR.PACKAGE_INFO).name, INNER);
    });
    assert.deepEqual(early, [NEGO, NEGO]);
    await withPair(INNER, {}, (h) => {
      const info = binding.queryContextAttributes(h.s, ATTR.PACKAGE_INFO);
      assert.equal(info.name, INNER);
      assert.equal(info.maxToken, 1024);
    });
  });

  it('NEGOTIATION_INFO: SspiTest, IN_PROGRESS until complete, then COMPLETE', async (t) => {
    await withPair(INNER, {}, async (h) => {
      if (negotiationInfo(h.s) === null) return t.skip('the binding does not query SECPKG_ATTR_NEGOTIATION_INFO (issue 10 item 1)');
      const states = [];
      await withPair(NEGO, { onClientStep: (c) => states.push(negotiationInfo(c)) }, (n) => {
        assert.deepEqual(negotiationInfo(n.s), { packageName: INNER, state: NEGOTIATION_COMPLETE });
        assert.deepEqual(negotiationInfo(n.c), { packageName: INNER, state: NEGOTIATION_COMPLETE });
      });
      assert.deepEqual(states, [
        { packageName: INNER, state: NEGOTIATION_IN_PROGRESS },
        { packageName: INNER, state: NEGOTIATION_IN_PROGRESS },
        { packageName: INNER, state: NEGOTIATION_COMPLETE },
      ]);
      assert.deepEqual(negotiationInfo(h.s), { packageName: INNER, state: NEGOTIATION_COMPLETE });
    });
  });

  it('LIFESPAN ends in the future', async () => {
    await withPair(INNER, {}, (h) => {
      assert.ok(binding.queryContextAttributes(h.s, ATTR.LIFESPAN).expiry > Date.now());
    });
  });
});

describe('SspiTest provider: NTLM message profile', { skip }, () => {
  it('sign and seal both ways; a signature is 16 bytes', async () => {
    await withPair(INNER, {}, (h) => {
      for (let i = 0; i < 3; i++) {
        const sig = binding.makeSignature(h.c, msg);
        assert.equal(sig.length, 16);
        assert.equal(binding.verifySignature(h.s, msg, sig), 0);
        const sealed = binding.encryptMessage(h.s, msg);
        assert.equal(sealed.length, 16 + msg.length);
        assert.notDeepEqual(sealed.subarray(16), msg, 'the data is encrypted');
        assert.deepEqual(binding.decryptMessage(h.c, sealed), msg);
        assert.deepEqual(binding.decryptMessage(h.s, binding.encryptMessage(h.c, msg)), msg);
      }
    });
  });

  it('tamper, replay and reorder: SEC_E_MESSAGE_ALTERED, and the receive side stays failed', async () => {
    await withPair(INNER, {}, (h) => {
      const s1 = binding.makeSignature(h.c, msg);
      const s2 = binding.makeSignature(h.c, msg);
      throwsCode(() => binding.verifySignature(h.s, msg, s2), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature'); // reordered
      throwsCode(() => binding.verifySignature(h.s, msg, s1), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature'); // poisoned
    });
    await withPair(INNER, {}, (h) => {
      const s1 = binding.makeSignature(h.c, msg);
      binding.verifySignature(h.s, msg, s1);
      throwsCode(() => binding.verifySignature(h.s, msg, s1), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature'); // replayed
    });
    await withPair(INNER, {}, (h) => {
      const sealed = binding.encryptMessage(h.c, msg);
      sealed[sealed.length - 1] ^= 1;
      throwsCode(() => binding.decryptMessage(h.s, sealed), 'SEC_E_MESSAGE_ALTERED', 'DecryptMessage');
      // The sending side is not affected.
      assert.deepEqual(binding.decryptMessage(h.c, binding.encryptMessage(h.s, msg)), msg);
    });
  });
});

describe('SspiTest provider: Kerberos-like message profile', { skip }, () => {
  it('signatures are shorter than cbMaxSignature; replay and reorder: SEC_E_OUT_OF_SEQUENCE, tamper: SEC_E_MESSAGE_ALTERED', async () => {
    await withPair(INNER, { target: KRB_TARGET }, (h) => {
      const { cbMaxSignature } = binding.queryContextAttributes(h.c, ATTR.SIZES);
      const s1 = binding.makeSignature(h.c, msg);
      assert.ok(s1.length > 16 && s1.length < cbMaxSignature, `signature ${s1.length} of at most ${cbMaxSignature}`);
      const tampered = Buffer.from(s1);
      tampered[tampered.length - 1] ^= 1;
      throwsCode(() => binding.verifySignature(h.s, msg, tampered), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature');
    });
    await withPair(INNER, { target: KRB_TARGET }, (h) => {
      binding.makeSignature(h.c, msg);
      throwsCode(() => binding.verifySignature(h.s, msg, binding.makeSignature(h.c, msg)), 'SEC_E_OUT_OF_SEQUENCE', 'VerifySignature');
    });
    await withPair(INNER, { target: KRB_TARGET }, (h) => {
      const s1 = binding.makeSignature(h.c, msg);
      assert.equal(binding.verifySignature(h.s, msg, s1), 0);
      throwsCode(() => binding.verifySignature(h.s, msg, s1), 'SEC_E_OUT_OF_SEQUENCE', 'VerifySignature');
    });
  });

  it('EncryptMessage writes a token shorter than cbSecurityTrailer and padding for odd lengths', async () => {
    await withPair(INNER, { target: KRB_TARGET }, (h) => {
      const { cbSecurityTrailer, cbBlockSize } = binding.queryContextAttributes(h.c, ATTR.SIZES);
      // The binding compacts TOKEN || DATA || PADDING by the lengths the package returned.
      const odd = binding.encryptMessage(h.c, msg);
      const pad = (cbBlockSize - (msg.length % cbBlockSize)) % cbBlockSize;
      assert.ok(pad > 0);
      assert.ok(odd.length < cbSecurityTrailer + msg.length + pad, `sealed ${odd.length} bytes: the token was shorter`);
      assert.ok(odd.length > msg.length + pad, 'token and padding are there');
      assert.equal(binding.encryptMessage(h.c, even).length, cbSecurityTrailer + even.length, 'an even length: a full token, no padding');
    });
  });

  it('a short-token message unseals (DecryptMessage must find the boundaries: SECBUFFER_STREAM)', async () => {
    await withPair(INNER, { target: KRB_TARGET }, (h) => {
      for (const m of [msg, even, Buffer.from('a'), Buffer.alloc(0)]) {
        assert.deepEqual(binding.decryptMessage(h.s, binding.encryptMessage(h.c, m)), m);
        assert.deepEqual(binding.decryptMessage(h.c, binding.encryptMessage(h.s, m)), m);
      }
      const sealed = binding.encryptMessage(h.c, msg);
      sealed[sealed.length - 1] ^= 1; // the last byte is padding: covered too
      throwsCode(() => binding.decryptMessage(h.s, sealed), 'SEC_E_MESSAGE_ALTERED', 'DecryptMessage');
    });
  });
});

describe('SspiTest provider: export', { skip }, () => {
  it('a server context exports with a fresh token of its own; a client context without one', async () => {
    await withPair(INNER, {}, async (h) => {
      const exp = await binding.exportSecurityContext(h.s, 0);
      assert.ok(exp.packed.length > 40);
      assert.ok(exp.token, 'server export returns a token');
      assert.equal(exp.token.userSid(), binding.processUserSid(), 'a usable token (Wine: the one Unix user)');
      exp.token.close();
      // The export handed out a copy: the context's own token still works.
      const again = binding.querySecurityContextToken(h.s);
      assert.equal(again.userSid(), binding.processUserSid());
      again.close();
      const client = await binding.exportSecurityContext(h.c, 0);
      assert.equal(client.token, null);
    });
  });

  it('the packed buffer is typed SECBUFFER_TOKEN', { skip: typedImport }, async () => {
    await withPair(INNER, {}, async (h) => {
      const exp = await binding.exportSecurityContext(h.s, 0);
      exp.token?.close();
      assert.equal(exp.bufferType, SECBUFFER_TOKEN);
    });
  });

  it('TO_KERNEL is refused; an unfinished context is refused', async () => {
    await withPair(INNER, {}, async (h) => {
      await rejectsCode(binding.exportSecurityContext(h.s, EXPORT_TO_KERNEL), 'SEC_E_UNSUPPORTED_FUNCTION', 'ExportSecurityContext');
    });
    const { cred } = await binding.acquireCredentialsHandle(INNER, 2, identity());
    const c = new binding.Context();
    try {
      await binding.initializeSecurityContext(cred, c, NTLM_TARGET, ISC_FLAGS, []);
      await rejectsCode(binding.exportSecurityContext(c, 0), undefined, 'ExportSecurityContext');
    } finally {
      c.close();
      cred.close();
    }
  });
  // DELETE_OLD (the source gone, DeleteSecurityContext on it SEC_E_OK) is probe.exe's check: the
  // binding refuses a DELETE_OLD-exported handle itself, before the provider sees it.
});

describe('SspiTest provider: import', { skip }, () => {
  const importAs = (pkg, exp, token = exp.token, type = exp.bufferType) => binding.importSecurityContext(pkg, exp.packed, token, type);

  it('imports under SspiTest, reads TESTDOM\\alice and continues the sequence', { skip: typedImport }, async () => {
    await withPair(INNER, {}, async (h) => {
      binding.verifySignature(h.s, msg, binding.makeSignature(h.c, msg));
      const exp = await binding.exportSecurityContext(h.s, EXPORT_DELETE_OLD);
      const ctx = await importAs(INNER, exp);
      exp.token.close();
      try {
        assert.deepEqual(binding.queryContextAttributes(ctx, ATTR.NAMES), { clientName: ALICE });
        assert.equal(binding.queryContextAttributes(ctx, ATTR.PACKAGE_INFO).name, INNER);
        binding.verifySignature(ctx, msg, binding.makeSignature(h.c, msg));
        assert.deepEqual(binding.decryptMessage(h.c, binding.encryptMessage(ctx, msg)), msg);
      } finally {
        ctx.close();
      }
      const client = await binding.exportSecurityContext(h.c, 0);
      const cctx = await importAs(INNER, client);
      assert.deepEqual(binding.queryContextAttributes(cctx, ATTR.NAMES), { clientName: ALICE });
      cctx.close();
    });
  });

  it('RESET_NEW: the copy starts from sequence 0, a plain copy continues', { skip: typedImport }, async () => {
    await withPair(INNER, {}, async (h) => {
      binding.verifySignature(h.s, msg, binding.makeSignature(h.c, msg));
      const same = await binding.exportSecurityContext(h.s, 0);
      const reset = await binding.exportSecurityContext(h.s, EXPORT_RESET_NEW);
      const copy = await importAs(INNER, same);
      const fresh = await importAs(INNER, reset);
      [same, reset].forEach((e) => e.token.close());
      try {
        const next = binding.makeSignature(h.c, msg);
        assert.equal(binding.verifySignature(copy, msg, next), 0);
        throwsCode(() => binding.verifySignature(fresh, msg, next), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature');
      } finally {
        copy.close();
        fresh.close();
      }
    });
  });

  it('an SspiTestNego context exports as SspiTest: SspiTestNego refuses the import with SEC_E_UNSUPPORTED_FUNCTION', { skip: typedImport }, async () => {
    await withPair(NEGO, {}, async (h) => {
      const sealed = binding.encryptMessage(h.c, msg);
      const exp = await binding.exportSecurityContext(h.s, EXPORT_DELETE_OLD);
      try {
        const failures = closeFailures();
        await rejectsCode(importAs(NEGO, exp), 'SEC_E_UNSUPPORTED_FUNCTION', 'ImportSecurityContextW');
        await rejectsCode(binding.importSecurityContext(INNER, Buffer.alloc(64, 7), exp.token, SECBUFFER_TOKEN), 'SEC_E_INVALID_TOKEN');
        // A package that closed the handle of a refused import would make the binding's own close fail.
        assert.equal(closeFailures(), failures, 'the refused imports left the handle they were given alone');
        assert.equal(exp.token.userSid(), binding.processUserSid(), 'a refused import leaves the caller its token');
        const ctx = await importAs(INNER, exp);
        assert.equal(binding.queryContextAttributes(ctx, ATTR.PACKAGE_INFO).name, INNER);
        assert.deepEqual(binding.queryContextAttributes(ctx, ATTR.NAMES), { clientName: ALICE });
        assert.deepEqual(binding.decryptMessage(ctx, sealed), msg, 'a message sealed before the export unseals');
        ctx.close();
      } finally {
        exp.token.close();
      }
    });
  });

  it('a packed buffer of another type, garbage and every truncation: SEC_E_INVALID_TOKEN', { skip: typedImport }, async () => {
    await withPair(INNER, {}, async (h) => {
      const exp = await binding.exportSecurityContext(h.c, 0);
      await rejectsCode(importAs(INNER, exp, null, SECBUFFER_EMPTY), 'SEC_E_INVALID_TOKEN', 'ImportSecurityContextW');
      await rejectsCode(binding.importSecurityContext(INNER, Buffer.alloc(64, 7), null, SECBUFFER_TOKEN), 'SEC_E_INVALID_TOKEN', 'ImportSecurityContextW');
      for (let n = 0; n < exp.packed.length; n += 5) {
        await rejectsCode(binding.importSecurityContext(INNER, exp.packed.subarray(0, n), null, SECBUFFER_TOKEN), 'SEC_E_INVALID_TOKEN');
      }
      const flipped = Buffer.from(exp.packed);
      flipped[20] ^= 0x80;
      await rejectsCode(binding.importSecurityContext(INNER, flipped, null, SECBUFFER_TOKEN), 'SEC_E_INVALID_TOKEN');
    });
  });

  it('the package keeps the token handle it is given and closes it on DeleteSecurityContext', { skip: typedImport }, async () => {
    // K imports, so that a handle other threads of node.exe open or close meanwhile cannot
    // decide the result: a package that copied the token, leaked it or never closed it is off
    // by K, the tolerance is 2.
    const K = 16;
    const near = (actual, expected, what) => assert.ok(Math.abs(actual - expected) <= 2, `${what}: ${actual} handles, expected ${expected}`);
    await withPair(INNER, {}, async (h) => {
      const warm = await binding.exportSecurityContext(h.s, 0);
      (await importAs(INNER, warm)).close();
      warm.token.close();
      const exps = [];
      for (let i = 0; i < K; i++) exps.push(await binding.exportSecurityContext(h.s, 0));
      const failures = closeFailures();
      const before = handleCount();
      const ctxs = [];
      for (const exp of exps) ctxs.push(await importAs(INNER, exp));
      // The binding gave each import a duplicate of exp.token; the package holds exactly that.
      near(handleCount(), before + K, 'after the imports');
      exps.forEach((exp) => exp.token.close());
      near(handleCount(), before, 'the exported tokens closed, the packages\' handles left');
      const imp = binding.querySecurityContextToken(ctxs[0]);
      assert.equal(imp.userSid(), binding.processUserSid(), 'a kept handle is usable');
      imp.close();
      ctxs.forEach((ctx) => ctx.close());
      near(handleCount(), before - K, 'DeleteSecurityContext closed every handle the package kept');
      assert.equal(closeFailures(), failures, 'no handle was closed twice');
    });
  });
});

/** fn() while the calling thread impersonates ctx; always reverted. */
function whileImpersonating(ctx, fn) {
  binding.impersonateSecurityContext(ctx);
  try {
    return fn();
  } finally {
    binding.revertSecurityContext(ctx);
  }
}

/** threadTokenInfo() of the provider's client token: the process token minus SeUndockPrivilege (README.md). */
function assertContextToken(info) {
  assert.ok(info, 'a thread token while impersonating');
  assert.equal(info.sid, binding.processUserSid());
  assert.ok(binding.processPrivileges().includes('SeUndockPrivilege'), 'the process token has the privilege the context token lacks');
  assert.ok(info.privileges.includes('SeChangeNotifyPrivilege'), info.privileges.join(' '));
  assert.ok(!info.privileges.includes('SeUndockPrivilege'), info.privileges.join(' '));
}

describe('SspiTest provider: tokens and impersonation', { skip }, () => {
  it('QuerySecurityContextToken: a fresh handle per query', async () => {
    await withPair(INNER, {}, (h) => {
      const a = binding.querySecurityContextToken(h.s);
      const b = binding.querySecurityContextToken(h.s);
      assert.notEqual(a.value, b.value);
      a.close();
      assert.equal(b.userSid(), binding.processUserSid(), 'closing one leaves the other');
      b.close();
      throwsCode(() => binding.querySecurityContextToken(h.c), 'SEC_E_NO_IMPERSONATION', 'QuerySecurityContextToken');
    });
  });

  it('impersonation sets and clears the calling thread\'s token', async () => {
    await withPair(INNER, {}, (h) => {
      assert.equal(binding.threadTokenSid(), null);
      // Every Wine token is the one Unix user: the SID is the process user's.
      assert.equal(whileImpersonating(h.s, () => binding.threadTokenSid()), binding.processUserSid());
      assert.equal(binding.threadTokenSid(), null, 'reverted');
      throwsCode(() => binding.impersonateSecurityContext(h.c), 'SEC_E_NO_IMPERSONATION', 'ImpersonateSecurityContext');
    });
  });

  it('a server context impersonates its own token (SeUndockPrivilege removed), not the process token', { skip: noThreadTokenInfo }, async () => {
    await withPair(INNER, {}, (h) => assertContextToken(whileImpersonating(h.s, () => binding.threadTokenInfo())));
    assert.equal(binding.threadTokenInfo(), null);
  });

  it('an ISC_REQ_IDENTIFY context impersonates at Identification level', { skip: noThreadTokenInfo }, async () => {
    const IDENTIFY = 0x20000;
    const SecurityIdentification = 1;
    const SecurityImpersonation = 2;
    await withPair(INNER, { iflags: ISC_FLAGS | IDENTIFY }, (h) => {
      assert.equal(binding.queryContextAttributes(h.c, ATTR.FLAGS) & IDENTIFY, IDENTIFY);
      assert.equal(whileImpersonating(h.s, () => binding.threadTokenInfo()).level, SecurityIdentification);
    });
    await withPair(INNER, {}, (h) => {
      assert.equal(whileImpersonating(h.s, () => binding.threadTokenInfo()).level, SecurityImpersonation);
    });
  });

  it('an imported context impersonates the token it was given', { skip: noThreadTokenInfo || typedImport }, async () => {
    await withPair(INNER, {}, async (h) => {
      const exp = await binding.exportSecurityContext(h.s, EXPORT_DELETE_OLD);
      const ctx = await binding.importSecurityContext(INNER, exp.packed, exp.token, exp.bufferType);
      exp.token.close();
      try {
        assertContextToken(whileImpersonating(ctx, () => binding.threadTokenInfo()));
      } finally {
        ctx.close();
      }
      assert.equal(binding.threadTokenInfo(), null);
    });
  });
});

// probe.exe (test/wine/provider/probe/) drives the provider through secur32 without the addon.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const probeExe = join(root, 'build-wine', 'provider', 'probe.exe');
const probeSkip = skip || (existsSync(probeExe) ? false : 'probe.exe is not built (scripts/wine/build-provider.sh)');
const probe = probeSkip ? null : spawnSync(probeExe, [], { encoding: 'utf8', timeout: 60_000 });

describe('SspiTest provider: probe.exe through secur32 alone', { skip: probeSkip }, () => {
  const lines = probe ? probe.stdout.split(/\r?\n/).filter((l) => /^(not )?ok /.test(l)) : [];
  it('ran to the end, every check passed', () => {
    assert.equal(probe.error, undefined, String(probe.error));
    assert.match(probe.stdout, /^# 0 failed\r?$/m, probe.stdout + probe.stderr);
    assert.equal(probe.status, 0);
    assert.ok(lines.length >= 60, `${lines.length} checks`);
  });
  for (const line of lines) {
    it(line.replace(/^(not )?ok /, '').replace(/ -- .*$/, ''), () => assert.ok(line.startsWith('ok '), line));
  }
});
