// The consumer's logic, shared by the CJS, ESM and bundled entries. It takes the library
// and child_process.fork as arguments, so each entry proves its own way of loading them.
// Parent: authenticate (fallback NTLM, in-memory users), hand the server context to a
// child with sendContext, then send the child a message sealed by the client side.
// Child: receiveContext, unseal, answer with the client's name and the plaintext.
const who = { domain: 'CONTOSO', user: 'alice', password: 'Package-Passw0rd!' };

async function parent(lib, fork, self) {
  const clientCred = await lib.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: who });
  const serverCred = await lib.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [who] });
  const client = new lib.ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new lib.ServerContext(serverCred);
  let input;
  for (;;) {
    const c = await client.step(input);
    if (!c.token) break;
    const s = await server.step(c.token);
    input = s.token;
    if (s.done) break;
  }
  if (!server.isEstablished) throw new Error('handshake did not complete');
  const child = fork(self, ['child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answer = new Promise((resolve, reject) => {
    child.on('message', (m) => { if (m && m.type === 'answer') resolve(m); });
    child.on('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
  });
  await lib.sendContext(child, server);
  child.send({ type: 'sealed', data: client.encrypt(Buffer.from('hello from the parent')).toString('base64') });
  const m = await answer;
  child.disconnect();
  client.close();
  clientCred.close();
  serverCred.close();
  // One line of JSON for the test to check.
  console.log(JSON.stringify({ moved: server.closed, clientName: m.clientName, plaintext: m.plaintext, childPid: m.pid }));
}

async function child(lib) {
  const ctx = await lib.receiveContext();
  process.on('message', (m) => {
    if (!m || m.type !== 'sealed') return;
    const plaintext = ctx.decrypt(Buffer.from(m.data, 'base64')).toString();
    process.send({ type: 'answer', clientName: ctx.names.clientName, plaintext, pid: process.pid });
    ctx.close();
  });
}

exports.run = (lib, fork, self, role) => (role === 'child' ? child(lib) : parent(lib, fork, self)).catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
