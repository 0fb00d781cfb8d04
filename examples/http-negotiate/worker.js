// A pool worker: for each job the front announces, receive the client's
// context, act as the client, and answer { clientName, pid }.
'use strict';

const fs = require('node:fs');
const { receiveContext, SspiError } = require('../../dist/index.js');

if (typeof process.send !== 'function') {
  console.error('worker.js runs under examples/http-negotiate/server.js (child_process.fork)');
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

/** Answer the front; if it is gone there is no one to tell. */
function reply(message) {
  if (process.connected) process.send(message, (err) => err && process.exit(0));
}

const codeOf = (e) => (e instanceof SspiError ? e.code : 'SEC_E_INTERNAL_ERROR');

process.on('message', (m) => {
  if (!m || typeof m !== 'object' || m.type !== 'job') return;
  const id = m.id;
  // Called synchronously in the 'job' handler: the offer that follows on the
  // same channel finds the listener in place.
  receiveContext({ from: process, timeoutMs: 10_000 }).then(
    (ctx) => {
      try {
        const clientName = ctx.names.clientName;
        actAsClient(ctx);
        reply({ type: 'result', id, clientName, pid: process.pid });
      } catch (e) {
        reply({ type: 'error', id, code: codeOf(e) });
      } finally {
        ctx.close();
      }
    },
    (e) => reply({ type: 'error', id, code: codeOf(e) }),
  );
});

// The front went away (or is shutting down): nothing more to do.
process.on('disconnect', () => process.exit(0));
