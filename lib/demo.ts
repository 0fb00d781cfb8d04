/**
 * The main job, end to end: a server authenticates a client, exports the
 * context and hands it to a forked worker, which imports it, names the client
 * and unseals a message the client sealed before the handoff.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ClientContext, ServerContext } from './context.js';
import { Credentials } from './credentials.js';
import { getBackend } from './backend/select.js';
import { sendContext } from './transfer.js';

const say = (step: string, text: string): void => console.log(`[server ${process.pid}] ${step.padEnd(10)} ${text}`);

export async function runDemo(): Promise<number> {
  const backend = getBackend();
  const native = backend.name === 'native';
  // On Windows the client is the current user through Negotiate; elsewhere a demo NTLM account.
  const identity = { user: 'alice', domain: 'CONTOSO', password: 'demo-only-Passw0rd!' };
  const packageName = native ? 'Negotiate' : 'NTLM';
  say('backend', `${backend.name}, package ${packageName}`);

  const serverCred = await Credentials.acquire({ package: packageName, use: 'inbound', ...(native ? {} : { users: [identity] }) });
  const clientCred = await Credentials.acquire({ package: packageName, use: 'outbound', ...(native ? {} : { identity }) });
  const client = new ClientContext(clientCred, { target: 'HOST/localhost' });
  const server = new ServerContext(serverCred);

  let input: Buffer | undefined;
  for (let leg = 1; ; leg++) {
    const c = await client.step(input);
    if (!c.token) break;
    say('handshake', `leg ${leg}: client -> server ${c.token.length} bytes`);
    const s = await server.step(c.token);
    if (s.done && !s.token) break;
    if (s.token) say('handshake', `leg ${leg}: server -> client ${s.token.length} bytes`);
    input = s.token;
    if (s.done && c.done) break;
  }
  const clientName = server.names.clientName;
  say('handshake', `complete; client is ${clientName}`);

  const secret = 'sealed by the client before the handoff';
  const sealed = client.encrypt(Buffer.from(secret));
  say('seal', `client sealed ${sealed.length} bytes`);

  const worker = fork(join(__dirname, 'demo-worker.js'), [], { stdio: 'inherit', env: { ...process.env, SSPI_CONTEXT_BACKEND: backend.name } });
  say('fork', `worker pid ${worker.pid}`);
  const replies = new Promise<{ clientName: string; plaintext: string; reply: string; impersonated?: string }>((resolve, reject) => {
    worker.on('message', (m: { demo?: string; clientName: string; plaintext: string; reply: string }) => m?.demo === 'done' && resolve(m));
    worker.on('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
  say('export', 'exporting the server context, sealed to the worker with an X25519-agreed key; exported with DELETE_OLD, so it leaves this process at once');
  await sendContext(worker, server);
  say('export', `source context is now ${server.isEstablished ? 'still live (unexpected)' : 'deleted'}`);
  worker.send({ demo: 'unseal', sealed: sealed.toString('base64') });
  const r = await replies;
  const reply = client.decrypt(Buffer.from(r.reply, 'base64')).toString();
  say('reply', `client unsealed the worker's reply: "${reply}"`);
  worker.disconnect();
  client.close();
  clientCred.close();
  serverCred.close();
  const allOk = r.plaintext === secret && r.clientName === clientName && !server.isEstablished && reply === `worker ${worker.pid} read: ${secret}`;
  console.log(allOk ? 'demo: OK' : 'demo: FAILED');
  return allOk ? 0 : 1;
}

if (require.main === module) {
  runDemo().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`demo: FAILED: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
