// Every public entry point refuses bad arguments with an SspiError naming the operation:
// SEC_E_INVALID_HANDLE where the handle (credential, context, exported context) is missing,
// SEC_E_INVALID_PARAMETER otherwise. Never a TypeError from inside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, establish } from '../helpers/handshake.js';

const { Credentials, ClientContext, ServerContext, importContext, encodeHandoff, decodeHandoff, describeStatus, SspiError } = api;
type Any = any;

function expectSspi(fn: () => unknown, code: string, operation: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SspiError);
  expect(caught).toMatchObject({ code, operation });
}

async function expectSspiAsync(fn: () => Promise<unknown>, code: string, operation: string): Promise<void> {
  await expect(fn()).rejects.toSatisfy((e: unknown) => e instanceof SspiError && (e as Any).code === code && (e as Any).operation === operation);
}

let h: Awaited<ReturnType<typeof establish>>;
let cred: InstanceType<typeof Credentials>;
beforeAll(async () => {
  h = await establish();
  cred = await Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: 'D', user: 'u', password: 'p' }] });
});
afterAll(() => {
  h.close();
  cred.close();
});

describe('Credentials.acquire', () => {
  const op = 'AcquireCredentialsHandleW';
  for (const [what, options] of [
    ['no options', undefined],
    ['null', null],
    ['a numeric package', { package: 5, use: 'inbound' }],
    ['an empty package', { package: '', use: 'inbound' }],
    ['an unknown use', { package: 'NTLM', use: 'sideways' }],
    ['an identity without a password', { package: 'NTLM', use: 'outbound', identity: { user: 'a', domain: 'b' } }],
    ['users that are a number', { package: 'NTLM', use: 'inbound', users: 5 }],
  ] as const) {
    it(`refuses ${what}: SEC_E_INVALID_PARAMETER`, async () => {
      await expectSspiAsync(() => Credentials.acquire(options as Any), 'SEC_E_INVALID_PARAMETER', op);
    });
  }
});

describe('ClientContext / ServerContext', () => {
  for (const [Ctor, op] of [[ClientContext, 'InitializeSecurityContextW'], [ServerContext, 'AcceptSecurityContext']] as const) {
    it(`new ${Ctor.name}(null | undefined | {}): SEC_E_INVALID_HANDLE`, () => {
      for (const bad of [null, undefined, {}, 'NTLM']) expectSspi(() => new (Ctor as Any)(bad), 'SEC_E_INVALID_HANDLE', op);
    });

    it(`new ${Ctor.name}(cred, bad options): SEC_E_INVALID_PARAMETER`, () => {
      for (const bad of [null, 5, [], { flags: -1 }, { flags: 1.5 }, { flags: '16' }, { flags: 2 ** 32 }]) {
        expectSspi(() => new (Ctor as Any)(cred, bad), 'SEC_E_INVALID_PARAMETER', op);
      }
    });
  }

  it('new ClientContext(cred, { target: 5 }): SEC_E_INVALID_PARAMETER', () => {
    expectSspi(() => new ClientContext(cred, { target: 5 as Any }), 'SEC_E_INVALID_PARAMETER', 'InitializeSecurityContextW');
  });

  it('step(non-bytes): SEC_E_INVALID_PARAMETER, and the context can still step', async () => {
    const ctx = new ServerContext(cred);
    for (const bad of [5, 'token', {}]) await expectSspiAsync(() => ctx.step(bad as Any), 'SEC_E_INVALID_PARAMETER', 'AcceptSecurityContext');
    expect(ctx.isEstablished).toBe(false);
    ctx.close();
  });

  it('export(null): SEC_E_INVALID_PARAMETER, and the context is kept', async () => {
    await expectSspiAsync(() => h.server.export(null as Any), 'SEC_E_INVALID_PARAMETER', 'ExportSecurityContext');
    expect(h.server.isEstablished).toBe(true);
  });
});

describe('importContext, encodeHandoff, decodeHandoff', () => {
  it('importContext(missing): SEC_E_INVALID_HANDLE; bad source or options: SEC_E_INVALID_PARAMETER', async () => {
    const op = 'ImportSecurityContextW';
    for (const bad of [null, undefined]) await expectSspiAsync(() => importContext(bad as Any), 'SEC_E_INVALID_HANDLE', op);
    await expectSspiAsync(() => importContext({} as Any), 'SEC_E_INVALID_PARAMETER', op);
    await expectSspiAsync(() => importContext(Buffer.alloc(80), null as Any), 'SEC_E_INVALID_PARAMETER', op);
  });

  it('encodeHandoff(missing): SEC_E_INVALID_HANDLE; bad options: SEC_E_INVALID_PARAMETER', async () => {
    const op = 'EncodeHandoff';
    for (const bad of [null, undefined, {}, { packageName: 'NTLM', packed: Buffer.alloc(8) }]) expectSspi(() => encodeHandoff(bad as Any), 'SEC_E_INVALID_HANDLE', op);
    const exported = await h.client.export();
    try {
      for (const bad of [null, 5, { ttlMs: -1 }, { key: 'k' }, { targetPid: 1.5 }]) expectSspi(() => encodeHandoff(exported, bad as Any), 'SEC_E_INVALID_PARAMETER', op);
    } finally {
      exported.dispose();
    }
  });

  it('decodeHandoff(non-bytes | bad options): SEC_E_INVALID_PARAMETER', () => {
    const op = 'DecodeHandoff';
    for (const bad of [null, 'SSPX', 5]) expectSspi(() => decodeHandoff(bad as Any), 'SEC_E_INVALID_PARAMETER', op);
    expectSspi(() => decodeHandoff(Buffer.alloc(80), null as Any), 'SEC_E_INVALID_PARAMETER', op);
  });
});

describe('describeStatus', () => {
  it('refuses what is neither a 32-bit value nor a string: SEC_E_INVALID_PARAMETER', () => {
    for (const bad of [null, undefined, {}, 1.5, 2 ** 32, -(2 ** 31) - 1, Number.NaN, 12345678901234567890]) {
      expectSspi(() => describeStatus(bad as Any), 'SEC_E_INVALID_PARAMETER', 'describeStatus');
    }
    expectSspi(() => describeStatus('12345678901234567890'), 'SEC_E_INVALID_PARAMETER', 'describeStatus');
  });

  it('still takes signed and unsigned values and names', () => {
    expect(describeStatus(-2146893044).name).toBe('SEC_E_LOGON_DENIED');
    expect(describeStatus(0x8009030c).name).toBe('SEC_E_LOGON_DENIED');
    expect(describeStatus('0x8009030C').name).toBe('SEC_E_LOGON_DENIED');
    expect(new SspiError(0x8009ffff, 'x').code).toBe('0x8009FFFF');
  });
});
