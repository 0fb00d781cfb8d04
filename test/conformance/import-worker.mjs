// Second process of the conformance suite: imports a handed-off context and reports.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const require = createRequire(import.meta.url);
const api = require(process.argv[2]);

// The thread-token probe of the native addon (test-only export), next to the API module.
function threadToken() {
  return require(path.join(path.dirname(process.argv[2]), 'native', 'index.js')).loadAddon().threadTokenInfo();
}

async function handoff(m) {
  const ctx = await api.importContext(m.envelope, { key: m.key });
  const out = { pid: process.pid };
  out.plaintext = ctx.decrypt(Buffer.from(m.sealed)).toString();
  out.verified = ctx.verify(Buffer.from(m.msg), Buffer.from(m.sig));
  if (m.names) out.clientName = ctx.names.clientName;
  out.packageName = ctx.packageName;
  if (m.impersonate) {
    out.impersonatedToken = ctx.impersonate(() => threadToken());
    out.afterRevert = threadToken();
  }
  out.reply = ctx.encrypt(Buffer.from('reply from the worker'));
  ctx.close();
  return out;
}

async function code(p) {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    return e instanceof api.SspiError ? e.code : `not SspiError: ${e}`;
  }
}

async function refusals(m) {
  const altered = Buffer.from(m.envelope);
  altered[altered.length - 20] ^= 0x40;
  const wrongKey = await code(api.importContext(m.envelope, { key: randomBytes(32) }));
  const alteredCode = await code(api.importContext(altered, { key: m.key }));
  const first = await api.importContext(m.envelope, { key: m.key });
  first.close();
  const second = await code(api.importContext(m.envelope, { key: m.key }));
  return { codes: { second, wrongKey, altered: alteredCode } };
}

process.once('message', async (m) => {
  let result;
  try {
    result = m.refusals ? await refusals(m) : await handoff(m);
  } catch (e) {
    result = { error: `${e?.constructor?.name}: ${e?.message}` };
  }
  process.send(result, () => process.exit(0));
});
process.send({ ready: true });
