#!/usr/bin/env node
// HTTP Negotiate/NTLM front end with a pool of worker processes.
//
//   npm run build:ts
//   node examples/http-negotiate/server.js --port 8080 --users users.txt [--workers 2]
//   curl --ntlm -u 'CONTOSO\alice:Passw0rd!' http://127.0.0.1:8080/
//   node examples/http-negotiate/server.js --users users.txt --cert cert.pem --key key.pem [--channel-bindings require]
//
// With --cert and --key (PEM) it serves HTTPS, and NTLM handshakes are bound to
// the TLS channel (Extended Protection, RFC 5929 tls-server-end-point):
// --channel-bindings none|allow|require, default allow.
//
// The front process runs the handshake (negotiateHandler), then hands each
// authenticated context to a ContextPool of forked workers (worker.js), which
// moves it with sendContext. The worker acts as the client (on Windows it
// impersonates while it opens a file) and answers { clientName, pid }; the
// front writes that as the response. Restarts, retries and queueing are the
// pool's (docs/http-negotiate.md).
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { ContextPool, Credentials, negotiateHandler, SspiError } = require('../../dist/index.js');

const USAGE = 'usage: node examples/http-negotiate/server.js [--port N] [--users FILE] [--workers N] [--cert FILE --key FILE] [--channel-bindings none|allow|require]';

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        users: { type: 'string' },
        workers: { type: 'string', default: '2' },
        cert: { type: 'string' },
        key: { type: 'string' },
        'channel-bindings': { type: 'string', default: 'allow' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`${USAGE}\n  --users FILE  DOMAIN:user:password lines (the pure-TypeScript NTLM server's user store)`);
    process.exit(0);
  }
  const port = Number(values.port);
  const workers = Number(values.workers);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fatal('--port must be an integer from 0 to 65535');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) fatal('--workers must be an integer from 1 to 64');
  if (!values.users && !process.env.NTLM_USER_FILE && process.platform !== 'win32') fatal('--users FILE is required off Windows');
  if (!values.cert !== !values.key) fatal('--cert and --key go together');
  const channelBindings = values['channel-bindings'];
  if (!['none', 'allow', 'require'].includes(channelBindings)) fatal('--channel-bindings must be none, allow or require');
  let tls;
  if (values.cert) {
    try {
      tls = { cert: fs.readFileSync(values.cert), key: fs.readFileSync(values.key) };
    } catch (e) {
      fatal(`cannot read --cert/--key: ${e.code || e.message}`);
    }
  }
  return { port, workers, users: values.users, tls, channelBindings };
}

function fatal(message) {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main() {
  const opts = options();
  // Acquire up front so a bad users file is one clear line at startup, not a 500 later.
  let credentials;
  try {
    const [NTLM, Negotiate] = await Promise.all(
      ['NTLM', 'Negotiate'].map((pkg) => Credentials.acquire({ package: pkg, use: 'inbound', ...(opts.users ? { users: opts.users } : {}) })),
    );
    credentials = { NTLM, Negotiate };
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  const pool = new ContextPool(path.join(__dirname, 'worker.js'), {
    size: opts.workers,
    kind: 'process',
    onWorkerExit({ pid, reason, replacementPid }) {
      if (replacementPid !== undefined) console.error(`worker ${pid} exited (${reason}); restarted as ${replacementPid}`);
    },
  });

  const handler = negotiateHandler({
    schemes: ['Negotiate', 'NTLM'],
    credentials,
    // Checked against the TLS certificate of each connection; nothing to bind to on plain HTTP.
    channelBindings: opts.tls ? opts.channelBindings : 'none',
    async onAuthenticated(req, res, ctx) {
      req.resume();
      let answer;
      try {
        answer = await pool.run(ctx, {}); // the context moves out of this process
      } catch (e) {
        res.statusCode = 503;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: e instanceof SspiError ? e.code : 'WORKER_UNAVAILABLE' }));
        return;
      }
      const body = JSON.stringify({ clientName: answer.clientName, pid: answer.pid });
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(body);
    },
    onError(err) {
      // One line per refused leg; never the token or the password.
      if (process.env.HTTP_NEGOTIATE_LOG) console.error(`auth: ${err.message}`);
    },
  });

  // Connection ids make the NTLM rule visible: every leg must share one connection.
  let connections = 0;
  const connectionIds = new WeakMap();
  const listener = (req, res) => {
    res.setHeader('X-Connection-Id', String(connectionIds.get(req.socket)));
    handler(req, res);
  };
  const server = opts.tls ? https.createServer(opts.tls, listener) : http.createServer(listener);
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket) => connectionIds.set(socket, ++connections));
  server.keepAliveTimeout = 30_000;

  server.listen(opts.port, '127.0.0.1', () => {
    const { port } = server.address();
    console.log(`listening on ${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
  });

  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    handler.close();
    pool.close({ timeoutMs: 5_000 }).then(() => {
      credentials.NTLM.close();
      credentials.Negotiate.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
