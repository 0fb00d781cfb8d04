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
 * closes, when a leg fails, or when the client starts over. The legs of one
 * connection run one after another (HTTP answers them in order anyway), so a
 * connection holds at most one handshake, whatever a client pipelines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ServerContext, type ServerContextOptions } from '../context.js';
import { Credentials, type AcquireCredentialsOptions } from '../credentials.js';
import { SspiError } from '../errors.js';
import { parseAuthorization } from './authorization.js';
import { checkChannelBindingPolicy, serverContextOptions } from './bindings-policy.js';
import type { ChannelBindingPolicy } from '../channel-bindings.js';

export { parseAuthorization } from './authorization.js';

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
  /**
   * Channel bindings (Extended Protection) from the TLS socket: `none`,
   * `allow` (verify when the client sent them) or `require` (refuse missing or
   * wrong ones, SEC_E_BAD_BINDINGS). Default `allow` on TLS, `none` on plain HTTP.
   */
  channelBindings?: ChannelBindingPolicy;
  /** Largest decoded token accepted (default 64 KiB): larger is 400. */
  maxTokenBytes?: number;
  /**
   * Most handshakes this handler keeps between legs, over all connections
   * (default 10,000). A first leg beyond it is answered 503 with
   * `{ error: 'SEC_E_INSUFFICIENT_MEMORY' }` and `Retry-After: 1`, and no
   * context is created. Each connection holds at most one.
   */
  maxPendingHandshakes?: number;
}

export interface NegotiateHandler {
  /** The request listener / middleware. Never rejects. */
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>;
  /** Close handshakes in progress and the credentials this handler acquired. */
  close(): void;
}

const DEFAULT_SCHEMES: readonly NegotiateScheme[] = ['Negotiate', 'NTLM'];
const DEFAULT_MAX_TOKEN = 64 * 1024;
const DEFAULT_MAX_PENDING = 10_000;
const OP = 'HttpNegotiate';
const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');

/** One handshake between its first leg and its last: owned by a connection until established. */
interface Handshake {
  readonly scheme: NegotiateScheme;
  /** Undefined while the credentials are acquired. */
  ctx: ServerContext | undefined;
  /** Set once the handshake was abandoned (socket closed, start-over, handler closed); its context is closed. */
  ended: boolean;
}

/** Where a connection's handshake stands. */
type ConnectionLeg =
  | { readonly kind: 'idle' }
  /** A leg of `handshake` is being processed. */
  | { readonly kind: 'running'; readonly handshake: Handshake }
  /** A challenge went out; the client's next leg continues `handshake`. */
  | { readonly kind: 'awaiting-leg'; readonly handshake: Handshake };

interface Connection {
  leg: ConnectionLeg;
  /** The tail of this connection's legs: each runs after the previous one settled. */
  queue: Promise<void>;
}

const IDLE: ConnectionLeg = { kind: 'idle' };

/** What the Authorization header of a request asks for. */
type LegRequest =
  | { readonly kind: 'none' } // no credentials, or a scheme we do not speak
  | { readonly kind: 'bad'; readonly error: SspiError } // 400
  | { readonly kind: 'leg'; readonly scheme: NegotiateScheme; readonly token: Buffer };

/** What a leg came to; `reply` turns it into a response. */
type LegOutcome =
  | { readonly kind: 'continue'; readonly scheme: NegotiateScheme; readonly token: Buffer }
  | { readonly kind: 'established'; readonly scheme: NegotiateScheme; readonly ctx: ServerContext; readonly token: Buffer | undefined }
  /** 401 with the schemes offered (no credentials, or an authentication failure). */
  | { readonly kind: 'challenge'; readonly code: string; readonly error?: SspiError | Error }
  | { readonly kind: 'refused'; readonly httpStatus: 400 | 500 | 503; readonly error: SspiError | Error }
  /** handler.close() ran: 503. */
  | { readonly kind: 'closed' }
  /** The connection went away: nothing to answer. */
  | { readonly kind: 'gone' };

const authByRequest = new WeakMap<IncomingMessage, NegotiateAuthInfo>();

/** In middleware mode (no onAuthenticated), the authentication of `req`, if any. */
export function negotiateAuth(req: IncomingMessage): NegotiateAuthInfo | undefined {
  return authByRequest.get(req);
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
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING;
  const bindingPolicy = checkChannelBindingPolicy(options.channelBindings, OP);
  // A NaN or a string here would silently turn the token limit off (every comparison false).
  if (!Number.isSafeInteger(maxToken) || maxToken < 1) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'maxTokenBytes must be a positive integer');
  }
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'maxPendingHandshakes must be a positive integer');
  }
  const given = options.credentials;
  const single = given instanceof Credentials ? given : undefined;
  const perPackage: Partial<Record<NegotiateScheme, Credentials>> = single ? {} : { ...(given as Partial<Record<NegotiateScheme, Credentials>> | undefined) };
  const canAcquire = !single && (options.acquire !== undefined || given === undefined);
  const acquired = new Map<NegotiateScheme, Promise<Credentials>>();
  const connections = new WeakMap<Socket, Connection>();
  /** Every handshake not yet established or ended, over all connections (bounded by maxPending). */
  const live = new Set<Handshake>();
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

  // --- connection state -----------------------------------------------------

  function connectionOf(socket: Socket): Connection {
    let conn = connections.get(socket);
    if (!conn) {
      const c: Connection = { leg: IDLE, queue: Promise.resolve() };
      conn = c;
      connections.set(socket, c);
      socket.once('close', () => abandon(c));
    }
    return conn;
  }

  function endHandshake(hs: Handshake): void {
    if (hs.ended) return;
    hs.ended = true;
    live.delete(hs);
    hs.ctx?.close();
  }

  /** Forget the connection's handshake, if any, and close its context. */
  function abandon(conn: Connection): void {
    const leg = conn.leg;
    conn.leg = IDLE;
    if (leg.kind !== 'idle') endHandshake(leg.handshake);
  }

  /** Run `work` after every earlier leg of the connection settled. */
  function serialize<T>(conn: Connection, work: () => Promise<T>): Promise<T> {
    const run = conn.queue.then(work);
    conn.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // --- the legs -------------------------------------------------------------

  function readLeg(req: IncomingMessage): LegRequest {
    let parsed: ReturnType<typeof parseAuthorization>;
    try {
      parsed = parseAuthorization(req.headers.authorization);
    } catch (e) {
      const error = e instanceof SspiError ? e : new SspiError('SEC_E_INVALID_TOKEN', OP, 'the Authorization header is malformed');
      return { kind: 'bad', error };
    }
    const scheme = parsed && canonicalScheme(parsed.scheme);
    if (!parsed || !scheme || !schemeOffered(scheme)) return { kind: 'none' };
    const token = parsed.token;
    if (!token || token.length === 0) {
      return { kind: 'bad', error: new SspiError('SEC_E_INVALID_TOKEN', OP, `the ${scheme} Authorization header has no token`) };
    }
    if (token.length > maxToken) {
      return { kind: 'bad', error: new SspiError('SEC_E_INVALID_TOKEN', OP, `the ${scheme} token is larger than ${maxToken} bytes`) };
    }
    return { kind: 'leg', scheme, token };
  }

  /** The handshake this leg continues, or a new one (reserving a slot under maxPendingHandshakes). */
  function handshakeFor(conn: Connection, scheme: NegotiateScheme, token: Buffer): Handshake | Extract<LegOutcome, { kind: 'refused' }> {
    const leg = conn.leg;
    if (leg.kind === 'awaiting-leg') {
      if (leg.handshake.scheme === scheme && !isInitialToken(token)) return leg.handshake;
      // A new first leg (or another scheme): the client started over.
      abandon(conn);
    }
    if (live.size >= maxPending) {
      return { kind: 'refused', httpStatus: 503, error: new SspiError('SEC_E_INSUFFICIENT_MEMORY', OP, `more than ${maxPending} handshakes are pending`) };
    }
    const hs: Handshake = { scheme, ctx: undefined, ended: false };
    live.add(hs);
    return hs;
  }

  async function stepLeg(req: IncomingMessage, conn: Connection, scheme: NegotiateScheme, token: Buffer): Promise<LegOutcome> {
    if (req.socket.destroyed) return { kind: 'gone' };
    const picked = handshakeFor(conn, scheme, token);
    if ('kind' in picked) return picked;
    const hs = picked;
    // Ended under us: by the socket closing, or by handler.close().
    const ended = (): LegOutcome => (req.socket.destroyed ? { kind: 'gone' } : { kind: 'closed' });
    conn.leg = { kind: 'running', handshake: hs };
    let result;
    try {
      if (!hs.ctx) {
        const cred = await pickCredentials(scheme, token);
        if (hs.ended) return ended();
        hs.ctx = new ServerContext(cred, serverContextOptions(req.socket, bindingPolicy, options.contextOptions));
      }
      result = await hs.ctx.step(token);
    } catch (e) {
      const wasEnded = hs.ended;
      abandon(conn);
      if (wasEnded) return ended();
      const err = asError(e);
      // Wrong password, unknown user, bad or replayed token: a fresh challenge.
      if (err instanceof SspiError && (err.operation === 'AcceptSecurityContext' || err.code === 'SEC_E_INVALID_TOKEN')) {
        return { kind: 'challenge', code: err.code, error: err };
      }
      return { kind: 'refused', httpStatus: 500, error: err };
    }
    if (hs.ended) return ended();
    if (!result.done) {
      if (!result.token) {
        abandon(conn);
        return { kind: 'refused', httpStatus: 500, error: new SspiError('SEC_E_INTERNAL_ERROR', OP, 'the package wants another leg but produced no token') };
      }
      conn.leg = { kind: 'awaiting-leg', handshake: hs };
      return { kind: 'continue', scheme, token: result.token };
    }
    // Established: the context now belongs to this request, not the connection.
    conn.leg = IDLE;
    live.delete(hs);
    return { kind: 'established', scheme, ctx: hs.ctx, token: result.token };
  }

  async function runLeg(req: IncomingMessage, conn: Connection): Promise<LegOutcome> {
    if (closed) return { kind: 'closed' };
    const ask = readLeg(req);
    if (ask.kind !== 'leg') {
      // Anything but a leg abandons the handshake in progress.
      abandon(conn);
      return ask.kind === 'none' ? { kind: 'challenge', code: 'SEC_E_NO_CREDENTIALS' } : { kind: 'refused', httpStatus: 400, error: ask.error };
    }
    return stepLeg(req, conn, ask.scheme, ask.token);
  }

  // --- replies --------------------------------------------------------------

  function challenge(req: IncomingMessage, res: ServerResponse, code: string): void {
    req.resume();
    if (res.headersSent) return;
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', schemes);
    sendJson(res, { error: code });
  }

  function fail(req: IncomingMessage, res: ServerResponse, status: number, err: SspiError | Error): void {
    req.resume();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = status;
    if (status === 401) res.setHeader('WWW-Authenticate', schemes);
    // Retry-After: RFC 9110 §10.2.3, for the pending-handshake limit.
    if (status === 503 && err instanceof SspiError && err.code === 'SEC_E_INSUFFICIENT_MEMORY') res.setHeader('Retry-After', '1');
    sendJson(res, { error: err instanceof SspiError ? err.code : 'SEC_E_INTERNAL_ERROR' });
  }

  function report(err: SspiError | Error, req: IncomingMessage): void {
    try {
      options.onError?.(err, req);
    } catch {
      // A logging hook must not break the server.
    }
  }

  /** Answer every outcome but `established`. */
  function reply(req: IncomingMessage, res: ServerResponse, outcome: Exclude<LegOutcome, { kind: 'established' }>): void {
    switch (outcome.kind) {
      case 'gone':
        req.resume();
        return;
      case 'closed':
        fail(req, res, 503, new SspiError('SEC_E_INVALID_HANDLE', OP, 'the handler is closed'));
        return;
      case 'challenge':
        if (outcome.error) report(outcome.error, req);
        challenge(req, res, outcome.code);
        return;
      case 'refused':
        report(outcome.error, req);
        fail(req, res, outcome.httpStatus, outcome.error);
        return;
      case 'continue':
        req.resume();
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', `${outcome.scheme} ${outcome.token.toString('base64')}`);
        sendJson(res, { error: 'SEC_I_CONTINUE_NEEDED' });
        return;
    }
  }

  /** Hand the established context to the application, and close it after unless kept. */
  async function deliver(
    req: IncomingMessage,
    res: ServerResponse,
    next: ((err?: unknown) => void) | undefined,
    outcome: Extract<LegOutcome, { kind: 'established' }>,
  ): Promise<void> {
    const { ctx, scheme } = outcome;
    if (outcome.token) res.setHeader('WWW-Authenticate', `${scheme} ${outcome.token.toString('base64')}`);
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

  async function handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    const conn = connectionOf(req.socket);
    // Only the legs are serialized; the application runs outside the queue.
    const outcome = await serialize(conn, () => runLeg(req, conn));
    if (outcome.kind === 'established') await deliver(req, res, next, outcome);
    else reply(req, res, outcome);
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
    for (const hs of [...live]) endHandshake(hs);
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
