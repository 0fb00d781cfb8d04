// Shared by the Wine tests (run by Windows node.exe's `node --test`, under Wine or on
// windows-latest). Loads the native backend from dist/ (npm run build:ts) and the addon from
// build/Release (npm run build:wine, or node-gyp on Windows).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const native = require('../../dist/native/index.js');
export const { SspiError } = require('../../dist/errors.js');
const { describeStatus } = require('../../dist/status.js');
export const binding = native.loadAddon();
export const backend = native.createNativeBackend(binding);

/** Set by scripts/wine/run.sh: Wine lacks some calls, and these tests assert what it returns. */
export const isWine = process.env.SSPI_WINE === '1';

export const ISC = { REPLAY: 0x4, SEQUENCE: 0x8, CONFIDENTIALITY: 0x10, ALLOCATE_MEMORY: 0x100, CONNECTION: 0x800, INTEGRITY: 0x10000 };
export const ASC = { REPLAY: 0x4, SEQUENCE: 0x8, CONFIDENTIALITY: 0x10, ALLOCATE_MEMORY: 0x100, CONNECTION: 0x800, INTEGRITY: 0x20000 };
export const ISC_FLAGS = ISC.CONNECTION | ISC.INTEGRITY | ISC.CONFIDENTIALITY | ISC.SEQUENCE | ISC.REPLAY;
export const ASC_FLAGS = ASC.CONNECTION | ASC.INTEGRITY | ASC.CONFIDENTIALITY | ASC.SEQUENCE | ASC.REPLAY;
export const SEC_E_OK = 0;
export const SEC_I_CONTINUE_NEEDED = 0x00090312;
export const TOKEN = 2;
export const EXPORT_RESET_NEW = 1;
export const EXPORT_DELETE_OLD = 2;

/** The account Wine's NTLM server side verifies (scripts/wine/shim/ntlm_auth). */
export const ntlmIdentity = {
  user: process.env.SSPI_TEST_USER ?? 'testuser',
  domain: process.env.SSPI_TEST_DOMAIN ?? 'TESTDOMAIN',
  password: process.env.SSPI_TEST_PASSWORD ?? 'Passw0rd!',
};
/** The test provider accepts this password for any explicit identity. */
export const providerIdentity = { user: 'alice', domain: 'TESTDOM', password: 'Passw0rd!' };

export const hasProvider = () => backend.enumerateSecurityPackages().some((p) => p.name === 'SspiTest');

/** The identity a package verifies: the provider's fixed account, or the NTLM test account (Wine's shim, CI's local user). */
export const identityFor = (packageName) => (packageName.startsWith('SspiTest') ? providerIdentity : ntlmIdentity);

/** A full loopback handshake. Returns both credentials, both contexts and the statuses. */
export async function handshake(packageName, { identity, iflags = ISC_FLAGS, aflags = ASC_FLAGS, target = 'HOST/localhost' } = {}) {
  const client = await backend.acquireCredentialsHandle({ packageName, use: 'outbound', ...(identity ? { identity } : {}) });
  const server = await backend.acquireCredentialsHandle({ packageName, use: 'inbound' });
  let cc = null;
  let sc = null;
  let input = [];
  const statuses = [];
  const tokens = [];
  const results = [];
  let cDone = false;
  let sDone = false;
  const close = () => {
    if (cc) backend.deleteSecurityContext(cc);
    if (sc) backend.deleteSecurityContext(sc);
    backend.freeCredentialsHandle(client.cred);
    backend.freeCredentialsHandle(server.cred);
  };
  try {
    for (let i = 0; i < 6 && !(cDone && sDone); i++) {
      const r = await backend.initializeSecurityContext(client.cred, { context: cc, flags: iflags, target, input });
      cc = r.context;
      results.push(r);
      statuses.push(r.status);
      cDone = r.status === SEC_E_OK;
      const t = r.output[0].buffer;
      if (t.length === 0) break;
      tokens.push(t);
      const a = await backend.acceptSecurityContext(server.cred, { context: sc, flags: aflags, input: [{ type: TOKEN, buffer: t }] });
      sc = a.context;
      results.push(a);
      statuses.push(a.status);
      sDone = a.status === SEC_E_OK;
      const u = a.output[0].buffer;
      if (u.length) tokens.push(u);
      input = [{ type: TOKEN, buffer: u }];
      if (u.length === 0) break;
    }
  } catch (e) {
    close();
    throw e;
  }
  return { client, server, cc, sc, statuses, tokens, results, cDone, sDone, close };
}

/**
 * The token a thread carries while impersonating a test-provider context is the context's,
 * not the process's own: the provider hands out a copy of the process token with a
 * privilege removed (test/wine/provider/README.md), since under Wine every token has the
 * same user SID.
 */
export function assertProviderToken(info, processPrivileges = binding.processPrivileges()) {
  assert.ok(info, 'the thread carries a token');
  const missing = processPrivileges.filter((p) => !info.privileges.includes(p));
  assert.ok(info.restricted || missing.length > 0, `the thread token is the process token (privileges ${info.privileges.join(',')})`);
}

function checkCode(e, code, operation) {
  assert.ok(e instanceof SspiError, `expected SspiError, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.status, describeStatus(code).value, 'the numeric status is the named one');
  if (operation) assert.equal(e.operation, operation);
  return true;
}
export const throwsCode = (fn, code, operation) => assert.throws(fn, (e) => checkCode(e, code, operation));
export const rejectsCode = (p, code, operation) => assert.rejects(p, (e) => checkCode(e, code, operation));

/** The SSPI status a call ends with: 'SEC_E_OK' or the SspiError code. */
export async function statusOf(fn) {
  try {
    await fn();
    return 'SEC_E_OK';
  } catch (e) {
    if (e instanceof SspiError) return e.code;
    throw e;
  }
}

/** Handles open in this process: GetProcessHandleCount where it works, else the probe (Wine). */
export function handleCount() {
  const reported = binding.processHandleCount();
  return reported > 0 ? reported : binding.probedHandleCount();
}

/** A loopback handshake through the public API (`api` = dist/index.js), for the tests that exercise it. */
export async function establishPublic(api, packageName, { identity, target = 'HOST/localhost' } = {}) {
  const client = await api.Credentials.acquire({ package: packageName, use: 'outbound', ...(identity ? { identity } : {}) });
  const server = await api.Credentials.acquire({ package: packageName, use: 'inbound' });
  const c = new api.ClientContext(client, { target });
  const s = new api.ServerContext(server);
  let input;
  for (let i = 0; i < 6; i++) {
    const r = await c.step(input);
    if (!r.token) break;
    const a = await s.step(r.token);
    input = a.token;
    if (!input) break;
  }
  return { c, s, client, server, close: () => [c, s, client, server].forEach((x) => x.close()) };
}
