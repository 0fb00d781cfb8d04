// The worker module of the ContextPool tests, as a forked process or a worker
// thread. Each job names what the handler does with the context it received.
'use strict';
const fs = require('node:fs');
const { isMainThread, parentPort, threadId } = require('node:worker_threads');

const api = require(process.argv[2]);

/** Die at once, as a crash would: SIGKILL for a process, the thread's own exit for a thread. */
function die() {
  if (isMainThread) process.kill(process.pid, 'SIGKILL');
  else process.exit(1);
}

// Fault injection ahead of serveContexts: on the pool's announcement of a job
// marked `die-on-announce` (the first time, per marker file), die before the
// worker does anything with the transfer. Whether the context left by then is
// the sender's: on a worker's first job the sender has no Hello from it yet
// (docs/transfer-protocol.md), so it cannot have exported; on a later one it
// seals for the Hello it holds and the envelope goes out at once.
const channel = isMainThread ? process : parentPort;
channel.on('message', (m) => {
  const job = m && typeof m === 'object' ? m.job : undefined;
  if (job && job.action === 'die-on-announce' && !fs.existsSync(job.marker)) {
    fs.writeFileSync(job.marker, String(process.pid));
    die();
  }
});

let stash;

api.serveContexts(async (ctx, job, info) => {
  if (job.log) fs.appendFileSync(job.log, `${job.action} ${process.pid}/${threadId}\n`);
  const who = { clientName: ctx.names.clientName, pid: process.pid, threadId, attemptId: info.attemptId };
  switch (job.action) {
    case 'echo':
    case 'die-on-announce':
      return { ...who, job, kept: false, bytes: Buffer.from('abc'), map: new Map([['k', 1]]) };
    case 'seal': {
      // The imported context holds the session keys: unseal the client's message, seal an answer.
      const plain = ctx.decrypt(Buffer.from(job.sealed, 'base64')).toString();
      return { ...who, plain, sealed: ctx.encrypt(Buffer.from(`ack ${plain}`)).toString('base64') };
    }
    case 'slow':
      await new Promise((r) => setTimeout(r, job.ms));
      return { ...who, n: job.n };
    case 'hang':
      return new Promise(() => {});
    case 'die':
      die();
      return undefined;
    case 'throw-type':
      throw new TypeError(`password=${job.secret}`);
    case 'throw-sspi':
      throw new api.SspiError('SEC_E_LOGON_DENIED', 'AcceptSecurityContext', `secret ${job.secret}`);
    case 'uncloneable':
      return { fn: () => job.secret };
    case 'stash':
      stash = ctx;
      if (job.keep) info.keep();
      return who;
    case 'stash-state': {
      const s = stash;
      stash = undefined;
      const kept = Boolean(s && s.isEstablished);
      const clientName = kept ? s.names.clientName : null;
      if (s) s.close();
      return { ...who, kept, stashedClientName: clientName };
    }
    default:
      throw new RangeError('unknown action');
  }
});
