// Unit tests of lib/http/negotiate.ts against an in-process node:http server.
// A scripted backend (fake-backend.ts) stands in for the security package so
// every context the handler creates can be accounted for.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeBackend, ntlmLike, type FakeBackendOptions } from './fake-backend';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
const { negotiateHandler, negotiateAuth, parseAuthorization, SspiError } = api;

type Handler = ((req: http.IncomingMessage, res: http.ServerResponse, next?: () => void) => Promise<void>) & { close(): void };

interface Rig {
  url: string;
  server: http.Server;
  fake: ReturnType<typeof createFakeBackend>;
  handler: Handler;
  errors: Error[];
  client(): Client;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(
  handlerOptions: Record<string, unknown> = {},
  fakeOptions: FakeBackendOptions = {},
  wrap?: (h: Handler) => http.RequestListener,
): Promise<Rig> {
  const fake = createFakeBackend(fakeOptions);
  const errors: Error[] = [];
  const handler: Handler = negotiateHandler({
    acquire: { backend: fake.backend },
    onAuthenticated(_req: http.IncomingMessage, res: http.ServerResponse, ctx: { names: { clientName: string } }) {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ clientName: ctx.names.clientName }));
    },
    onError: (e: Error) => errors.push(e),
    ...handlerOptions,
  });
  const server = http.createServer(wrap ? wrap(handler) : (req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: Client[] = [];
  cleanups.push(async () => {
    await Promise.all(clients.map((c) => c.destroy()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    handler.close();
  });
  return {
    url,
    server,
    fake,
    handler,
    errors,
    // An undici Client is exactly one connection: legs sent through it share a socket.
    client() {
      const c = new Client(url, { pipelining: 1 });
      clients.push(c);
      return c;
    },
  };
}

async function get(c: Client, authorization?: string) {
  const res = await c.request({ path: '/', method: 'GET', headers: authorization === undefined ? {} : { authorization } });
  const text = await res.body.text();
  const www = res.headers['www-authenticate'];
  return {
    status: res.statusCode,
    www: www === undefined ? [] : Array.isArray(www) ? www : [www],
    json: text ? JSON.parse(text) : undefined,
  };
}

const b64 = (b: Buffer) => b.toString('base64');
const type1 = b64(ntlmLike(1));
const type3 = (userPw: string) => b64(ntlmLike(3, userPw));

describe('negotiateHandler (scripted backend)', () => {
  it('answers a request without credentials with 401 and one WWW-Authenticate per scheme', async () => {
    const r = await rig();
    const res = await get(r.client());
    expect(res.status).toBe(401);
    expect(res.www).toEqual(['Negotiate', 'NTLM']);
    expect(res.json).toEqual({ error: 'SEC_E_NO_CREDENTIALS' });
    expect(r.fake.contexts).toHaveLength(0);
  });

  it('runs NTLM legs on one connection and closes the context after the application', async () => {
    const r = await rig();
    const c = r.client();
    const leg1 = await get(c, `NTLM ${type1}`);
    expect(leg1.status).toBe(401);
    expect(leg1.www).toHaveLength(1);
    expect(leg1.www[0]).toBe(`NTLM ${b64(ntlmLike(2))}`);
    const leg2 = await get(c, `NTLM ${type3('alice:secret')}`);
    expect(leg2.status).toBe(200);
    expect(leg2.json).toEqual({ clientName: 'FAKE\\alice' });
    expect(leg2.www).toEqual([]); // NTLM has no final token
    expect(r.fake.contexts).toHaveLength(1);
    expect(r.fake.live()).toBe(0);
  });

  it('answers in the scheme the client used (raw NTLMSSP under Negotiate)', async () => {
    const r = await rig();
    const c = r.client();
    const leg1 = await get(c, `Negotiate ${type1}`);
    expect(leg1.www).toEqual([`Negotiate ${b64(ntlmLike(2))}`]);
    const leg2 = await get(c, `Negotiate ${type3('bob:secret')}`);
    expect(leg2.status).toBe(200);
    expect(leg2.json.clientName).toBe('FAKE\\bob');
  });

  it('sends the final token on the 200 (mutual authentication)', async () => {
    const final = Buffer.from('final-token');
    const r = await rig({}, { finalToken: final });
    const c = r.client();
    await get(c, `Negotiate ${type1}`);
    const ok = await get(c, `Negotiate ${type3('alice:secret')}`);
    expect(ok.status).toBe(200);
    expect(ok.www).toEqual([`Negotiate ${b64(final)}`]);
  });

  it('accepts Authorization: NTLM when only Negotiate is offered, and not Negotiate when only NTLM is', async () => {
    const neg = await rig({ schemes: ['Negotiate'] });
    expect((await get(neg.client())).www).toEqual(['Negotiate']);
    const c = neg.client();
    expect((await get(c, `NTLM ${type1}`)).status).toBe(401);
    expect((await get(c, `NTLM ${type3('alice:secret')}`)).status).toBe(200);

    const ntlm = await rig({ schemes: ['NTLM'] });
    const res = await get(ntlm.client(), `Negotiate ${type1}`);
    expect(res.status).toBe(401);
    expect(res.www).toEqual(['NTLM']);
    expect(ntlm.fake.contexts).toHaveLength(0);
  });

  it('answers a wrong password with 401 and a fresh challenge, and the connection can try again', async () => {
    const r = await rig();
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    const denied = await get(c, `NTLM ${type3('alice:wrong')}`);
    expect(denied.status).toBe(401);
    expect(denied.www).toEqual(['Negotiate', 'NTLM']);
    expect(denied.json).toEqual({ error: 'SEC_E_LOGON_DENIED' });
    expect(r.fake.live()).toBe(0);
    expect(r.errors.map((e) => (e as { code?: string }).code)).toEqual(['SEC_E_LOGON_DENIED']);

    await get(c, `NTLM ${type1}`);
    expect((await get(c, `NTLM ${type3('alice:secret')}`)).status).toBe(200);
  });

  it('binds the handshake to its connection: a last leg on another connection is refused', async () => {
    const r = await rig();
    await get(r.client(), `NTLM ${type1}`);
    const other = await get(r.client(), `NTLM ${type3('alice:secret')}`);
    expect(other.status).toBe(401);
    expect(other.json).toEqual({ error: 'SEC_E_INVALID_TOKEN' });
  });

  it('refuses malformed headers with a typed 400 or 401 and keeps serving', async () => {
    const r = await rig();
    const c = r.client();
    expect(await get(c, 'NTLM !!!not-base64!!!')).toMatchObject({ status: 400, json: { error: 'SEC_E_INVALID_TOKEN' } });
    expect(await get(c, 'NTLM')).toMatchObject({ status: 400, json: { error: 'SEC_E_INVALID_TOKEN' } });
    expect(await get(c, 'NTLM a')).toMatchObject({ status: 400, json: { error: 'SEC_E_INVALID_TOKEN' } });
    expect(await get(c, 'Negotiate abc def')).toMatchObject({ status: 400, json: { error: 'SEC_E_INVALID_TOKEN' } });
    expect(await get(c, 'Basic YWxpY2U6c2VjcmV0')).toMatchObject({ status: 401, www: ['Negotiate', 'NTLM'] });
    // Valid base64 that is not a token at all: the package refuses it, a fresh challenge follows.
    expect(await get(c, `NTLM ${b64(Buffer.from('hello world'))}`)).toMatchObject({ status: 401, json: { error: 'SEC_E_INVALID_TOKEN' } });
    const huge = await rig({ maxTokenBytes: 16 });
    expect(await get(huge.client(), `NTLM ${b64(Buffer.alloc(17, 1))}`)).toMatchObject({ status: 400 });
    expect(r.fake.live()).toBe(0);
    await get(c, `NTLM ${type1}`);
    expect((await get(c, `NTLM ${type3('alice:secret')}`)).status).toBe(200);
  });

  it('starts over when the client sends a new first token on the same connection', async () => {
    const r = await rig();
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    await get(c, `NTLM ${type1}`);
    expect(r.fake.contexts).toHaveLength(2);
    expect(r.fake.contexts[0]!.state).toBe('deleted');
    expect((await get(c, `NTLM ${type3('alice:secret')}`)).status).toBe(200);
    expect(r.fake.live()).toBe(0);
  });

  it('a request without Authorization abandons the handshake in progress', async () => {
    const r = await rig();
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    expect(r.fake.live()).toBe(1);
    expect((await get(c)).status).toBe(401);
    expect(r.fake.live()).toBe(0);
  });

  it('closes the context in progress when the connection closes', async () => {
    const r = await rig();
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    expect(r.fake.live()).toBe(1);
    await c.destroy();
    await r.fake.allDeleted();
    expect(r.fake.live()).toBe(0);
  });

  it('leaves the context open when the application keeps it', async () => {
    let kept: { close(): void; isEstablished: boolean } | undefined;
    const r = await rig({
      onAuthenticated(_req: unknown, res: http.ServerResponse, _ctx: unknown, info: { keep(): typeof kept }) {
        kept = info.keep();
        res.end('kept');
      },
    });
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    const res = await c.request({ path: '/', method: 'GET', headers: { authorization: `NTLM ${type3('alice:secret')}` } });
    expect(await res.body.text()).toBe('kept');
    expect(r.fake.live()).toBe(1);
    expect(kept!.isEstablished).toBe(true);
    kept!.close();
    expect(r.fake.live()).toBe(0);
  });

  it('turns an application error into 500, closes the context and keeps serving', async () => {
    let calls = 0;
    const r = await rig({
      async onAuthenticated(_req: unknown, res: http.ServerResponse) {
        if (++calls === 1) throw new Error('boom');
        res.end('ok');
      },
    });
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    const failed = await c.request({ path: '/', method: 'GET', headers: { authorization: `NTLM ${type3('alice:secret')}` } });
    expect(failed.statusCode).toBe(500);
    expect(await failed.body.json()).toEqual({ error: 'SEC_E_INTERNAL_ERROR' });
    expect(r.fake.live()).toBe(0);
    await get(c, `NTLM ${type1}`);
    const ok = await c.request({ path: '/', method: 'GET', headers: { authorization: `NTLM ${type3('alice:secret')}` } });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('ok');
  });

  it('works as middleware: next() runs with negotiateAuth(req), the context closes with the response', async () => {
    let seen: { clientName: string; scheme: string } | undefined;
    const r = await rig({ onAuthenticated: undefined }, {}, (h) => (req, res) => {
      void h(req, res, () => {
        seen = negotiateAuth(req);
        res.end(seen!.clientName);
      });
    });
    const c = r.client();
    await get(c, `Negotiate ${type1}`);
    const res = await c.request({ path: '/', method: 'GET', headers: { authorization: `Negotiate ${type3('carol:secret')}` } });
    expect(await res.body.text()).toBe('FAKE\\carol');
    expect(seen).toMatchObject({ clientName: 'FAKE\\carol', scheme: 'Negotiate', packageName: 'NTLM' });
    await r.fake.allDeleted();
  });

  it('close() frees acquired credentials and the handshakes in progress, then answers 503', async () => {
    const r = await rig();
    const c = r.client();
    await get(c, `NTLM ${type1}`);
    await get(r.client(), `Negotiate ${b64(ntlmLike(1))}`);
    expect(r.fake.live()).toBe(2);
    r.handler.close();
    expect(r.fake.live()).toBe(0);
    await r.fake.allDeleted();
    // Credentials are freed once their acquisition settles.
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.fake.credsFreed).toBe(1);
    expect((await get(c)).status).toBe(503);
  });

  it('rejects bad options with a typed error', () => {
    expect(() => negotiateHandler({ schemes: [] })).toThrow(SspiError);
    expect(() => negotiateHandler({ schemes: ['Basic'] })).toThrow(/schemes/);
  });
});

describe('parseAuthorization', () => {
  it('parses scheme and token', () => {
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization('Negotiate YWJj')).toEqual({ scheme: 'Negotiate', token: Buffer.from('abc') });
    expect(parseAuthorization('  ntlm   YWJjZA  ')).toEqual({ scheme: 'ntlm', token: Buffer.from('abcd') });
    expect(parseAuthorization('NTLM')).toEqual({ scheme: 'NTLM', token: undefined });
  });

  it('throws SEC_E_INVALID_TOKEN for malformed input', () => {
    for (const bad of ['', ' ', 'NTLM a b', 'NTLM ab*c', 'NTLM ====', 'NTLM a', 'NTLM ab=c', 'Neg@tiate abc', 'NTLM\u00e9 abc']) {
      expect(() => parseAuthorization(bad), bad).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_TOKEN' }));
    }
  });
});
