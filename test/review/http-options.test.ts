// Review finding: negotiateHandler checked maxPendingHandshakes but took any
// maxTokenBytes. NaN (e.g. Number(process.env.MAX_TOKEN) with the variable unset)
// made `token.length > maxToken` false for every token, so the limit was off
// without a word (only node's header size limit was left); a string compared
// by coercion. Found by reading the option checks side by side.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { createFakeBackend, ntlmLike } from '../http/fake-backend';
import { expectSspiError, failureOf, useClosers } from './fixtures';

const { negotiateHandler } = api;
const cleanups = useClosers();

describe('negotiateHandler maxTokenBytes', () => {
  for (const bad of [Number.NaN, 0, -1, 1.5, '65536', Infinity]) {
    it(`${String(bad)} (${typeof bad}) is SEC_E_INVALID_PARAMETER at construction`, async () => {
      expectSspiError(await failureOf(() => negotiateHandler({ acquire: {}, maxTokenBytes: bad as never })), 'SEC_E_INVALID_PARAMETER', 'HttpNegotiate');
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
