// Electron utility process: receive the client's context from the main
// process, then act for the client. receiveContext() listens on
// process.parentPort by default (https://www.electronjs.org/docs/latest/api/parent-port).
'use strict';

const { receiveContext, SspiError } = require('../../dist/index.js');

async function main() {
  const ctx = await receiveContext({ timeoutMs: 30_000 });
  const clientName = ctx.names.clientName;
  process.parentPort.on('message', (e) => {
    const m = e.data;
    if (m?.kind !== 'sealed') return;
    const plaintext = ctx.decrypt(Buffer.from(m.data, 'base64')).toString();
    const sealed = ctx.encrypt(Buffer.from(`${clientName}, this is utility process ${process.pid}`)).toString('base64');
    process.parentPort.postMessage({ kind: 'reply', clientName, plaintext, sealed, pid: process.pid });
    ctx.close();
  });
}

main().catch((e) => {
  console.error(`helper: ${e instanceof SspiError ? e.code : 'failed'}: ${e.message}`);
  process.exit(1);
});
