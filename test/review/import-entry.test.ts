// Review findings on the public import entry points (importContext, decodeHandoff,
// step). Each test failed on main before its fix.
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { clearEnvelope, expectSspiError, failureOf, useClosers } from './fixtures';

const { importContext, decodeHandoff } = api;
const closers = useClosers();

describe('importContext: a key that is present but falsy is not "no key"', () => {
  // Found by calling importContext(clearEnvelope, { key: null }): it imported the
  // clear envelope, so a deployment whose key failed to load (null, '', 0) accepted
  // forgeable, unsealed contexts. decodeHandoff itself refuses those keys.
  for (const key of [null, '', 0, false]) {
    it(`key ${JSON.stringify(key)} is SEC_E_INVALID_PARAMETER and imports nothing`, async () => {
      const env = await clearEnvelope(closers);
      expectSspiError(await failureOf(() => importContext(env, { key: key as never })), 'SEC_E_INVALID_PARAMETER', 'DecodeHandoff');
      // The refusal came before the single-use claim: the same bytes still import without a key.
      const ctx = await importContext(env);
      expect(ctx.names.clientName).toBe('CONTOSO\\alice');
      ctx.close();
    });
  }
});

describe('byte inputs that pass instanceof Uint8Array but are not typed arrays', () => {
  // Found by passing new Proxy(new Uint8Array(n), {}): instanceof holds, but reading
  // .buffer/.length throws a TypeError from inside the library.
  const proxy = () => new Proxy(new Uint8Array(64), {});
  const expectParam = (err: unknown, operation: string) => expectSspiError(err, 'SEC_E_INVALID_PARAMETER', operation);
  it('importContext(proxy)', async () => {
    expectParam(await failureOf(() => importContext(proxy())), 'ImportSecurityContextW');
  });
  it('decodeHandoff(proxy) and a proxy key', async () => {
    expectParam(await failureOf(() => decodeHandoff(proxy())), 'DecodeHandoff');
    expectParam(await failureOf(() => decodeHandoff(Buffer.alloc(64), { key: new Proxy(new Uint8Array(32), {}) })), 'DecodeHandoff');
  });
  it('ServerContext.step(proxy)', async () => {
    const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: 'D', user: 'u', password: 'p' }] });
    closers.push(() => cred.close());
    const server = new api.ServerContext(cred);
    closers.push(() => server.close());
    expectParam(await failureOf(() => server.step(proxy())), 'AcceptSecurityContext');
  });
});

describe('ClientContext target that NTLM cannot carry', () => {
  // Found by trying targets at the edges: 100,000 characters made the AV_PAIR writer
  // throw a RangeError, reported as SEC_E_INTERNAL_ERROR "unexpected failure", and a
  // lone surrogate went on the wire and was refused by the server as an invalid token.
  // MsvAvTargetName is UTF-16 with a 16-bit byte length (MS-NLMP 2.2.2.1).
  for (const [name, target] of [
    ['100,000 characters', 'x'.repeat(100_000)],
    ['32,768 characters', 'x'.repeat(0x8000)],
    ['a lone surrogate', 'HTTP/\ud800host'],
  ] as const) {
    it(`${name}: SEC_E_INVALID_PARAMETER when the context is made`, async () => {
      const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { domain: 'D', user: 'u', password: 'p' } });
      closers.push(() => cred.close());
      expectSspiError(await failureOf(() => new api.ClientContext(cred, { target })), 'SEC_E_INVALID_PARAMETER', 'InitializeSecurityContextW');
    });
  }
  it('an emoji (a surrogate pair) and 32,767 characters are fine', async () => {
    const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { domain: 'D', user: 'u', password: 'p' } });
    closers.push(() => cred.close());
    for (const target of ['HTTP/\u{1F600}.example', 'x'.repeat(0x7fff)]) {
      const c = new api.ClientContext(cred, { target });
      closers.push(() => c.close());
      expect((await c.step()).token?.length).toBeGreaterThan(0);
    }
  });
});
