// Review finding: negotiateHandler checked maxPendingHandshakes but took any
// maxTokenBytes. NaN (e.g. Number(process.env.MAX_TOKEN) with the variable unset)
// made `token.length > maxToken` false for every token, so the limit was off
// without a word (only node's header size limit was left); a string compared
// by coercion. Found by reading the option checks side by side.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { createFakeBackend, ntlmLike } from '../http/fake-backend';

const { negotiateHandler, SspiError } = api;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('negotiateHandler maxTokenBytes', () => {
  for (const bad of [Number.NaN, 0, -1, 1.5, '65536', Infinity]) {
    it(`${String(bad)} (${typeof bad}) is SEC_E_INVALID_PARAMETER at construction`, () => {
      let err: unknown;
      try {
        negotiateHandler({ acquire: {}, maxTokenBytes: bad as never });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SspiError);
      expect((err as InstanceType<typeof SspiError>).code).toBe('SEC_E_INVALID_PARAMETER');
      expect((err as InstanceType<typeof SspiError>).operation).toBe('HttpNegotiate');
    });
  }

  it('a valid limit still refuses a larger token with 400 before the package sees it', async () => {
    const fake = createFakeBackend();
    const handler = negotiateHandler({ acquire: { backend: fake.backend } as never, maxTokenBytes: 16, onAuthenticated: (_q: unknown, res: http.ServerResponse) => res.end('ok') });
    const server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)), () => handler.close(), () => server.closeAllConnections());
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { Authorization: `NTLM ${ntlmLike(1, 'x'.repeat(32)).toString('base64')}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'SEC_E_INVALID_TOKEN' });
    expect(fake.contexts).toHaveLength(0);
  });
});
