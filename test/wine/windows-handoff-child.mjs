// Child of windows-handoff.test.mjs: imports the handed-off context with the public API.
import { createRequire } from 'node:module';
import { binding } from './helpers.mjs';

const api = createRequire(import.meta.url)(process.argv[2]);
api.setBackend('native');
process.once('message', async (m) => {
  const out = {};
  try {
    const ctx = await api.importContext(Buffer.from(m.envelope));
    out.plaintext = ctx.decrypt(Buffer.from(m.sealed)).toString();
    out.clientName = ctx.names.clientName;
    ctx.impersonate(() => {
      out.userDuring = binding.userName();
      out.threadDuring = binding.threadTokenSid();
    });
    out.threadAfter = binding.threadTokenSid();
    ctx.close();
  } catch (e) {
    out.error = `${e?.constructor?.name}: ${e?.code ?? ''} ${e?.message}`;
  }
  process.send(out, () => process.exit(0));
});
process.send({ ready: true, pid: process.pid });
