// The native backend through Wine's secur32 with the test provider (test/wine/provider/):
// the calls Wine's own packages lack, in one process. Skipped where SspiTest is not
// registered (windows-latest, where the real packages implement them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ASC_FLAGS, EXPORT_DELETE_OLD, EXPORT_RESET_NEW, ISC_FLAGS, SEC_E_OK, SEC_I_CONTINUE_NEEDED, TOKEN, backend, binding,
  handshake, hasProvider, providerIdentity, rejectsCode, throwsCode,
} from './helpers.mjs';

const skip = hasProvider() ? false : 'the SspiTest provider is not registered';
const P = 'SspiTest';
const identity = providerIdentity;
const msg = Buffer.from('the quick brown fox');

describe('SspiTest provider through secur32', { skip }, () => {
  it('handshake, with ISC/ASC_REQ_ALLOCATE_MEMORY too', async () => {
    for (const alloc of [0, 0x100]) {
      const h = await handshake(P, { identity, iflags: ISC_FLAGS | alloc, aflags: ASC_FLAGS | alloc });
      try {
        assert.deepEqual(h.statuses, [SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK]);
        assert.equal(h.results[0].contextAttributes & ISC_FLAGS, ISC_FLAGS);
      } finally {
        h.close();
      }
    }
  });

  it('a wrong password: SEC_E_LOGON_DENIED', async () => {
    await rejectsCode(handshake(P, { identity: { ...identity, password: 'nope' } }), 'SEC_E_LOGON_DENIED', 'AcceptSecurityContext');
  });

  it('SECBUFFER_EXTRA: unconsumed input bytes come back', async () => {
    const c = await backend.acquireCredentialsHandle({ packageName: P, use: 'outbound', identity });
    const s = await backend.acquireCredentialsHandle({ packageName: P, use: 'inbound' });
    const r = await backend.initializeSecurityContext(c.cred, { context: null, flags: ISC_FLAGS, target: 'HOST/x', input: [] });
    const tail = Buffer.from('next-record');
    const a = await backend.acceptSecurityContext(s.cred, { context: null, flags: ASC_FLAGS, input: [{ type: TOKEN, buffer: Buffer.concat([r.output[0].buffer, tail]) }] });
    const extra = a.output.find((b) => b.type === 5);
    assert.ok(extra, 'SECBUFFER_EXTRA present');
    assert.deepEqual(extra.buffer, tail);
    for (const x of [r.context, a.context]) backend.deleteSecurityContext(x);
    backend.freeCredentialsHandle(c.cred);
    backend.freeCredentialsHandle(s.cred);
  });

  it('QueryContextAttributesW: NAMES, NATIVE_NAMES, SIZES, FLAGS, PACKAGE_INFO, LIFESPAN', async () => {
    const h = await handshake(P, { identity, target: 'HOST/server.example' });
    try {
      assert.deepEqual(backend.queryContextAttributes(h.sc, 'names'), { clientName: 'TESTDOM\\alice' });
      assert.deepEqual(backend.queryContextAttributes(h.sc, 'nativeNames'), { clientName: 'TESTDOM\\alice', serverName: 'HOST/server.example' });
      assert.deepEqual(backend.queryContextAttributes(h.cc, 'sizes'), { cbMaxToken: 1024, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 });
      assert.equal(backend.queryContextAttributes(h.sc, 'flags'), ASC_FLAGS);
      const info = backend.queryContextAttributes(h.sc, 'packageInfo');
      assert.equal(info.name, P);
      assert.equal(info.maxToken, 1024);
      const life = backend.queryContextAttributes(h.sc, 'lifespan');
      assert.ok(life.expiry > Date.now());
    } finally {
      h.close();
    }
  });

  it('sign and seal both ways, with sequence numbers; replay, reorder and tampering refused', async () => {
    const h = await handshake(P, { identity });
    try {
      for (let i = 0; i < 3; i++) {
        backend.verifySignature(h.sc, msg, backend.makeSignature(h.cc, msg));
        assert.deepEqual(backend.decryptMessage(h.cc, backend.encryptMessage(h.sc, msg)), msg);
        assert.deepEqual(backend.decryptMessage(h.sc, backend.encryptMessage(h.cc, msg)), msg);
      }
      const s1 = backend.makeSignature(h.cc, msg);
      const s2 = backend.makeSignature(h.cc, msg);
      throwsCode(() => backend.verifySignature(h.sc, msg, s2), 'SEC_E_OUT_OF_SEQUENCE', 'VerifySignature');
      const bad = Buffer.from(s1);
      bad[10] ^= 1;
      throwsCode(() => backend.verifySignature(h.sc, msg, bad), 'SEC_E_MESSAGE_ALTERED', 'VerifySignature');
      backend.verifySignature(h.sc, msg, s1);
      throwsCode(() => backend.verifySignature(h.sc, msg, s1), 'SEC_E_OUT_OF_SEQUENCE', 'VerifySignature');
      backend.verifySignature(h.sc, msg, s2);
      const sealed = backend.encryptMessage(h.cc, msg);
      sealed[sealed.length - 1] ^= 1;
      throwsCode(() => backend.decryptMessage(h.sc, sealed), 'SEC_E_MESSAGE_ALTERED', 'DecryptMessage');
    } finally {
      h.close();
    }
  });

  it('export with a token, import, and the imported context continues the sequence', async () => {
    const h = await handshake(P, { identity });
    try {
      backend.verifySignature(h.sc, msg, backend.makeSignature(h.cc, msg));
      const exp = await backend.exportSecurityContext(h.sc, 0);
      assert.ok(exp.packed.length > 40);
      assert.ok(exp.token && exp.token.value > 0n, 'server export returns a token');
      assert.equal(binding.processUserSid(), exp.token.value > 0n ? binding.processUserSid() : '');
      const ctx = await backend.importSecurityContext(P, exp.packed, exp.token);
      exp.token.close();
      exp.token.close();
      assert.throws(() => exp.token.value, /INVALID_HANDLE/);
      assert.deepEqual(backend.queryContextAttributes(ctx, 'names'), { clientName: 'TESTDOM\\alice' });
      backend.verifySignature(ctx, msg, backend.makeSignature(h.cc, msg));
      assert.deepEqual(backend.decryptMessage(h.cc, backend.encryptMessage(ctx, msg)), msg);
      backend.deleteSecurityContext(ctx);
    } finally {
      h.close();
    }
  });

  it('RESET_NEW restarts the sequence numbers; DELETE_OLD invalidates the source', async () => {
    const h = await handshake(P, { identity });
    try {
      backend.verifySignature(h.sc, msg, backend.makeSignature(h.cc, msg));
      // Both ends reset: a client copy starts at sequence 0, and so does the server copy.
      const reset = await backend.exportSecurityContext(h.sc, EXPORT_RESET_NEW);
      reset.token?.close();
      const fresh = await backend.importSecurityContext(P, reset.packed);
      const clientReset = await backend.exportSecurityContext(h.cc, EXPORT_RESET_NEW);
      assert.equal(clientReset.token, undefined, 'a client context has no token');
      const freshClient = await backend.importSecurityContext(P, clientReset.packed);
      backend.verifySignature(fresh, msg, backend.makeSignature(freshClient, msg));
      backend.verifySignature(fresh, msg, backend.makeSignature(freshClient, msg));
      // The original client is at sequence 1, the reset server copy now expects 2.
      const ahead = backend.makeSignature(h.cc, msg);
      throwsCode(() => backend.verifySignature(fresh, msg, ahead), 'SEC_E_OUT_OF_SEQUENCE');
      backend.deleteSecurityContext(fresh);
      backend.deleteSecurityContext(freshClient);

      const moved = await backend.exportSecurityContext(h.sc, EXPORT_DELETE_OLD);
      moved.token?.close();
      throwsCode(() => backend.makeSignature(h.sc, msg), 'SEC_E_INVALID_HANDLE', 'MakeSignature');
      await rejectsCode(backend.exportSecurityContext(h.sc, 0), 'SEC_E_INVALID_HANDLE', 'ExportSecurityContext');
      const ctx = await backend.importSecurityContext(P, moved.packed);
      backend.verifySignature(ctx, msg, ahead);
      backend.deleteSecurityContext(ctx);
    } finally {
      h.close();
    }
  });

  it('ImportSecurityContextW refuses garbage and every truncation with SEC_E_INVALID_TOKEN', async () => {
    const h = await handshake(P, { identity });
    try {
      const exp = await backend.exportSecurityContext(h.sc, 0);
      exp.token?.close();
      await rejectsCode(backend.importSecurityContext(P, Buffer.alloc(64, 7)), 'SEC_E_INVALID_TOKEN', 'ImportSecurityContextW');
      for (let n = 0; n < exp.packed.length; n += 5) {
        await rejectsCode(backend.importSecurityContext(P, exp.packed.subarray(0, n)), 'SEC_E_INVALID_TOKEN');
      }
      const flipped = Buffer.from(exp.packed);
      flipped[20] ^= 0x80;
      await rejectsCode(backend.importSecurityContext(P, flipped), 'SEC_E_INVALID_TOKEN');
    } finally {
      h.close();
    }
  });

  it('an unfinished context cannot be exported: SEC_E_CANNOT_PACK', async () => {
    const c = await backend.acquireCredentialsHandle({ packageName: P, use: 'outbound', identity });
    const r = await backend.initializeSecurityContext(c.cred, { context: null, flags: ISC_FLAGS, input: [] });
    await rejectsCode(backend.exportSecurityContext(r.context, 0), 'SEC_E_CANNOT_PACK', 'ExportSecurityContext');
    backend.deleteSecurityContext(r.context);
    backend.freeCredentialsHandle(c.cred);
  });

  it('QuerySecurityContextToken, and impersonation puts the thread token in place and removes it', async () => {
    const h = await handshake(P, { identity });
    try {
      const token = backend.querySecurityContextToken(h.sc);
      const me = binding.processUserSid();
      assert.match(me, /^S-1-5-/);
      // Every Wine token is the one Unix user: the SID is the process user's.
      assert.equal(binding.threadTokenSid(), null);
      backend.impersonateSecurityContext(h.sc);
      let during;
      try {
        during = binding.threadTokenSid();
      } finally {
        backend.revertSecurityContext(h.sc);
      }
      assert.equal(during, me);
      assert.equal(binding.threadTokenSid(), null, 'reverted');
      token.close();
      throwsCode(() => backend.impersonateSecurityContext(h.cc), 'SEC_E_NO_IMPERSONATION', 'ImpersonateSecurityContext');
      throwsCode(() => backend.querySecurityContextToken(h.cc), 'SEC_E_NO_IMPERSONATION', 'QuerySecurityContextToken');
    } finally {
      h.close();
    }
  });
});
