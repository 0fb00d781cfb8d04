/** The demo's worker: receives the context, names the client, unseals, replies. */
import { receiveContext } from './transfer.js';

const say = (step: string, text: string): void => console.log(`[worker ${process.pid}] ${step.padEnd(10)} ${text}`);

async function main(): Promise<void> {
  const ctx = await receiveContext();
  const clientName = ctx.names.clientName;
  say('import', `imported a ${ctx.packageName} context for ${clientName}`);
  let impersonated: string | undefined;
  if (process.platform === 'win32') {
    impersonated = ctx.impersonate(() => require('node:os').userInfo().username as string);
    say('impersonate', `ran as ${impersonated}`);
  }
  const m = await new Promise<{ sealed: string }>((resolve) => process.once('message', resolve));
  const plaintext = ctx.decrypt(Buffer.from(m.sealed, 'base64')).toString();
  say('unseal', `"${plaintext}"`);
  const reply = ctx.encrypt(Buffer.from(`worker ${process.pid} read: ${plaintext}`)).toString('base64');
  ctx.close();
  process.send!({ demo: 'done', clientName, plaintext, reply, impersonated });
}

main().catch((e: unknown) => {
  console.error(`[worker ${process.pid}] FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
