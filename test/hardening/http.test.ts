// Issue 13, HTTP: a linear-time Authorization parser, one pending handshake per
// connection whatever a client pipelines, and a server-wide bound on pending
// handshakes. Contexts are counted through the scripted backend of test/http.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeBackend, ntlmLike } from '../http/fake-backend';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
const { negotiateHandler, parseAuthorization, SspiError } = api;
// The parser's internal read counter (not part of the public API), loaded per test.
const scanner = () => require('../../dist/http/authorization.js');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handlerOptions: Record<string, unknown> = {}) {
  const fake = createFakeBackend();
  const handler = negotiateHandler({
    acquire: { backend: fake.backend },
    onAuthenticated(_req: http.IncomingMessage, res: http.ServerResponse) {
      res.end('ok');
    },
    ...handlerOptions,
  });
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    handler.close();
  });
  return { fake, handler, port };
}

const type1 = ntlmLike(1).toString('base64');
const request = (auth: string) => `GET / HTTP/1.1\r\nHost: t\r\nAuthorization: ${auth}\r\n\r\n`;

/** Write `raw` on one connection and collect the status lines of `count` responses. */
function pipeline(port: number, raw: string, count: number): Promise<{ statuses: number[]; text: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (d: string) => {
      text += d;
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      if (statuses.length >= count) resolve({ statuses, text, socket });
    });
    socket.write(raw);
  });
}

describe('parseAuthorization works in linear time', () => {
  // Characters read per header character: a scan reads each a bounded number of
  // times. The old regular expression backtracked quadratically on blanks.
  const shapes: Record<string, (n: number) => string> = {
    spaces: (n) => ' '.repeat(n),
    'scheme then spaces': (n) => 'NTLM' + ' '.repeat(n),
    'scheme, spaces, junk': (n) => 'NTLM' + ' '.repeat(n) + '!',
    'tabs and spaces': (n) => ' \t'.repeat(n / 2) + 'x',
    'a token then spaces and a word': (n) => 'NTLM ' + 'A'.repeat(n / 2) + ' '.repeat(n / 2) + 'B',
    'padding run': (n) => 'NTLM A' + '='.repeat(n),
    'long scheme': (n) => 'N'.repeat(n) + ' ',
  };
  for (const [name, make] of Object.entries(shapes)) {
    it(`16 KB of ${name}: reads stay within 3 per character`, () => {
      const header = make(16 * 1024);
      const meter = { reads: 0 };
      try {
        scanner().parseAuthorization(header, meter);
      } catch (e) {
        expect(e).toBeInstanceOf(SspiError);
        expect((e as { code: string }).code).toBe('SEC_E_INVALID_TOKEN');
      }
      expect(meter.reads).toBeGreaterThan(0);
      expect(meter.reads).toBeLessThanOrEqual(3 * header.length + 8);
    });
  }

  it('the public parser is the scanning one', () => {
    expect(parseAuthorization).toBe(scanner().parseAuthorization);
    const meter = { reads: 0 };
    expect(scanner().parseAuthorization('NTLM YWJj', meter)).toEqual({ scheme: 'NTLM', token: Buffer.from('abc') });
    expect(meter.reads).toBeLessThanOrEqual(3 * 9 + 8);
  });
});

describe('one pending handshake per connection', () => {
  it('100 pipelined NEGOTIATEs leave at most one context open, and none once the socket closes', async () => {
    const { fake, port } = await serve();
    const n = 100;
    const { statuses, socket } = await pipeline(port, request(`NTLM ${type1}`).repeat(n), n);
    expect(statuses).toEqual(Array(n).fill(401));
    // Each first leg started over: every earlier context was deleted.
    expect(fake.contexts.length).toBeGreaterThanOrEqual(1);
    expect(fake.live()).toBe(1);
    socket.destroy();
    await fake.allDeleted();
    expect(fake.live()).toBe(0);
  });

  it('after pipelined first legs the last challenge still completes', async () => {
    const { fake, port } = await serve();
    const type3 = ntlmLike(3, 'alice:secret').toString('base64');
    const raw = request(`NTLM ${type1}`).repeat(5) + request(`NTLM ${type3}`);
    const { statuses, socket } = await pipeline(port, raw, 6);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 200]);
    expect(fake.live()).toBe(0);
    socket.destroy();
  });
});

describe('maxPendingHandshakes', () => {
  it('answers 503 with Retry-After beyond the limit and creates no context', async () => {
    const { fake, port } = await serve({ maxPendingHandshakes: 2 });
    const a = await pipeline(port, request(`NTLM ${type1}`), 1);
    const b = await pipeline(port, request(`NTLM ${type1}`), 1);
    expect([a.statuses, b.statuses]).toEqual([[401], [401]]);
    const c = await pipeline(port, request(`NTLM ${type1}`), 1);
    expect(c.statuses).toEqual([503]);
    expect(c.text).toMatch(/^Retry-After: 1\r$/im);
    expect(c.text).toContain('"error":"SEC_E_INSUFFICIENT_MEMORY"');
    expect(fake.contexts).toHaveLength(2);
    // A connection restarting its own handshake does not need a new slot.
    a.socket.write(request(`NTLM ${type1}`));
    await new Promise<void>((resolve) => a.socket.on('data', () => resolve()));
    expect(fake.contexts).toHaveLength(3);
    expect(fake.live()).toBe(2);
    // A slot frees when its connection closes.
    b.socket.destroy();
    await new Promise<void>((resolve) => {
      const poll = () => (fake.live() === 1 ? resolve() : setImmediate(poll));
      poll();
    });
    const d = await pipeline(port, request(`NTLM ${type1}`), 1);
    expect(d.statuses).toEqual([401]);
    for (const s of [a, c, d]) s.socket.destroy();
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '3']) {
      expect(() => negotiateHandler({ maxPendingHandshakes: bad })).toThrow(SspiError);
    }
  });
});
