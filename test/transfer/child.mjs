// A receiver for the transfer tests, as a child process or a worker thread.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const [apiPath, mode] = parentPort ? [workerData.apiPath, workerData.mode] : process.argv.slice(2);
const api = createRequire(import.meta.url)(apiPath);
const send = (m) => (parentPort ? parentPort.postMessage(m) : process.send(m));
const onMessage = (fn) => (parentPort ? parentPort.once('message', fn) : process.once('message', fn));
// With the channel gone, the code goes to stdout instead.
const report = (code) => (parentPort || process.connected ? send({ kind: 'code', code }) : process.stdout.write(`CODE=${code}\n`));
const codeOf = (e) => (e instanceof api.SspiError ? e.code : `not SspiError: ${e}`);

async function main() {
  if (mode === 'receive') {
    const ctx = await api.receiveContext({ timeoutMs: 20_000 });
    const clientName = ctx.names.clientName;
    send({ kind: 'imported', clientName, pid: process.pid });
    onMessage((m) => {
      const plaintext = ctx.decrypt(Buffer.from(m.sealed, 'base64')).toString();
      send({ kind: 'plaintext', plaintext, reply: ctx.encrypt(Buffer.from('ack')).toString('base64') });
      ctx.close();
    });
  } else if (mode === 'envelope') {
    // Import an envelope given raw, and report the code of each attempt.
    onMessage(async (m) => {
      const codes = [];
      for (const attempt of m.attempts) {
        try {
          const ctx = await api.importContext(Buffer.from(attempt.envelope, 'base64'), attempt.key ? { key: Buffer.from(attempt.key, 'base64') } : {});
          codes.push('imported');
          ctx.close();
        } catch (e) {
          codes.push(codeOf(e));
        }
        if (attempt.delayMs) await new Promise((r) => setTimeout(r, attempt.delayMs));
      }
      send({ kind: 'codes', codes, pid: process.pid });
    });
    send({ kind: 'ready', pid: process.pid });
  } else if (mode === 'drop-after-offer') {
    // Take the offer, then vanish mid-transfer.
    (parentPort ?? process).on('message', (m) => {
      if (m?.type === 'sspi-context/offer') process.exit(0);
    });
    send({ kind: 'ready', pid: process.pid });
  } else if (mode === 'receive-expect-failure') {
    try {
      await api.receiveContext({ timeoutMs: Number(process.argv[4] ?? 500) });
      report('imported');
    } catch (e) {
      report(codeOf(e));
    }
  }
}

main().catch((e) => {
  send({ kind: 'error', error: String(e?.stack ?? e) });
});
