// Run with NODE_DEBUG=sspi-context by debuglog.test.ts: a handshake, seal, export, and a
// sendContext round trip to a forked copy of this script, all with canary secrets. Prints
// (as the last stdout line) the secrets the test must not find in either process's stderr.
const { fork } = require('node:child_process');
const api = require(process.argv[2]);
const { md4 } = require(process.argv[3]);

const password = 'Canary-Passw0rd-1b9e6c';
const who = { domain: 'CANARYDOM', user: 'canary', password };

async function parent() {
  const clientCred = await api.Credentials.acquire({ package: 'Negotiate', use: 'outbound', identity: who });
  // Negotiate on the server: the log names the package it selected (NTLM, under SPNEGO).
  const serverCred = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: [who] });
  const client = new api.ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new api.ServerContext(serverCred);
  const tokens = [];
  let input;
  for (;;) {
    const c = await client.step(input);
    if (!c.token) break;
    tokens.push(c.token);
    const s = await server.step(c.token);
    input = s.token;
    if (!input) break;
    tokens.push(input);
    if (s.done) {
      await client.step(input); // SPNEGO's last leg: the server's accept-completed (RFC 4178 4.2.2)
      break;
    }
  }
  const sealed = client.encrypt(Buffer.from('canary plaintext'));
  server.decrypt(sealed);
  // The packed context holds the session keys (MS-NLMP 3.4: signing and sealing keys).
  const exported = await client.export({ resetNew: false });
  const packed = Buffer.from(exported.packed);
  const key = Buffer.alloc(32, 0x5a);
  const envelope = api.encodeHandoff(exported, { key });
  const imported = await api.importContext(envelope, { key });
  imported.close();
  const child = fork(__filename, [process.argv[2], process.argv[3], 'child'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let childLog = '';
  child.stderr.on('data', (d) => (childLog += d));
  await api.sendContext(child, server);
  await new Promise((resolve) => child.once('exit', resolve));
  client.close();
  clientCred.close();
  serverCred.close();
  const ntHash = md4(Buffer.from(password, 'utf16le'));
  console.log(JSON.stringify({ password, ntHash: ntHash.toString('hex'), packed: packed.toString('hex'), envelopeKey: key.toString('hex'), childLog, tokens: tokens.map((t) => t.toString('hex')) }));
}

async function child() {
  const ctx = await api.receiveContext();
  ctx.close();
  process.disconnect();
}

(process.argv[4] === 'child' ? child() : parent()).catch((e) => {
  console.error(e.stack);
  process.exit(1);
});
