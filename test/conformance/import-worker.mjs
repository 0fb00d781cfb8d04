// Second process of the conformance suite: imports a handed-off context and reports.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const api = createRequire(import.meta.url)(process.argv[2]);

async function handoff(m) {
  const ctx = await api.importContext(m.envelope, { key: m.key });
  const out = { pid: process.pid };
  out.plaintext = ctx.decrypt(Buffer.from(m.sealed)).toString();
  out.verified = ctx.verify(Buffer.from(m.msg), Buffer.from(m.sig));
  if (m.names) out.clientName = ctx.names.clientName;
  if (m.impersonate) out.impersonated = ctx.impersonate(() => true);
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
