// Runs inside the project that installed the packed tarball (copied there by
// tarball.test.mjs), so require('sspi-context') is the installed package. Reports over IPC.
const path = require('node:path');
const fs = require('node:fs');
const { Credentials, ClientContext, ServerContext, getBackend } = require('sspi-context');

async function main() {
  const pkgDir = path.dirname(require.resolve('sspi-context/package.json'));
  const backend = getBackend().name; // loads the addon: no SSPI_CONTEXT_ADDON in this process
  const identity = { user: process.env.SSPI_TEST_USER, domain: process.env.SSPI_TEST_DOMAIN, password: process.env.SSPI_TEST_PASSWORD };
  const clientCred = await Credentials.acquire({ package: 'NTLM', use: 'outbound', identity });
  const serverCred = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
  const client = new ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new ServerContext(serverCred);
  let input;
  const tokens = [];
  for (let i = 0; i < 4; i++) {
    const c = await client.step(input);
    if (!c.token) break;
    tokens.push(c.token.readUInt32LE(8));
    const s = await server.step(c.token);
    input = s.token;
    if (input) tokens.push(input.readUInt32LE(8));
    if (s.done) break;
  }
  // Wine's NTLM cannot unseal or name (test/wine/ntlm.test.mjs): the handshake is the proof.
  const result = {
    backend,
    established: client.isEstablished && server.isEstablished,
    messageTypes: tokens,
    addonEnv: process.env.SSPI_CONTEXT_ADDON ?? null,
    hasBuildDir: fs.existsSync(path.join(pkgDir, 'build')),
    prebuilds: fs.readdirSync(path.join(pkgDir, 'prebuilds', 'win32-x64')),
  };
  client.close();
  server.close();
  clientCred.close();
  serverCred.close();
  process.send(result);
}

main().catch((e) => process.send({ error: String(e && e.stack ? e.stack : e) }));
