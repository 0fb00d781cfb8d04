#!/usr/bin/env node
// HTTP Negotiate/NTLM front end with a pool of worker processes.
//
//   npm run build:ts
//   node examples/http-negotiate/server.js --port 8080 --users users.txt [--workers 2]
//   curl --ntlm -u 'CONTOSO\alice:Passw0rd!' http://127.0.0.1:8080/
//
// The front process runs the handshake (negotiateHandler), then moves each
// authenticated context to one worker with sendContext. The worker imports it,
// acts as the client (on Windows it impersonates while it opens a file) and
// answers { clientName, pid } over IPC; the front writes that as the response.
'use strict';

const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');
const { Credentials, negotiateHandler, sendContext, SspiError } = require('../../dist/index.js');

const USAGE = 'usage: node examples/http-negotiate/server.js [--port N] [--users FILE] [--workers N]';

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        users: { type: 'string' },
        workers: { type: 'string', default: '2' },
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
  return { port, workers, users: values.users };
}

function fatal(message) {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

/**
 * A fixed pool of forked workers. One transfer per worker at a time (a worker's
 * receiveContext takes the next offer on its channel), so jobs queue for the
 * next idle worker. A worker that dies is replaced; its job fails unless the
 * context had not left this process yet, in which case it is retried.
 */
class WorkerPool {
  constructor(size) {
    this.size = size;
    this.slots = [];
    this.queue = [];
    this.nextId = 1;
    this.stopping = false;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  spawn(index) {
    const child = fork(path.join(__dirname, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot = { index, child, job: null };
    child.on('message', (m) => this.onMessage(slot, m));
    // Without this listener a send on a dead channel would crash the front.
    child.on('error', (e) => console.error(`worker ${child.pid}: ${e.message}`));
    child.once('exit', (code, signal) => this.onExit(slot, code, signal));
    return slot;
  }

  /** Hand `ctx` to a worker; resolves to the worker's answer. */
  run(ctx) {
    return new Promise((resolve, reject) => {
      if (this.stopping) return reject(new Error('the pool is shutting down'));
      this.queue.push({ id: this.nextId++, ctx, resolve, reject, attempts: 0 });
      this.pump();
    });
  }

  pump() {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job || !slot.child.connected) continue;
      this.start(slot, this.queue.shift());
    }
  }

  start(slot, job) {
    slot.job = job;
    job.attempts++;
    job.transferred = false;
    try {
      slot.child.send({ type: 'job', id: job.id });
    } catch (e) {
      this.settle(slot, job, e);
      return;
    }
    // The worker's reply ({ type: 'result' | 'error', id }) settles the job;
    // a failed transfer settles it here.
    sendContext(slot.child, job.ctx, { timeoutMs: 10_000 }).then(
      () => {
        job.transferred = true;
      },
      (e) => this.settle(slot, job, e),
    );
  }

  onMessage(slot, m) {
    if (!m || typeof m !== 'object' || (m.type !== 'result' && m.type !== 'error')) return;
    const job = slot.job;
    if (!job || job.id !== m.id) return;
    if (m.type === 'result') this.settle(slot, job, null, { clientName: m.clientName, pid: m.pid });
    else this.settle(slot, job, new SspiError(m.code || 'SEC_E_INTERNAL_ERROR', 'Worker', 'the worker could not act for the client'));
  }

  settle(slot, job, err, value) {
    if (slot.job !== job) return;
    slot.job = null;
    if (err) job.reject(err);
    else job.resolve(value);
    setImmediate(() => this.pump());
  }

  onExit(slot, code, signal) {
    const job = slot.job;
    slot.job = null;
    if (job) {
      // The context is still ours if the export never happened: try another worker.
      if (!job.ctx.closed && job.attempts < 3 && !this.stopping) this.queue.unshift(job);
      else job.reject(new SspiError('SEC_E_INCOMPLETE_MESSAGE', 'Worker', 'the worker exited during the transfer'));
    }
    if (this.stopping) return;
    const replacement = this.spawn(slot.index);
    this.slots[slot.index] = replacement;
    console.error(`worker ${slot.child.pid} exited (${signal || code}); restarted as ${replacement.child.pid}`);
    this.pump();
  }

  /** Disconnect every worker (they exit when the channel closes) and wait for them. */
  stop() {
    this.stopping = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the pool is shutting down'));
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise((resolve) => {
            const child = slot.child;
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            if (child.connected) child.disconnect();
            else child.kill();
          }),
      ),
    );
  }
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
  const pool = new WorkerPool(opts.workers);

  const handler = negotiateHandler({
    schemes: ['Negotiate', 'NTLM'],
    credentials,
    async onAuthenticated(req, res, ctx) {
      req.resume();
      let answer;
      try {
        answer = await pool.run(ctx); // the context moves out of this process
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
  const server = http.createServer((req, res) => {
    res.setHeader('X-Connection-Id', String(connectionIds.get(req.socket)));
    handler(req, res);
  });
  server.on('connection', (socket) => connectionIds.set(socket, ++connections));
  server.keepAliveTimeout = 30_000;

  server.listen(opts.port, '127.0.0.1', () => {
    const { port } = server.address();
    console.log(`listening on http://127.0.0.1:${port}`);
  });

  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    handler.close();
    pool.stop().then(() => {
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
