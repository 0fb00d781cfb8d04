// Electron main process: authenticate a client, then hand its security
// context to a utility process, which acts for the client from then on.
//
//   npm run build:ts && npx electron examples/electron/main.js
//
// The handshake here runs in-process against the pure-TypeScript NTLM server
// (a fixed demo user); in an app the tokens come from the network.
'use strict';

const path = require('node:path');
const { app, utilityProcess } = require('electron');
const { ClientContext, Credentials, ServerContext, sendContext, SspiError } = require('../../dist/index.js');

const demoUser = { domain: 'CONTOSO', user: 'alice', password: 'Passw0rd!electron' };

async function authenticate() {
  const clientCred = await Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: demoUser });
  const serverCred = await Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [demoUser] });
  const client = new ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new ServerContext(serverCred);
  let token;
  for (;;) {
    const c = await client.step(token);
    if (!c.token) break;
    token = (await server.step(c.token)).token;
    if (!token) break;
  }
  return { client, server, close: () => [client, clientCred, serverCred].forEach((x) => x.close()) };
}

async function main() {
  const { client, server, close } = await authenticate();
  // https://www.electronjs.org/docs/latest/api/utility-process
  const helper = utilityProcess.fork(path.join(__dirname, 'helper.js'), [], { serviceName: 'sspi-context helper' });
  await new Promise((resolve) => helper.once('spawn', resolve));

  // The envelope is bound to helper.pid; the context moves (it is closed here).
  await sendContext(helper, server);
  console.log(`main: handed the context to utility process ${helper.pid}; here it is closed: ${server.closed}`);

  // The helper holds the session now: it unseals what the client sealed.
  const answer = new Promise((resolve) => helper.on('message', (m) => m?.kind === 'reply' && resolve(m)));
  helper.postMessage({ kind: 'sealed', data: client.encrypt(Buffer.from('hello from the client')).toString('base64') });
  const reply = await answer;
  console.log(`main: the helper (pid ${reply.pid}) acts for ${reply.clientName} and read "${reply.plaintext}"`);
  console.log(`main: its sealed answer reads "${client.decrypt(Buffer.from(reply.sealed, 'base64')).toString()}"`);
  close();
  helper.kill();
}

app.whenReady().then(main).then(
  () => app.quit(),
  (e) => {
    console.error(e instanceof SspiError ? `${e.code}: ${e.message}` : e);
    app.exit(1);
  },
);
