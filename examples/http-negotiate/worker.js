// A ContextPool worker for server.js: for each authenticated client, act as the
// client and answer { clientName, pid }. serveContexts receives the context,
// runs this handler, replies, and closes the context afterwards.
'use strict';

const fs = require('node:fs');
const { serveContexts, SspiError } = require('../../dist/index.js');

if (typeof process.send !== 'function') {
  console.error('worker.js runs under examples/http-negotiate/server.js (a ContextPool worker)');
  process.exit(2);
}

/** What the client is allowed to read: on Windows the file is opened with the client's token. */
function actAsClient(ctx) {
  if (process.platform !== 'win32') return; // impersonation needs Windows SSPI
  try {
    ctx.impersonate(() => {
      // Synchronous on purpose: only this thread runs as the client.
      fs.readFileSync(__filename);
    });
  } catch (e) {
    // The pure-TypeScript backend (SSPI_CONTEXT_BACKEND=fallback) cannot impersonate.
    if (e instanceof SspiError && e.code === 'SEC_E_UNSUPPORTED_FUNCTION') return;
    throw e;
  }
}

serveContexts(async (ctx) => {
  const clientName = ctx.names.clientName;
  actAsClient(ctx);
  return { clientName, pid: process.pid };
});
