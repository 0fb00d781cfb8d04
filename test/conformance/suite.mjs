// One conformance suite for every backend (serialport/bindings-cpp style).
// Plain JS + node:assert so it runs under vitest on Linux and under
// `node --test` inside Windows node.exe (Wine, windows-latest).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./import-worker.mjs', import.meta.url));

/**
 * @param {object} t
 * @param {Function} t.describe
 * @param {Function} t.it
 * @param {object} t.api            the library's public module
 * @param {object} t.options
 * @param {string} t.options.apiPath        module path a child process loads
 * @param {string} t.options.packageName
 * @param {{user:string,domain:string,password:string}} t.options.identity
 * @param {object} [t.options.serverCredentials]  extra Credentials.acquire options for the server
 * @param {string} [t.options.target]
 * @param {Record<string,string>} [t.options.childEnv]
 * @param {object} t.options.expect
 * @param {boolean} t.options.expect.names          SECPKG_ATTR_NAMES on the server side
 * @param {boolean} t.options.expect.exportImport
 * @param {boolean} t.options.expect.impersonate
 * @param {boolean} [t.options.expect.messageProtection=true]  false: the package's sign/seal between
 *        client and server is known broken (Wine 8 NTLM); the suite asserts the status it gives instead
 * @param {'reject'|'typed'} [t.options.expect.truncation='reject']  'typed': a truncated message may be
 *        accepted (Samba's ntlm_auth), but any failure must still be an SspiError
 * @param {RegExp} [t.options.expect.unsupportedImpersonationMessage]  checked when impersonate is false
 * @param {number}  [t.options.truncationStride]    1 = every length
 * @param {string} [t.options.expect.heldBy]  the package an export names (for Negotiate, the one it
 *        selected; default packageName)
 * @param {string} [t.options.expect.outOfSequence='SEC_E_MESSAGE_ALTERED']  what a replayed or
 *        reordered message gives: NTLM on Windows says SEC_E_MESSAGE_ALTERED, Kerberos
 *        SEC_E_OUT_OF_SEQUENCE (pyspnego's recorded Server 2019 runs)
 * @param {() => object|null} [t.options.probe]  the calling thread's token (native runners:
 *        binding.threadTokenInfo), required when expect.impersonate
 * @param {(token: object) => void} [t.options.expect.impersonatedToken]  asserts a token seen
 *        inside impersonate() is the client's, not the process's own
 */
export function runConformance({ describe, it, api, options }) {
  const { Credentials, ClientContext, ServerContext, SspiError, importContext, encodeHandoff } = api;
  const o = options;
  const expectName = `${o.identity.domain}\\${o.identity.user}`.toLowerCase();
  const protects = o.expect.messageProtection !== false;
  const truncationRejects = (o.expect.truncation ?? 'reject') === 'reject';
  const heldBy = o.expect.heldBy ?? o.packageName;
  const outOfSequence = o.expect.outOfSequence ?? 'SEC_E_MESSAGE_ALTERED';

  async function creds(identity = o.identity) {
    const client = await Credentials.acquire({ package: o.packageName, use: 'outbound', identity });
    const server = await Credentials.acquire({ package: o.packageName, use: 'inbound', ...(o.serverCredentials ?? {}) });
    return { client, server };
  }

  /** Runs the handshake, recording each leg's token. */
  async function handshake(identity) {
    const { client, server } = await creds(identity);
    const c = new ClientContext(client, o.target ? { target: o.target } : {});
    const s = new ServerContext(server);
    const legs = [];
    let input;
    let sDone = false;
    let cDone = false;
    for (let i = 0; i < 6 && !(cDone && sDone); i++) {
      const r = await c.step(input);
      cDone = r.done;
      if (r.token) legs.push(r.token);
      if (!r.token) break;
      const a = await s.step(r.token);
      sDone = a.done;
      if (a.token) legs.push(a.token);
      input = a.token;
      if (!input) break;
    }
    assert.ok(cDone && sDone, 'both sides complete');
    return { c, s, client, server, legs, close() { c.close(); s.close(); client.close(); server.close(); } };
  }

  async function rejects(promise, code) {
    await assert.rejects(promise, (e) => {
      assert.ok(e instanceof SspiError, `expected SspiError, got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.code, code, e.message);
      return true;
    });
  }

  function throws(fn, code) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof SspiError, `expected SspiError, got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.code, code, e.message);
      return true;
    });
  }

  /** Fork the import worker; `late(pid)` adds fields that need the child's pid. */
  function child(args, env, late) {
    return new Promise((resolve, reject) => {
      const p = fork(WORKER, [o.apiPath], { env: { ...process.env, ...(o.childEnv ?? {}), ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      let result;
      p.on('message', (m) => {
        if (m && m.ready) p.send({ ...args, ...(late ? late(p.pid) : {}) });
        else result = m;
      });
      p.on('error', reject);
      p.on('exit', (code) => (result ? resolve({ ...result, code }) : reject(new Error(`worker exited ${code} without a result: ${err}`))));
    });
  }

  describe(`conformance: ${o.packageName}${o.target ? ` (${o.target})` : ''}`, () => {
    it('completes the handshake and reports the client name', async () => {
      const h = await handshake();
      try {
        assert.ok(h.legs.length >= 2);
        assert.equal(h.s.isEstablished, true);
        assert.equal(h.c.isEstablished, true);
        assert.equal(h.s.packageName, o.packageName);
        assert.equal(typeof h.s.flags, 'number');
        const sizes = h.s.sizes;
        assert.ok(sizes.cbMaxSignature > 0 && sizes.cbSecurityTrailer > 0);
        if (o.expect.names) assert.equal(h.s.names.clientName.toLowerCase(), expectName);
        else throws(() => h.s.names, 'SEC_E_UNSUPPORTED_FUNCTION');
        await rejects(h.s.step(h.legs[0]), 'SEC_E_INVALID_HANDLE');
      } finally {
        h.close();
      }
    });

    it('denies a wrong password with SEC_E_LOGON_DENIED', async () => {
      await rejects(handshake({ ...o.identity, password: o.identity.password + 'x' }), 'SEC_E_LOGON_DENIED');
    });

    it(protects ? 'signs and seals in both directions' : 'sign/seal between client and server gives the known status (SEC_E_MESSAGE_ALTERED)', async () => {
      const h = await handshake();
      try {
        for (const [a, b] of [[h.c, h.s], [h.s, h.c]]) {
          for (let i = 0; i < 3; i++) {
            const msg = randomBytes(37 + i);
            if (!protects) {
              throws(() => b.verify(msg, a.sign(msg)), 'SEC_E_MESSAGE_ALTERED');
              continue;
            }
            assert.equal(b.verify(msg, a.sign(msg)), true);
            const sealed = a.encrypt(msg);
            assert.ok(!sealed.includes(msg), 'sealed bytes do not hold the plaintext');
            assert.deepEqual(b.decrypt(sealed), msg);
          }
        }
      } finally {
        h.close();
      }
    });

    if (protects) it('rejects replayed, reordered and altered messages', async () => {
      const h = await handshake();
      try {
        const m1 = Buffer.from('first');
        const m2 = Buffer.from('second');
        const s1 = h.c.sign(m1);
        const s2 = h.c.sign(m2);
        throws(() => h.s.verify(m2, s2), outOfSequence); // reordered
        const h2 = await handshake();
        try {
          const a = h2.c.sign(m1);
          h2.s.verify(m1, a);
          throws(() => h2.s.verify(m1, a), outOfSequence); // replayed
        } finally {
          h2.close();
        }
        // Tampering on a fresh context: after a failure a package may refuse everything
        // that follows (SSPI-CONTRACTS §5 leaves recovery unknown).
        const h4 = await handshake();
        try {
          const b = h4.c.sign(m2);
          throws(() => h4.s.verify(Buffer.from('secomd'), b), 'SEC_E_MESSAGE_ALTERED');
        } finally {
          h4.close();
        }
        void s1;
        const h3 = await handshake();
        try {
          const sealed = h3.c.encrypt(Buffer.from('sealed message'));
          sealed[sealed.length - 1] ^= 1;
          throws(() => h3.s.decrypt(sealed), 'SEC_E_MESSAGE_ALTERED');
        } finally {
          h3.close();
        }
      } finally {
        h.close();
      }
    });

    it(truncationRejects ? 'refuses every truncation of every handshake message' : 'gives only SspiError (or success) for every truncation of every handshake message', async () => {
      const h = await handshake();
      h.close();
      const stride = o.truncationStride ?? 1;
      // Where the package may accept a truncated message, only the error type is checked.
      const refused = (p) => (truncationRejects ? assert.rejects(p, (e) => e instanceof SspiError) : p.then(() => undefined, (e) => assert.ok(e instanceof SspiError, String(e))));
      const [negotiate, challenge, authenticate] = h.legs;
      for (let n = 1; n < negotiate.length; n += stride) {
        const { server } = await creds();
        const s = new ServerContext(server);
        await refused(s.step(negotiate.subarray(0, n)));
        s.close();
        server.close();
      }
      for (let n = 1; n < challenge.length; n += stride) {
        const { client } = await creds();
        const c = new ClientContext(client, o.target ? { target: o.target } : {});
        await c.step();
        await refused(c.step(challenge.subarray(0, n)));
        c.close();
        client.close();
      }
      if (authenticate) {
        for (let n = 1; n < authenticate.length; n += Math.max(stride, 4)) {
          const { client, server } = await creds();
          const c = new ClientContext(client, o.target ? { target: o.target } : {});
          const s = new ServerContext(server);
          const t1 = (await c.step()).token;
          const t2 = (await s.step(t1)).token;
          const t3 = (await c.step(t2)).token;
          await refused(s.step(t3.subarray(0, n)));
          c.close();
          s.close();
          client.close();
          server.close();
        }
      }
    });

    it('closes idempotently and refuses use after close', async () => {
      const h = await handshake();
      h.s.close();
      h.s.close();
      throws(() => h.s.sign(Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
      throws(() => h.s.decrypt(Buffer.alloc(32)), 'SEC_E_INVALID_HANDLE');
      await rejects(h.s.export(), 'SEC_E_INVALID_HANDLE');
      h.close();
      h.client.close();
      await rejects(Promise.resolve().then(() => new ClientContext(h.client).step()), 'SEC_E_INVALID_HANDLE');
    });

    it('refuses to export a context that is not established', async () => {
      const { client, server } = await creds();
      const c = new ClientContext(client, o.target ? { target: o.target } : {});
      await rejects(c.export(), 'SEC_E_INVALID_HANDLE');
      await c.step();
      await rejects(c.export(), 'SEC_E_INVALID_HANDLE');
      c.close();
      client.close();
      server.close();
    });

    it(`impersonation ${o.expect.impersonate ? 'runs fn and reverts' : 'is SEC_E_UNSUPPORTED_FUNCTION'}`, async () => {
      const h = await handshake();
      try {
        if (o.expect.impersonate) {
          const probe = o.probe;
          assert.equal(typeof probe, 'function', 'a runner that expects impersonation gives a thread-token probe');
          assert.equal(probe(), null, 'not impersonating before');
          const seen = h.s.impersonate(() => probe());
          assert.ok(seen, 'inside fn the thread carries a token');
          o.expect.impersonatedToken?.(seen);
          assert.equal(probe(), null, 'reverted after fn returned');
          assert.throws(() => h.s.impersonate(() => { throw new Error('inner'); }), /inner/);
          assert.equal(probe(), null, 'reverted after fn threw');
          throws(() => h.s.impersonate(async () => 1), 'SEC_E_INVALID_PARAMETER');
          assert.equal(probe(), null, 'reverted after a rejected async fn');
          // fn closes the context: RevertSecurityContext cannot run, the thread still ends reverted.
          const h2 = await handshake();
          try {
            const during = h2.s.impersonate(() => {
              const t = probe();
              h2.s.close();
              return t;
            });
            assert.ok(during, 'impersonating until the close');
            assert.equal(probe(), null, 'reverted after fn closed the context');
            throws(() => h2.s.sign(Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
          } finally {
            h2.close();
          }
        } else {
          const why = o.expect.unsupportedImpersonationMessage;
          assert.throws(() => h.s.impersonate(() => 1), (e) => e instanceof SspiError && e.code === 'SEC_E_UNSUPPORTED_FUNCTION' && (!why || why.test(e.message)));
        }
      } finally {
        h.close();
      }
    });

    if (!o.expect.exportImport) return;

    it('exports and imports in-process; a message sealed before the export unseals after', async () => {
      const h = await handshake();
      try {
        const sealed = h.c.encrypt(Buffer.from('before export'));
        const signed = Buffer.from('signed before export');
        const sig = h.c.sign(signed);
        const exp = await h.s.export();
        assert.equal(exp.packageName, heldBy, 'the export names the package that holds the context');
        assert.equal(exp.credentialPackage, o.packageName);
        assert.ok(exp.packed.length > 0);
        const imported = await importContext(exp);
        assert.equal(imported.packageName, heldBy, 'imported under the package that holds it');
        // The import spent the exported object: its token is taken and its bytes zeroed.
        assert.equal(exp.spent, true);
        assert.equal(exp.token, undefined);
        await rejects(importContext(exp), 'SEC_E_INVALID_HANDLE');
        if (o.expect.names) assert.equal(imported.names.clientName.toLowerCase(), expectName);
        assert.deepEqual(imported.decrypt(sealed), Buffer.from('before export'));
        assert.equal(imported.verify(signed, sig), true);
        const reply = imported.encrypt(Buffer.from('reply'));
        assert.deepEqual(h.c.decrypt(reply), Buffer.from('reply'));
        imported.close();
        exp.dispose();
      } finally {
        h.close();
      }
    });

    it('deleteOld invalidates the source context', async () => {
      const h = await handshake();
      try {
        const exp = await h.s.export({ deleteOld: true });
        throws(() => h.s.sign(Buffer.from('x')), 'SEC_E_INVALID_HANDLE');
        await rejects(h.s.export(), 'SEC_E_INVALID_HANDLE');
        const imported = await importContext(exp);
        assert.deepEqual(imported.decrypt(h.c.encrypt(Buffer.from('still works'))), Buffer.from('still works'));
        imported.close();
      } finally {
        h.close();
      }
    });

    it('resetNew restarts sequence numbers and cipher state', async () => {
      const h = await handshake();
      try {
        for (let i = 0; i < 3; i++) h.s.decrypt(h.c.encrypt(Buffer.from(`warm ${i}`)));
        const es = await h.s.export({ resetNew: true });
        const ec = await h.c.export({ resetNew: true });
        const s2 = await importContext(es);
        const c2 = await importContext(ec);
        // Both reset: they talk from sequence 0 again.
        assert.deepEqual(s2.decrypt(c2.encrypt(Buffer.from('fresh'))), Buffer.from('fresh'));
        assert.equal(c2.verify(Buffer.from('r'), s2.sign(Buffer.from('r'))), true);
        // The un-reset client is three messages ahead: the reset server refuses it.
        const s3 = await importContext(await h.s.export({ resetNew: true }));
        assert.throws(() => s3.decrypt(h.c.encrypt(Buffer.from('old stream'))), (e) => e instanceof SspiError && ['SEC_E_OUT_OF_SEQUENCE', 'SEC_E_MESSAGE_ALTERED'].includes(e.code));
        for (const x of [s2, c2, s3]) x.close();
      } finally {
        h.close();
      }
    });

    it('refuses garbage and truncated packed contexts with a typed error', async () => {
      const h = await handshake();
      try {
        const exp = await h.s.export();
        const { ExportedContext } = api;
        for (const bad of [Buffer.alloc(0), randomBytes(64), exp.packed.subarray(0, exp.packed.length >> 1), Buffer.concat([exp.packed, Buffer.from([1])])]) {
          if (bad.length === 0) continue;
          await assert.rejects(importContext(new ExportedContext(exp.packageName, Buffer.from(bad), { bufferType: exp.bufferType })), (e) => e instanceof SspiError && e.code === 'SEC_E_INVALID_TOKEN');
        }
      } finally {
        h.close();
      }
    });

    it('hands the context to a second process, which unseals, verifies and names the client', async () => {
      const h = await handshake();
      try {
        const key = randomBytes(32);
        const sealed = h.c.encrypt(Buffer.from('sealed before the handoff'));
        const msg = Buffer.from('signed before the handoff');
        const sig = h.c.sign(msg);
        const exp = await h.s.export({ deleteOld: true });
        // The token, if any, is duplicated into the child once it exists; the
        // child asks for the envelope after it starts.
        const res = await new Promise((resolve, reject) => {
          const p = fork(WORKER, [o.apiPath], { env: { ...process.env, ...(o.childEnv ?? {}) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
          let err = '';
          p.stderr.on('data', (d) => (err += d));
          let result;
          p.on('message', (m) => {
            if (m && m.ready) {
              const envelope = encodeHandoff(exp, { key, targetPid: p.pid });
              p.send({ envelope, key, sealed, msg, sig, impersonate: o.expect.impersonate, names: o.expect.names });
            } else result = m;
          });
          p.on('error', reject);
          p.on('exit', (code) => (result ? resolve({ ...result, code }) : reject(new Error(`worker exited ${code}: ${err}`))));
        });
        assert.equal(res.error, undefined, res.error);
        assert.equal(res.code, 0);
        assert.equal(res.plaintext, 'sealed before the handoff');
        assert.equal(res.verified, true);
        if (o.expect.names) assert.equal(res.clientName.toLowerCase(), expectName);
        if (o.expect.impersonate) {
          assert.ok(res.impersonatedToken, 'the child thread carried a token inside impersonate()');
          o.expect.impersonatedToken?.(res.impersonatedToken);
          assert.equal(res.afterRevert, null, 'the child thread was reverted');
        }
        assert.equal(res.packageName, heldBy);
        assert.notEqual(res.pid, process.pid);
        // The child's reply, sealed with the imported context, reaches the client.
        assert.deepEqual(h.c.decrypt(Buffer.from(res.reply)), Buffer.from('reply from the worker'));
        exp.dispose();
      } finally {
        h.close();
      }
    });

    it('refuses in the second process: second import, wrong key, altered byte', async () => {
      const h = await handshake();
      try {
        const key = randomBytes(32);
        const exp = await h.s.export();
        // Bound to the child, so a Windows token is duplicated there.
        const res = await child({ refusals: true, key }, {}, (pid) => ({ envelope: encodeHandoff(exp, { key, targetPid: pid }) }));
        assert.equal(res.error, undefined, res.error);
        assert.deepEqual(res.codes, { second: 'SEC_E_OUT_OF_SEQUENCE', wrongKey: 'SEC_E_DECRYPT_FAILURE', altered: 'SEC_E_DECRYPT_FAILURE' });
      } finally {
        h.close();
      }
    });

  });
}
