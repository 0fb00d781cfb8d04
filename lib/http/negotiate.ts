/**
 * HTTP Negotiate / NTLM authentication for node:http (RFC 4559, MS-NTHT).
 *
 * The handler answers a request without credentials with 401 and one
 * `WWW-Authenticate` header per scheme, runs the handshake legs (each an
 * `Authorization: <scheme> <base64>` request answered by 401 and
 * `WWW-Authenticate: <scheme> <base64>`), and then calls the application with
 * the established ServerContext.
 *
 * NTLM authenticates the connection, not the request: the context between legs
 * lives in a WeakMap keyed by the request's socket and is closed when the socket
 * closes, when a leg fails, or when the client starts over.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ServerContext, type ServerContextOptions } from '../context.js';
import { Credentials, type AcquireCredentialsOptions } from '../credentials.js';
import { SspiError } from '../errors.js';

/** The HTTP authentication schemes this handler speaks. */
export type NegotiateScheme = 'Negotiate' | 'NTLM';

/** What the application learns about an authenticated request. */
export interface NegotiateAuthInfo {
  /** The scheme of the client's `Authorization` header. */
  readonly scheme: NegotiateScheme;
  /** The security package of the credentials that accepted the client. */
  readonly packageName: string;
  /** `DOMAIN\user`. */
  readonly clientName: string;
  /** The established context. The handler closes it after the application is done, unless keep() was called. */
  readonly context: ServerContext;
  /** Take ownership of the context: the handler will not close it; the application must. */
  keep(): ServerContext;
}

export type OnAuthenticated = (req: IncomingMessage, res: ServerResponse, context: ServerContext, info: NegotiateAuthInfo) => unknown;

export interface NegotiateHandlerOptions {
  /**
   * Inbound credentials: one Credentials for every scheme, or one per package
   * (`{ Negotiate, NTLM }`). The handler never closes credentials it was given.
   */
  credentials?: Credentials | Partial<Record<NegotiateScheme, Credentials>>;
  /**
   * Acquire inbound credentials lazily, per package, with these options
   * (e.g. `{ users: 'users.txt' }` for the fallback). Used when `credentials`
   * is absent or lacks a package. handler.close() frees them.
   */
  acquire?: Omit<AcquireCredentialsOptions, 'package' | 'use' | 'identity'>;
  /** Schemes offered in the 401 challenge, in order. Default `['Negotiate', 'NTLM']`. */
  schemes?: NegotiateScheme[];
  /**
   * Called once per authenticated request. Without it the handler works as
   * middleware: it calls `next()` and the application reads negotiateAuth(req).
   * If it returns a promise the handler waits for it before closing the context.
   */
  onAuthenticated?: OnAuthenticated;
  /** Observe failures (bad tokens, wrong passwords, application errors); for logging. */
  onError?: (error: SspiError | Error, req: IncomingMessage) => void;
  /** ASC_REQ_* flags for each ServerContext. */
  contextOptions?: ServerContextOptions;
  /** Largest decoded token accepted (default 64 KiB): larger is 400. */
  maxTokenBytes?: number;
}

export interface NegotiateHandler {
  /** The request listener / middleware. Never rejects. */
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>;
  /** Close handshakes in progress and the credentials this handler acquired. */
  close(): void;
}

const DEFAULT_SCHEMES: readonly NegotiateScheme[] = ['Negotiate', 'NTLM'];
const DEFAULT_MAX_TOKEN = 64 * 1024;
const OP = 'HttpNegotiate';
const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');

interface Pending {
  scheme: NegotiateScheme;
  ctx: ServerContext;
  busy: boolean;
}

interface SocketState {
  pending: Pending | undefined;
}

const authByRequest = new WeakMap<IncomingMessage, NegotiateAuthInfo>();

/** In middleware mode (no onAuthenticated), the authentication of `req`, if any. */
export function negotiateAuth(req: IncomingMessage): NegotiateAuthInfo | undefined {
  return authByRequest.get(req);
}

/** Parse `Authorization: <scheme> <token68>`. Throws SspiError for a malformed header. */
export function parseAuthorization(header: string | undefined): { scheme: string; token: Buffer | undefined } | undefined {
  if (header === undefined) return undefined;
  const m = /^[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+(\S*))?[ \t]*$/.exec(header);
  if (!m) throw new SspiError('SEC_E_INVALID_TOKEN', OP, 'the Authorization header is malformed');
  const scheme = m[1]!;
  const b64 = m[2];
  if (b64 === undefined || b64 === '') return { scheme, token: undefined };
  // token68 as base64: the standard alphabet, padding optional, no stray characters.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.replace(/=+$/, '').length % 4 === 1) {
    throw new SspiError('SEC_E_INVALID_TOKEN', OP, 'the Authorization token is not valid base64');
  }
  return { scheme, token: Buffer.from(b64, 'base64') };
}

/** True for a token that starts a handshake: NTLM NEGOTIATE_MESSAGE or a GSS-API InitialContextToken (SPNEGO, Kerberos). */
function isInitialToken(token: Buffer): boolean {
  if (token.length >= 12 && token.subarray(0, 8).equals(NTLMSSP)) return token.readUInt32LE(8) === 1;
  return token[0] === 0x60;
}

function isRawNtlm(token: Buffer): boolean {
  return token.length >= 8 && token.subarray(0, 8).equals(NTLMSSP);
}

function canonicalScheme(s: string): NegotiateScheme | undefined {
  const l = s.toLowerCase();
  if (l === 'negotiate') return 'Negotiate';
  if (l === 'ntlm') return 'NTLM';
  return undefined;
}

function asError(e: unknown): SspiError | Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * A node:http request listener (or Connect/Express-style middleware) that
 * authenticates with Negotiate or NTLM and hands the established context to
 * `onAuthenticated`.
 *
 * ```js
 * const handler = negotiateHandler({
 *   acquire: { users: 'users.txt' },
 *   onAuthenticated(req, res, ctx) { res.end(ctx.names.clientName); },
 * });
 * http.createServer(handler).listen(8080, '127.0.0.1');
 * ```
 */
export function negotiateHandler(options: NegotiateHandlerOptions = {}): NegotiateHandler {
  const schemes = [...(options.schemes ?? DEFAULT_SCHEMES)];
  if (schemes.length === 0 || schemes.some((s) => s !== 'Negotiate' && s !== 'NTLM')) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP, "schemes must be a non-empty list of 'Negotiate' and 'NTLM'");
  }
  const maxToken = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN;
  const given = options.credentials;
  const single = given instanceof Credentials ? given : undefined;
  const perPackage: Partial<Record<NegotiateScheme, Credentials>> = single ? {} : { ...(given as Partial<Record<NegotiateScheme, Credentials>> | undefined) };
  const canAcquire = !single && (options.acquire !== undefined || given === undefined);
  const acquired = new Map<NegotiateScheme, Promise<Credentials>>();
  const sockets = new WeakMap<Socket, SocketState>();
  const live = new Set<Pending>();
  let closed = false;

  const schemeOffered = (s: NegotiateScheme): boolean =>
    // Raw NTLMSSP under `Authorization: NTLM` is common wherever Negotiate is offered.
    schemes.includes(s) || (s === 'NTLM' && schemes.includes('Negotiate'));

  function credentialsFor(pkg: NegotiateScheme): Promise<Credentials> | undefined {
    if (single) return Promise.resolve(single);
    const have = perPackage[pkg];
    if (have) return Promise.resolve(have);
    if (!canAcquire) return undefined;
    let p = acquired.get(pkg);
    if (!p) {
      p = Credentials.acquire({ ...options.acquire, package: pkg, use: 'inbound' });
      acquired.set(pkg, p);
      // A failed acquisition is retried by the next request.
      p.catch(() => acquired.delete(pkg));
    }
    return p;
  }

  /** The package for a token: raw NTLMSSP goes to NTLM where possible, the rest to Negotiate. */
  function pickCredentials(scheme: NegotiateScheme, token: Buffer): Promise<Credentials> {
    const order: NegotiateScheme[] = scheme === 'NTLM' || isRawNtlm(token) ? ['NTLM', 'Negotiate'] : ['Negotiate'];
    for (const pkg of order) {
      const c = credentialsFor(pkg);
      if (c) return c;
    }
    return Promise.reject(new SspiError('SEC_E_NO_CREDENTIALS', OP, `no inbound credentials for ${order[0]}`));
  }

  function stateOf(socket: Socket): SocketState {
    let st = sockets.get(socket);
    if (!st) {
      const state: SocketState = { pending: undefined };
      st = state;
      sockets.set(socket, state);
      socket.once('close', () => drop(state));
    }
    return st;
  }

  function drop(state: SocketState): void {
    const p = state.pending;
    state.pending = undefined;
    if (p) {
      live.delete(p);
      p.ctx.close();
    }
  }

  function challenge(req: IncomingMessage, res: ServerResponse, code?: string): void {
    req.resume();
    if (res.headersSent) return;
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', schemes);
    sendJson(res, { error: code ?? 'SEC_E_NO_CREDENTIALS' });
  }

  function fail(req: IncomingMessage, res: ServerResponse, status: number, err: SspiError | Error): void {
    req.resume();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = status;
    if (status === 401) res.setHeader('WWW-Authenticate', schemes);
    sendJson(res, { error: err instanceof SspiError ? err.code : 'SEC_E_INTERNAL_ERROR' });
  }

  function report(err: SspiError | Error, req: IncomingMessage): void {
    try {
      options.onError?.(err, req);
    } catch {
      // A logging hook must not break the server.
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    if (closed) {
      fail(req, res, 503, new SspiError('SEC_E_INVALID_HANDLE', OP, 'the handler is closed'));
      return;
    }
    const state = stateOf(req.socket);

    let parsed: ReturnType<typeof parseAuthorization>;
    try {
      parsed = parseAuthorization(req.headers.authorization);
    } catch (e) {
      drop(state);
      report(asError(e), req);
      fail(req, res, 400, asError(e));
      return;
    }
    const scheme = parsed && canonicalScheme(parsed.scheme);
    if (!parsed || !scheme || !schemeOffered(scheme)) {
      // No credentials, or a scheme we do not speak (Basic, Bearer...): offer ours.
      drop(state);
      challenge(req, res);
      return;
    }
    const token = parsed.token;
    if (!token || token.length === 0) {
      drop(state);
      const err = new SspiError('SEC_E_INVALID_TOKEN', OP, `the ${scheme} Authorization header has no token`);
      report(err, req);
      fail(req, res, 400, err);
      return;
    }
    if (token.length > maxToken) {
      drop(state);
      const err = new SspiError('SEC_E_INVALID_TOKEN', OP, `the ${scheme} token is larger than ${maxToken} bytes`);
      report(err, req);
      fail(req, res, 400, err);
      return;
    }

    let pending = state.pending;
    if (pending?.busy) {
      // A pipelined leg while the previous one runs: the client broke the protocol.
      const err = new SspiError('SEC_E_INVALID_PARAMETER', OP, 'a handshake leg is already in progress on this connection');
      report(err, req);
      fail(req, res, 400, err);
      return;
    }
    if (pending && (pending.scheme !== scheme || isInitialToken(token))) {
      // The client started over (or switched schemes): forget the old handshake.
      drop(state);
      pending = undefined;
    }

    let ctx: ServerContext;
    let result;
    try {
      if (!pending) {
        const cred = await pickCredentials(scheme, token);
        pending = { scheme, ctx: new ServerContext(cred, options.contextOptions), busy: false };
        if (req.socket.destroyed) {
          pending.ctx.close();
          return;
        }
        state.pending = pending;
        live.add(pending);
      }
      ctx = pending.ctx;
      pending.busy = true;
      try {
        result = await ctx.step(token);
      } finally {
        pending.busy = false;
      }
    } catch (e) {
      drop(state);
      const err = asError(e);
      report(err, req);
      if (err instanceof SspiError) {
        // Wrong password, unknown user, bad or replayed token: a fresh challenge.
        const authFailure = err.operation === 'AcceptSecurityContext' || err.code === 'SEC_E_INVALID_TOKEN';
        if (authFailure) challenge(req, res, err.code);
        else fail(req, res, 500, err);
      } else {
        fail(req, res, 500, err);
      }
      return;
    }

    if (!result.done) {
      if (!result.token) {
        drop(state);
        const err = new SspiError('SEC_E_INTERNAL_ERROR', OP, 'the package wants another leg but produced no token');
        report(err, req);
        fail(req, res, 500, err);
        return;
      }
      req.resume();
      if (req.socket.destroyed) {
        drop(state);
        return;
      }
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', `${scheme} ${result.token.toString('base64')}`);
      sendJson(res, { error: 'SEC_I_CONTINUE_NEEDED' });
      return;
    }

    // Established: the context now belongs to this request, not the connection.
    if (state.pending === pending) state.pending = undefined;
    live.delete(pending);
    if (result.token) res.setHeader('WWW-Authenticate', `${scheme} ${result.token.toString('base64')}`);

    let kept = false;
    let clientName: string;
    try {
      clientName = ctx.names.clientName;
    } catch (e) {
      ctx.close();
      const err = asError(e);
      report(err, req);
      fail(req, res, 500, err);
      return;
    }
    const info: NegotiateAuthInfo = {
      scheme,
      packageName: ctx.packageName,
      clientName,
      context: ctx,
      keep() {
        kept = true;
        return ctx;
      },
    };

    if (!options.onAuthenticated) {
      authByRequest.set(req, info);
      res.once('close', () => {
        if (!kept) ctx.close();
      });
      if (next) next();
      else fail(req, res, 500, new SspiError('SEC_E_INTERNAL_ERROR', OP, 'negotiateHandler needs onAuthenticated or next'));
      return;
    }

    try {
      await options.onAuthenticated(req, res, ctx, info);
    } catch (e) {
      const err = asError(e);
      report(err, req);
      fail(req, res, 500, err);
    } finally {
      if (!kept) ctx.close();
    }
  }

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> =>
    handle(req, res, next).catch((e: unknown) => {
      // Last resort: nothing escapes into the server's 'request' emitter.
      const err = asError(e);
      report(err, req);
      fail(req, res, 500, err);
    })) as NegotiateHandler;

  handler.close = () => {
    closed = true;
    for (const p of live) p.ctx.close();
    live.clear();
    for (const p of acquired.values()) p.then((c) => c.close(), () => undefined);
    acquired.clear();
  };
  return handler;
}

function sendJson(res: ServerResponse, body: object): void {
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
