import { createFallbackBackend } from '../../lib/fallback/index.js';
import type { Backend, CredHandleRef, CtxtHandleRef, UserEntry } from '../../lib/backend/types.js';
import { SecBufferType } from '../../lib/secbuffer.js';
import { AscReq, IscReq } from '../../lib/flags.js';

export const backend: Backend = createFallbackBackend();
export const USERS: UserEntry[] = [
  { domain: 'EXAMPLE', user: 'alice', password: 'Passw0rd!' },
  { domain: 'EXAMPLE', user: 'bob', ntHash: '8846f7eaee8fb117ad06bdd830b7586c' }, // "password"
];
export const ISC_FLAGS = IscReq.CONFIDENTIALITY | IscReq.INTEGRITY | IscReq.REPLAY_DETECT | IscReq.SEQUENCE_DETECT | IscReq.CONNECTION;
export const ASC_FLAGS = AscReq.CONFIDENTIALITY | AscReq.INTEGRITY | AscReq.REPLAY_DETECT | AscReq.SEQUENCE_DETECT | AscReq.CONNECTION;

export const tok = (buffer: Buffer) => [{ type: SecBufferType.TOKEN, buffer }];

export async function creds(identity = { user: 'alice', domain: 'EXAMPLE', password: 'Passw0rd!' }, users: UserEntry[] | string = USERS, pkg = 'NTLM') {
  const client = (await backend.acquireCredentialsHandle({ packageName: pkg, use: 'outbound', identity })).cred;
  const server = (await backend.acquireCredentialsHandle({ packageName: pkg, use: 'inbound', users })).cred;
  return { client, server };
}

export interface Transcript {
  negotiate: Buffer;
  challenge: Buffer;
  authenticate: Buffer;
  clientCtx: CtxtHandleRef;
  serverCtx: CtxtHandleRef;
}

/** Runs NEGOTIATE and CHALLENGE, and builds the AUTHENTICATE without giving it to the server. */
export async function upToAuthenticate(client: CredHandleRef, server: CredHandleRef, target = 'HTTP/server.example.com'): Promise<Transcript> {
  const r1 = await backend.initializeSecurityContext(client, { context: null, flags: ISC_FLAGS, target, input: [] });
  const negotiate = r1.output[0]!.buffer;
  const r2 = await backend.acceptSecurityContext(server, { context: null, flags: ASC_FLAGS, input: tok(negotiate) });
  const challenge = r2.output[0]!.buffer;
  const r3 = await backend.initializeSecurityContext(client, { context: r1.context, flags: ISC_FLAGS, target, input: tok(challenge) });
  return { negotiate, challenge, authenticate: r3.output[0]!.buffer, clientCtx: r1.context, serverCtx: r2.context };
}

export async function handshake(client: CredHandleRef, server: CredHandleRef, target?: string) {
  const t = await upToAuthenticate(client, server, target);
  const r4 = await backend.acceptSecurityContext(server, { context: t.serverCtx, flags: ASC_FLAGS, input: tok(t.authenticate) });
  return { ...t, result: r4 };
}

export async function expectSspi(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  const { isSspiError } = await import('../../lib/errors.js');
  if (!isSspiError(err)) throw new Error(`expected SspiError ${code}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
}
