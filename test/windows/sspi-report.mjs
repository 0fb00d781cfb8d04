// Records the status of every SSPI call the library makes, per package, as JSON:
//   node test/windows/sspi-report.mjs OUT.json [Package,...]
// The windows-latest job uploads it, so the first real run says what Windows returns where
// shared/windows/SSPI-CONTRACTS.md says UNKNOWN (export of an unfinished context, the name a
// Negotiate context imports under, replay statuses, token ownership). Under Wine the Wine
// suite runs it too (test/wine/report.test.mjs). Needs the native backend (dist/ built).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
const native = require('../../dist/native/index.js');
const binding = native.loadAddon();
const backend = native.createNativeBackend(binding);
api.setBackend(backend);

const env = process.env;
const identityFor = (pkg) =>
  pkg.startsWith('SspiTest')
    ? { user: 'alice', domain: 'TESTDOM', password: 'Passw0rd!' }
    : { user: env.SSPI_TEST_USER ?? 'testuser', domain: env.SSPI_TEST_DOMAIN ?? 'TESTDOMAIN', password: env.SSPI_TEST_PASSWORD ?? 'Passw0rd!' };

/** Runs fn and records { call, status, value? }; returns fn's result or undefined. */
async function record(calls, call, fn, describe) {
  try {
    const value = await fn();
    calls.push({ call, status: 'SEC_E_OK', ...(describe ? { value: describe(value) } : {}) });
    return value;
  } catch (e) {
    calls.push({ call, status: e instanceof api.SspiError ? e.code : `not an SspiError: ${e?.name}`, ...(e?.operation ? { operation: e.operation } : {}) });
    return undefined;
  }
}

async function handshakeOf(calls, pkg) {
  const client = await record(calls, 'AcquireCredentialsHandleW(outbound, identity)', () => api.Credentials.acquire({ package: pkg, use: 'outbound', identity: identityFor(pkg) }));
  const server = await record(calls, 'AcquireCredentialsHandleW(inbound)', () => api.Credentials.acquire({ package: pkg, use: 'inbound' }));
  if (!client || !server) return undefined;
  const c = new api.ClientContext(client, { target: 'HOST/localhost' });
  const s = new api.ServerContext(server);
  let input;
  for (let leg = 0; leg < 6; leg++) {
    const r = await record(calls, `InitializeSecurityContextW leg ${leg}`, () => c.step(input), (x) => ({ done: x.done, tokenBytes: x.token?.length ?? 0 }));
    if (!r?.token) break;
    const a = await record(calls, `AcceptSecurityContext leg ${leg}`, () => s.step(r.token), (x) => ({ done: x.done, tokenBytes: x.token?.length ?? 0 }));
    if (!a) break;
    input = a.token;
    if (!input) break;
  }
  return { c, s, close: () => [c, s, client, server].forEach((x) => x.close()) };
}

async function reportPackage(pkg) {
  const calls = [];
  const h = await handshakeOf(calls, pkg);
  if (!h || !h.s.isEstablished) return { calls };
  const { c, s } = h;
  const handle = (ctx) => ctx.handle;
  for (const attr of ['names', 'sizes', 'flags', 'packageInfo', 'negotiationInfo', 'lifespan', 'nativeNames']) {
    await record(calls, `QueryContextAttributesW(${attr}) server`, () => backend.queryContextAttributes(handle(s), attr), (v) => (attr === 'packageInfo' ? { name: v.name } : v));
  }
  await record(calls, 'negotiatedPackage (server)', () => s.negotiatedPackage, (v) => v);
  const msg = Buffer.from('report message');
  await record(calls, 'MakeSignature + VerifySignature c->s', () => s.verify(msg, c.sign(msg)));
  const sealed = await record(calls, 'EncryptMessage c', () => c.encrypt(msg), (v) => ({ bytes: v.length }));
  if (sealed) await record(calls, 'DecryptMessage s', () => s.decrypt(sealed), (v) => ({ equal: v.equals(msg) }));
  const s1 = c.sign(Buffer.from('one'));
  const s2 = c.sign(Buffer.from('two'));
  await record(calls, 'VerifySignature reordered (skipped one)', () => s.verify(Buffer.from('two'), s2));
  await record(calls, 'VerifySignature of the skipped one', () => s.verify(Buffer.from('one'), s1));
  await record(calls, 'VerifySignature replayed', () => s.verify(Buffer.from('one'), s1));
  const bad = c.sign(Buffer.from('three'));
  await record(calls, 'VerifySignature tampered', () => s.verify(Buffer.from('thrEe'), bad));
  await record(calls, 'ImpersonateSecurityContext + thread token', () => s.impersonate(() => binding.threadTokenInfo()), (v) => v && { level: v.level, restricted: v.restricted, privileges: v.privileges.length, sameSidAsProcess: v.sid === binding.processUserSid() });
  await record(calls, 'thread token after impersonate()', () => binding.threadTokenInfo(), (v) => v);

  // Export of an unfinished context (UNKNOWN on Windows).
  const creds = await api.Credentials.acquire({ package: pkg, use: 'outbound', identity: identityFor(pkg) }).catch(() => undefined);
  if (creds) {
    const half = new api.ClientContext(creds, { target: 'HOST/localhost' });
    await half.step().catch(() => undefined);
    await record(calls, 'ExportSecurityContext(unfinished client) raw', () => backend.exportSecurityContext(half.handle, 0), (v) => ({ bytes: v.packed.length, token: !!v.token, bufferType: v.bufferType }));
    half.close();
    creds.close();
  }
  for (const [name, flags] of [['0', 0], ['RESET_NEW', 1]]) {
    const r = await record(calls, `ExportSecurityContext(server, ${name}) raw`, () => backend.exportSecurityContext(handle(s), flags), (v) => ({ bytes: v.packed.length, token: !!v.token, bufferType: v.bufferType }));
    r?.token?.close();
  }
  const before = binding.closeHandleFailures();
  const exp = await record(calls, 'export({ deleteOld: true })', () => s.export({ deleteOld: true }), (v) => ({ packageName: v.packageName, credentialPackage: v.credentialPackage, bufferType: v.bufferType, token: !!v.token }));
  if (exp) {
    const packed = Buffer.from(exp.packed);
    for (const name of new Set([exp.packageName, exp.credentialPackage])) {
      const copy = new api.ExportedContext(name, Buffer.from(packed), { credentialPackage: name, bufferType: exp.bufferType });
      const ctx = await record(calls, `ImportSecurityContextW(${name}) without token`, () => api.importContext(copy));
      ctx?.close();
    }
    const imported = await record(calls, 'importContext(exported)', () => api.importContext(exp), (v) => ({ packageName: v.packageName }));
    if (imported) {
      await record(calls, 'imported names', () => imported.names, (v) => v);
      await record(calls, 'imported: DecryptMessage of a message sealed before the export', () => imported.decrypt(c.encrypt(msg)), (v) => ({ equal: v.equals(msg) }));
      await record(calls, 'imported: impersonate + thread token', () => imported.impersonate(() => binding.threadTokenInfo()), (v) => v && { level: v.level, restricted: v.restricted });
      await record(calls, 'imported: close() inside impersonate, thread token after', () => {
        imported.impersonate(() => imported.close());
        return binding.threadTokenInfo();
      }, (v) => v);
    }
    await record(calls, 'ImportSecurityContextW(garbage)', () => api.importContext(new api.ExportedContext(exp.packageName, Buffer.from('garbage garbage garbage garbage'))));
  }
  calls.push({ call: 'CloseHandle failures during export/import', status: 'SEC_E_OK', value: binding.closeHandleFailures() - before });
  h.close();
  return { calls };
}

const out = process.argv[2] ?? 'sspi-report.json';
const available = backend.enumerateSecurityPackages().map((p) => p.name);
const wanted = (process.argv[3] ?? 'NTLM,Negotiate,Kerberos,SspiTest,SspiTestNego').split(',').filter((p) => available.includes(p));
const report = { node: process.version, platform: process.platform, release: os.release(), wine: env.SSPI_WINE === '1', packages: {} };
for (const pkg of wanted) report.packages[pkg] = await reportPackage(pkg);
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`sspi-report: ${wanted.join(', ')} -> ${out}`);
