// The unauthenticated twin of examples/http-negotiate/server.js for the bench:
// the same front shape (node:http on loopback, N forked workers, one job per
// worker at a time, queueing for the next idle one) without the handshake and
// the handoff: each request is one IPC round trip to a worker.
//
//   node bench/http-baseline-server.cjs --workers N      (prints "listening on http://127.0.0.1:PORT")
//   node bench/http-baseline-server.cjs --worker         (a worker; forked by the front)
//   node bench/http-baseline-server.cjs --authenticate USERS
//       (a diagnostic: the example's handshake, answered by the front itself,
//        no workers and no handoff: what the handshake costs without the transfer)
'use strict';

const http = require('node:http');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');

const { values } = parseArgs({
  options: { workers: { type: 'string', default: '2' }, worker: { type: 'boolean', default: false }, authenticate: { type: 'string' } },
});

if (values.authenticate) {
  const { negotiateHandler } = require('../dist/index.js');
  const handler = negotiateHandler({
    schemes: ['Negotiate', 'NTLM'],
    acquire: { users: values.authenticate },
    onAuthenticated(req, res, ctx) {
      req.resume();
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ clientName: ctx.names.clientName, pid: process.pid }));
    },
  });
  const server = http.createServer((req, res) => void handler(req, res));
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    handler.close();
    process.exit(0);
  });
} else if (values.worker) {
  // Answer what the example's worker answers: { clientName, pid }.
  process.on('message', (m) => process.send({ id: m.id, clientName: 'anonymous', pid: process.pid }));
  process.on('disconnect', () => process.exit(0));
} else {
  const size = Number(values.workers);
  // 'advanced' serialization, as ContextPool forks its workers.
  const workers = Array.from({ length: size }, () => {
    const child = fork(__filename, ['--worker'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { child, busy: null };
    child.on('message', (m) => {
      const job = w.busy;
      w.busy = null;
      if (job && job.id === m.id) job.done(m);
      pump();
    });
    return w;
  });
  const queue = [];
  let seq = 0;
  const pump = () => {
    for (const w of workers) {
      if (queue.length === 0) return;
      if (w.busy) continue;
      w.busy = queue.shift();
      w.child.send({ id: w.busy.id });
    }
  };
  const server = http.createServer((req, res) => {
    req.resume();
    queue.push({
      id: ++seq,
      done: (m) => {
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ clientName: m.clientName, pid: m.pid }));
      },
    });
    pump();
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    for (const w of workers) w.child.disconnect();
    process.exit(0);
  });
}
