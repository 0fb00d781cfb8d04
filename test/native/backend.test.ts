// lib/native/backend.ts and loader.ts on Linux, with a fake binding.
import { describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../lib/native/backend.js';
import { addonCandidates, asarUnpacked, loadAddon } from '../../lib/native/loader.js';
import type { NativeBinding, NativeContext, NativeHandshakeResult } from '../../lib/native/native.js';
import { SspiError } from '../../lib/errors.js';

class FakeHandle {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

function fake(overrides: Partial<NativeBinding> = {}) {
  const calls: unknown[][] = [];
  const token = Object.assign(new FakeHandle(), { value: 0x1234n, duplicateTo: (pid: number) => BigInt(pid) * 4n, userSid: () => 'S-1-5-18' });
  const result = (status: number): NativeHandshakeResult => ({ status, output: [{ type: 2, buffer: Buffer.from('tok') }], contextAttributes: 0x10, expiry: 1000, completed: status === 0x00090313 || status === 0x00090314 });
  let passwordSeen: Buffer | undefined;
  const binding = {
    setErrorClass: () => {},
    Context: FakeHandle as unknown as NativeBinding['Context'],
    Credential: FakeHandle,
    Token: FakeHandle,
    enumerateSecurityPackages: () => [{ name: 'NTLM', comment: '', capabilities: 1, version: 1, rpcId: 10, maxToken: 1904 }],
    acquireCredentialsHandle: async (pkg: string, use: number, id: { password: Buffer } | null) => {
      calls.push(['acquire', pkg, use, id?.password.toString('utf16le')]);
      passwordSeen = id?.password;
      return { cred: new FakeHandle(), expiry: 42 };
    },
    initializeSecurityContext: async (_c: unknown, ctx: NativeContext, target: string | null, flags: number) => {
      calls.push(['isc', ctx, target, flags]);
      return result(0x00090312);
    },
    acceptSecurityContext: async () => result(0x00090313),
    completeAuthToken: (_c: unknown, b: { type: number; buffer: Buffer }[]) => b.map((x) => ({ ...x, buffer: Buffer.from('done') })),
    exportSecurityContext: async () => ({ packed: Buffer.from('packed'), token }),
    importSecurityContext: async () => new FakeHandle(),
    queryContextAttributes: (_c: unknown, id: number) => (id === 14 ? 0x10 : { id }),
    makeSignature: () => Buffer.alloc(16),
    verifySignature: () => 0,
    encryptMessage: (_c: unknown, d: Buffer) => Buffer.concat([Buffer.alloc(16), d]),
    decryptMessage: (_c: unknown, m: Buffer) => m.subarray(16),
    impersonateSecurityContext: () => {},
    revertSecurityContext: () => {},
    querySecurityContextToken: () => token,
    adoptToken: () => token,
    processHandleCount: () => 0,
    probedHandleCount: () => 0,
    threadTokenSid: () => null,
    processUserSid: () => 'S-1-5-18',
    userName: () => 'me',
    ...overrides,
  } as unknown as NativeBinding;
  return { binding, calls, token, password: () => passwordSeen };
}

describe('native backend over a fake binding', () => {
  it('acquires with a UTF-16LE password buffer and wipes it', async () => {
    const f = fake();
    const b = createNativeBackend(f.binding);
    expect(b.name).toBe('native');
    const r = await b.acquireCredentialsHandle({ packageName: 'NTLM', use: 'outbound', identity: { user: 'u', domain: 'd', password: 'pw' } });
    expect(f.calls[0]).toEqual(['acquire', 'NTLM', 2, 'pw']);
    expect(f.password()?.every((x) => x === 0)).toBe(true);
    expect(r.expiry).toBe(42);
    expect(r.cred.kind).toBe('cred');
  });

  it('first step creates a Context; later steps reuse it; completed steps report the effective status', async () => {
    const f = fake();
    const b = createNativeBackend(f.binding);
    const { cred } = await b.acquireCredentialsHandle({ packageName: 'NTLM', use: 'both' });
    const r = await b.initializeSecurityContext(cred, { context: null, flags: 0x10, target: 'HOST/x', input: [] });
    expect(r.status).toBe(0x00090312);
    expect(r.context.kind).toBe('ctxt');
    await b.initializeSecurityContext(cred, { context: r.context, flags: 0x10, input: [] });
    expect(f.calls[1]![1]).toBe(f.calls[2]![1]);
    const a = await b.acceptSecurityContext(cred, { context: null, flags: 0, input: [{ type: 2, buffer: Buffer.from('x') }] });
    expect(a.status).toBe(0); // SEC_I_COMPLETE_NEEDED, completed by the addon
  });

  it('a failed first step closes the empty context', async () => {
    let created: FakeHandle | undefined;
    const f = fake({
      initializeSecurityContext: (async (_c: unknown, ctx: FakeHandle) => {
        created = ctx;
        throw new SspiError('SEC_E_LOGON_DENIED', 'InitializeSecurityContextW');
      }) as never,
    });
    const b = createNativeBackend(f.binding);
    const { cred } = await b.acquireCredentialsHandle({ packageName: 'NTLM', use: 'outbound' });
    await expect(b.initializeSecurityContext(cred, { context: null, flags: 0, input: [] })).rejects.toMatchObject({ code: 'SEC_E_LOGON_DENIED' });
    expect(created?.closed).toBe(true);
  });

  it('refs from elsewhere and closed refs give SEC_E_INVALID_HANDLE; close is idempotent', async () => {
    const f = fake();
    const b = createNativeBackend(f.binding);
    expect(() => b.makeSignature({ kind: 'ctxt' }, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_HANDLE' }));
    const { cred } = await b.acquireCredentialsHandle({ packageName: 'NTLM', use: 'outbound' });
    const { context } = await b.initializeSecurityContext(cred, { context: null, flags: 0, input: [] });
    b.deleteSecurityContext(context);
    b.deleteSecurityContext(context);
    expect(() => b.encryptMessage(context, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_HANDLE', operation: 'EncryptMessage' }));
    b.freeCredentialsHandle(cred);
    await expect(b.initializeSecurityContext(cred, { context: null, flags: 0, input: [] })).rejects.toMatchObject({ code: 'SEC_E_INVALID_HANDLE' });
  });

  it('export, token duplicate/adopt, import, attributes', async () => {
    const f = fake();
    const b = createNativeBackend(f.binding);
    const { cred } = await b.acquireCredentialsHandle({ packageName: 'NTLM', use: 'inbound' });
    const { context } = await b.acceptSecurityContext(cred, { context: null, flags: 0, input: [] });
    const exp = await b.exportSecurityContext(context, 2);
    expect(exp.packed.toString()).toBe('packed');
    expect(exp.token?.value).toBe(0x1234n);
    expect(b.duplicateTokenToProcess(exp.token!, 10)).toBe(40n);
    const adopted = b.adoptToken(40n);
    const imported = await b.importSecurityContext('NTLM', exp.packed, adopted);
    expect(b.queryContextAttributes(imported, 'flags')).toBe(0x10);
    expect(b.queryContextAttributes(imported, 'names')).toEqual({ id: 1 });
    exp.token!.close();
    expect(() => exp.token!.value).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_HANDLE' }));
  });
});

describe('loader', () => {
  it('maps app.asar to app.asar.unpacked first', () => {
    expect(asarUnpacked('/a/app.asar/node_modules/x.node')).toEqual(['/a/app.asar.unpacked/node_modules/x.node', '/a/app.asar/node_modules/x.node']);
    expect(asarUnpacked('/a/b.node')).toEqual(['/a/b.node']);
  });

  it('searches build/Release, build/Debug and prebuilds; an explicit path alone', () => {
    const c = addonCandidates({ roots: ['/pkg'], platform: 'win32', arch: 'x64' });
    expect(c).toEqual(['/pkg/build/Release/sspi_context.node', '/pkg/build/Debug/sspi_context.node', '/pkg/prebuilds/win32-x64/node.napi.node']);
    expect(addonCandidates({ path: '/x/y.node' })).toEqual(['/x/y.node']);
  });

  it('fails with an Error listing every path tried', () => {
    expect(() => loadAddon({ roots: ['/nonexistent'], platform: 'win32', arch: 'x64' })).toThrow(/Tried:[\s\S]*build\/Release\/sspi_context.node \(not found\)[\s\S]*prebuilds/);
  });
});
