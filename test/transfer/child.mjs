// A receiver for the transfer tests, as a child process or a worker thread.
// Modes named raw-* speak the wire protocol by hand (docs/transfer-protocol.md)
// to play a receiver that misbehaves; the others use the public API.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const [apiPath, mode, arg] = parentPort ? [workerData.apiPath, workerData.mode, workerData.arg] : process.argv.slice(2);
const api = createRequire(import.meta.url)(apiPath);
const port = parentPort ?? process;
const send = (m) => (parentPort ? parentPort.postMessage(m) : process.send(m));
const onMessage = (fn) => port.once('message', fn);
// With the channel gone, the code goes to stdout instead.
const report = (code) => (parentPort || process.connected ? send({ kind: 'code', code }) : process.stdout.write(`CODE=${code}\n`));
const codeOf = (e) => (e instanceof api.SspiError ? e.code : `not SspiError: ${e}`);
const nextOf = (kind) => new Promise((resolve) => {
  const on = (m) => {
    if (m?.kind === kind) {
      port.off('message', on);
      resolve(m);
    }
  };
  port.on('message', on);
});

/** A Hello with a real X25519 key, as a receiver that listens would send it. */
function rawHello(extra = {}) {
  const { publicKey } = generateKeyPairSync('x25519');
  return { type: 'sspi-context/hello', listener: randomBytes(16).toString('hex'), publicKey: publicKey.export({ format: 'jwk' }).x, ...extra };
}

/** Say Hello (again on every Solicit), and hand each envelope addressed to it to `onEnvelope`. */
function rawListen(hello, onEnvelope) {
  send(hello);
  port.on('message', (m) => {
    if (m?.type === 'sspi-context/solicit') send(hello);
    else if (m?.type === 'sspi-context/envelope' && m.listener === hello.listener) onEnvelope(m);
  });
}

/** Decrypt, unseal and answer, so the parent can check the context is live here. */
function serveSealed(ctx) {
  onMessage((m) => {
    const plaintext = ctx.decrypt(Buffer.from(m.sealed, 'base64')).toString();
    send({ kind: 'plaintext', plaintext, reply: ctx.encrypt(Buffer.from('ack')).toString('base64') });
    ctx.close();
  });
}

/** A handshake in this process (the tests' helper is TypeScript; this file runs in plain node). */
async function establishHere() {
  const who = { user: 'alice', domain: 'CONTOSO', password: 'Passw0rd!transfer' };
  const cc = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: who });
  const sc = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [who] });
  const client = new api.ClientContext(cc, { target: 'HOST/localhost' });
  const server = new api.ServerContext(sc);
  let input;
  for (;;) {
    const c = await client.step(input);
    if (!c.token) break;
    input = (await server.step(c.token)).token;
    if (!input) break;
  }
  return { client, server, cc, sc };
}

async function main() {
  if (mode === 'receive') {
    const ctx = await api.receiveContext({ timeoutMs: 20_000 });
    send({ kind: 'imported', clientName: ctx.names.clientName, pid: process.pid });
    serveSealed(ctx);
  } else if (mode === 'receive-loop') {
    // Listen again after each import, as a pool worker does.
    for (let i = 0; i < Number(arg); i++) {
      const ctx = await api.receiveContext({ timeoutMs: 20_000 });
      send({ kind: 'imported', i, clientName: ctx.names.clientName });
      ctx.close();
    }
  } else if (mode === 'parent-port') {
    // Forked with --require parent-port-shim.cjs: an Electron-style process.parentPort.
    const ctx = await api.receiveContext(); // the default source: process.parentPort
    send({ kind: 'imported', clientName: ctx.names.clientName, pid: process.pid });
    serveSealed(ctx);
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
  } else if (mode === 'raw-exit-on-solicit') {
    // A process that never listens and vanishes when a sender asks for a receiver.
    port.on('message', (m) => {
      if (m?.type === 'sspi-context/solicit') process.exit(0);
    });
    send({ kind: 'ready', pid: process.pid });
  } else if (mode === 'raw-exit-on-envelope') {
    // Takes the envelope and dies before answering: the acknowledgement is lost.
    rawListen(rawHello(), () => process.exit(0));
  } else if (mode === 'raw-claims-pid') {
    // Claims to be pid 1 in its Hello, then reports where the envelope was bound.
    rawListen(rawHello({ pid: 1 }), (m) => {
      const { header } = api.readHandoffHeader(Buffer.from(m.envelope, 'base64'));
      send({ kind: 'bound', targetPid: header.targetPid, pid: process.pid });
    });
  } else if (mode === 'two-receivers') {
    // Two listeners in flight on one channel; each reports what it got.
    for (const which of [0, 1]) {
      api.receiveContext({ timeoutMs: 20_000 }).then(
        (ctx) => {
          send({ kind: 'imported', which, clientName: ctx.names.clientName });
          ctx.close();
        },
        (e) => send({ kind: 'failed', which, code: codeOf(e) }),
      );
    }
  } else if (mode === 'receive-and-echo-refusal') {
    // A real receiver, plus a second party on the same channel that answers every
    // envelope it sees with a refusal for the same transfer (`id` named it in the
    // first protocol, `listener` and `transfer` now).
    port.on('message', (m) => {
      if (m?.type === 'sspi-context/envelope') send({ type: 'sspi-context/result', ok: false, id: m.id, listener: m.listener, transfer: m.transfer, status: 0x80090308 });
    });
    const ctx = await api.receiveContext({ timeoutMs: 20_000 });
    send({ kind: 'imported', clientName: ctx.names.clientName, pid: process.pid });
    serveSealed(ctx);
  } else if (mode === 'expire-then-receive') {
    // One listener that times out (and withdraws), then, when told, one that takes a context.
    const first = await api.receiveContext({ timeoutMs: 20_000 });
    first.close();
    send({ kind: 'first' });
    try {
      await api.receiveContext({ timeoutMs: Number(arg ?? 100) });
      send({ kind: 'unexpected' });
    } catch (e) {
      send({ kind: 'expired', code: codeOf(e) });
    }
    await nextOf('go');
    const ctx = await api.receiveContext({ timeoutMs: 20_000 });
    send({ kind: 'imported', clientName: ctx.names.clientName });
    ctx.close();
  } else if (mode === 'send-to-parent') {
    // The other direction: this child hands a context to its parent over `process`.
    const { client, server, cc, sc } = await establishHere();
    await api.sendContext(process, server);
    send({ kind: 'sent', closedHere: server.closed, sealed: client.encrypt(Buffer.from('from the child')).toString('base64') });
    client.close();
    cc.close();
    sc.close();
  } else if (mode === 'receive-expect-failure') {
    try {
      await api.receiveContext({ timeoutMs: Number(arg ?? 500) });
      report('imported');
    } catch (e) {
      report(codeOf(e));
    }
  } else if (mode === 'debug-roundtrip') {
    // NODE_DEBUG=sspi-context is set by the parent: one transfer in this process.
    const { MessageChannel } = await import('node:worker_threads');
    const { client, server, cc, sc } = await establishHere();
    const { port1, port2 } = new MessageChannel();
    const received = api.receiveContext({ from: port2 });
    await api.sendContext(port1, server);
    (await received).close();
    port1.close();
    client.close();
    cc.close();
    sc.close();
    send({ kind: 'done' });
  }
}

main().catch((e) => {
  send({ kind: 'error', error: String(e?.stack ?? e) });
});
