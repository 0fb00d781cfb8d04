// Strict TypeScript consumer (module nodenext, skipLibCheck false): the README's API.
import { readFileSync } from 'node:fs';
import {
  Credentials, ClientContext, ServerContext, SspiError, importContext, encodeHandoff, decodeHandoff,
  sendContext, receiveContext, describeStatus, negotiateHandler, setNativeBinding, IscReq, AscReq, SecPkgAttr, ContextPool, serveContexts,
  type ExportedContext, type SecurityContext, type StepResult, ExportedContext as ExportedContextClass,
} from 'sspi-context';
import { createServer } from 'node:http';
import { fork } from 'node:child_process';

export async function serve(clientToken: Buffer, key: Buffer, pid: number): Promise<Buffer> {
  const cred: Credentials = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
  const ctx = new ServerContext(cred, { flags: AscReq.CONFIDENTIALITY | AscReq.INTEGRITY });
  const r: StepResult = await ctx.step(clientToken);
  if (!r.done && r.token) r.token.byteLength satisfies number;
  const exported: ExportedContext = await ctx.export({ deleteOld: true });
  return encodeHandoff(exported, { key, targetPid: pid, ttlMs: 30_000 });
}

export async function act(bytes: Buffer, key: Buffer): Promise<string> {
  const header = decodeHandoff(bytes, { key });
  void header;
  const client: SecurityContext = await importContext(bytes, { key });
  const name: string = client.names.clientName;
  const data: Buffer = client.impersonate(() => readFileSync('/etc/hostname'));
  const sealed: Buffer = client.encrypt(data);
  client.verify(data, client.sign(data));
  client.close();
  return name + sealed.length;
}

export async function client(): Promise<void> {
  const cred = await Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: 'alice', domain: 'CONTOSO', password: 'x' } });
  using ctx = new ClientContext(cred, { target: 'HTTP/server.example.com', flags: IscReq.CONFIDENTIALITY });
  await ctx.step();
  const worker = fork('worker.js');
  await sendContext(worker, ctx, { timeoutMs: 5_000 });
  const got = await receiveContext({ timeoutMs: 5_000 });
  got.close();
  const attr: number = SecPkgAttr.NAMES;
  void attr;
}

export function errors(e: unknown): string {
  if (e instanceof SspiError) {
    const code: SspiError['code'] = e.code;
    const status: number = e.status;
    if (code === 'SEC_E_LOGON_DENIED') return `${e.operation} ${status}`;
    const unknown: SspiError['code'] = '0x8009FFFF';
    return unknown;
  }
  // @ts-expect-error a misspelt status name is not a SspiError code
  const c: SspiError['code'] = 'SEC_E_LOGON_DENYED';
  return c + describeStatus('SEC_E_OK').hex;
}

export function http(): void {
  setNativeBinding('C:\\app\\sspi_context.node');
  createServer(negotiateHandler({
    acquire: { users: 'users.txt' },
    onAuthenticated(_req, res, ctx, info) {
      res.end(`hello ${ctx.names.clientName} ${info.scheme}`);
    },
  })).listen(0, '127.0.0.1');
}

// Internals are not in the public typings.
// @ts-expect-error Backend is not exported
export type B = import('sspi-context').Backend;
// @ts-expect-error getBackend is internal
export const gb = (await import('sspi-context')).getBackend;
export class Sub extends ClientContext {
  peek(): unknown {
    // @ts-expect-error the protected handshake call is internal
    return this.call;
  }
}
export function forge(): void {
  // @ts-expect-error ExportedContext has no public constructor signature taking its fields
  void new ExportedContextClass('NTLM', Buffer.alloc(16));
}

// The README's HTTP sample: negotiateHandler in front of a ContextPool.
export function pooled(): void {
  const pool = new ContextPool<{ url: string | undefined }, { clientName: string }>(new URL('./worker.cjs', import.meta.url).pathname, { size: 2, kind: 'process' });
  const server = createServer(negotiateHandler({
    async onAuthenticated(req, res, ctx) {
      res.end(JSON.stringify(await pool.run(ctx, { url: req.url })));
    },
  }));
  server.on('close', () => void pool.close());
  serveContexts<{ url: string }, { clientName: string; url: string }>(async (ctx, job) => ({ clientName: ctx.names.clientName, url: job.url }));
}
