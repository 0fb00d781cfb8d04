// Shared test helper: a complete NTLM handshake through the public API (dist build).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const apiPath = require.resolve('../../dist/index.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const api = require(apiPath) as typeof import('../../lib/index.js');

export const identity = { user: 'alice', domain: 'CONTOSO', password: 'Passw0rd!transfer' };

/** Step client and server until neither has a token to send. */
export async function runLegs(client: { step(t?: Buffer): Promise<{ token?: Buffer }> }, server: { step(t: Buffer): Promise<{ token?: Buffer }> }): Promise<void> {
  let input: Buffer | undefined;
  for (;;) {
    const c = await client.step(input);
    if (!c.token) break;
    const s = await server.step(c.token);
    input = s.token;
    if (!input) break;
  }
}

export async function establish(packageName = 'NTLM', who = identity) {
  const clientCred = await api.Credentials.acquire({ package: packageName, use: 'outbound', identity: who });
  const serverCred = await api.Credentials.acquire({ package: packageName, use: 'inbound', users: [identity] });
  const client = new api.ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new api.ServerContext(serverCred);
  await runLegs(client, server);
  return {
    client,
    server,
    close() {
      client.close();
      server.close();
      clientCred.close();
      serverCred.close();
    },
  };
}
