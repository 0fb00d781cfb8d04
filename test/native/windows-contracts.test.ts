// The public API over the native backend, with a fake binding modelled on what Windows
// documents and callers observed (shared/windows/SSPI-CONTRACTS.md):
// - §3: a Negotiate context names the package it selected in SECPKG_ATTR_NEGOTIATION_INFO;
// - §2: the negotiating package itself may refuse import (the test SSP's SspiTestNego does);
//   which name Windows wants is undocumented;
// - §6: DeleteSecurityContext does not revert an impersonating thread.
import { describe, expect, it } from 'vitest';
import { Credentials, ServerContext, ClientContext, importContext, encodeHandoff, SspiError } from '../../lib/index.js';
import { createNativeBackend } from '../../lib/native/backend.js';
import type { NativeBinding } from '../../lib/native/native.js';

const SEC_E_OK = 0;
const SEC_I_CONTINUE_NEEDED = 0x00090312;
const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302;
const SEC_E_SECPKG_NOT_FOUND = 0x80090305;
const SEC_E_INVALID_TOKEN = 0x80090308;
const SEC_E_INVALID_HANDLE = 0x80090301;

class Handle {
  closed = false;
  close(): void {
    this.closed = true;
  }
}
class Token extends Handle {
  closes = 0;
  constructor(readonly value: bigint) {
    super();
  }
  override close(): void {
    if (!this.closed) this.closes++;
    super.close();
  }
  duplicateTo(pid: number): bigint {
    return BigInt(pid) * 16n;
  }
  userSid(): string {
    return 'S-1-5-21-1-2-3-1001';
  }
}

interface Model {
  /** What NEGOTIATION_INFO names (undefined: the query is unsupported, as in Wine's NTLM). */
  selected?: string;
  /** Packages whose import works; others answer with `refuse`. */
  importable: string[];
  refuse?: number;
}

function windowsLike(model: Model) {
  const imports: { pkg: string; bufferType: number | undefined; token: Token | null }[] = [];
  const tokens: Token[] = [];
  const state = { threadToken: false, reverts: 0, revertToSelf: 0 };
  const fail = (status: number, operation: string) => new SspiError(status, operation);
  const binding = {
    setErrorClass: () => {},
    Context: Handle,
    Credential: Handle,
    Token: Handle,
    enumerateSecurityPackages: () => [],
    acquireCredentialsHandle: async () => ({ cred: new Handle(), expiry: Infinity }),
    initializeSecurityContext: async (_c: unknown, ctx: Handle & { legs?: number }) => {
      ctx.legs = (ctx.legs ?? 0) + 1;
      return { status: ctx.legs === 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK, output: [{ type: 2, buffer: Buffer.from(ctx.legs === 1 ? 'negotiate' : 'authenticate') }], contextAttributes: 0, expiry: Infinity, completed: false };
    },
    acceptSecurityContext: async (_c: unknown, ctx: Handle & { legs?: number }) => {
      ctx.legs = (ctx.legs ?? 0) + 1;
      return { status: ctx.legs === 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK, output: [{ type: 2, buffer: Buffer.from(ctx.legs === 1 ? 'challenge' : '') }], contextAttributes: 0, expiry: Infinity, completed: false };
    },
    completeAuthToken: () => [],
    exportSecurityContext: async (ctx: Handle) => {
      if (ctx.closed) throw fail(SEC_E_INVALID_HANDLE, 'ExportSecurityContext');
      const token = new Token(BigInt(0x100 + tokens.length * 4));
      tokens.push(token);
      return { packed: Buffer.from('packed context'), token, bufferType: 2 };
    },
    importSecurityContext: async (pkg: string, _packed: Buffer, token: Token | null, bufferType?: number) => {
      imports.push({ pkg, bufferType, token });
      if (!model.importable.includes(pkg)) throw fail(model.refuse ?? SEC_E_UNSUPPORTED_FUNCTION, 'ImportSecurityContextW');
      return new Handle();
    },
    queryContextAttributes: (ctx: Handle, id: number) => {
      if (ctx.closed) throw fail(SEC_E_INVALID_HANDLE, 'QueryContextAttributesW');
      if (id === 12 && model.selected) return { packageName: model.selected, state: 0 };
      throw fail(SEC_E_UNSUPPORTED_FUNCTION, 'QueryContextAttributesW');
    },
    impersonateSecurityContext: (ctx: Handle) => {
      if (ctx.closed) throw fail(SEC_E_INVALID_HANDLE, 'ImpersonateSecurityContext');
      state.threadToken = true;
    },
    revertSecurityContext: (ctx: Handle) => {
      if (ctx.closed) throw fail(SEC_E_INVALID_HANDLE, 'RevertSecurityContext');
      state.reverts++;
      state.threadToken = false;
    },
    revertToSelf: () => {
      state.revertToSelf++;
      state.threadToken = false;
    },
    adoptToken: (value: bigint) => {
      const t = new Token(value);
      tokens.push(t);
      return t;
    },
  } as unknown as NativeBinding;
  return { backend: createNativeBackend(binding), imports, tokens, state };
}

async function established(backend: ReturnType<typeof windowsLike>['backend'], pkg: string) {
  const client = await Credentials.acquire({ package: pkg, use: 'outbound', backend });
  const server = await Credentials.acquire({ package: pkg, use: 'inbound', backend });
  const c = new ClientContext(client);
  const s = new ServerContext(server);
  const t1 = await c.step();
  const t2 = await s.step(t1.token);
  await c.step(t2.token);
  await s.step(Buffer.from('authenticate'));
  expect(s.isEstablished).toBe(true);
  return s;
}

describe('handoff on a Windows-modelled native binding', () => {
  it('exports under the package Negotiate selected and imports under it, with the exporter buffer type', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const s = await established(w.backend, 'SspiTestNego');
    const exp = await s.export({ deleteOld: true });
    expect(exp.packageName).toBe('SspiTest');
    expect(exp.credentialPackage).toBe('SspiTestNego');
    expect(exp.bufferType).toBe(2);
    const imported = await importContext(exp);
    expect(imported.packageName).toBe('SspiTest');
    expect(w.imports.map((i) => [i.pkg, i.bufferType])).toEqual([['SspiTest', 2]]);
  });

  it('retries under the credential package when the selected one refuses, and names the one that accepted', async () => {
    for (const refuse of [SEC_E_UNSUPPORTED_FUNCTION, SEC_E_SECPKG_NOT_FOUND]) {
      const w = windowsLike({ selected: 'Kerberos', importable: ['Negotiate'], refuse });
      const s = await established(w.backend, 'Negotiate');
      const imported = await importContext(await s.export({ deleteOld: true }));
      expect(imported.packageName).toBe('Negotiate');
      expect(w.imports.map((i) => i.pkg)).toEqual(['Kerberos', 'Negotiate']);
      // Both attempts were given the same token; it is closed once, after the import.
      expect(w.imports[0]!.token).toBe(w.imports[1]!.token);
      expect(w.tokens[0]!.closes).toBe(1);
    }
  });

  it('does not retry on other refusals', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: [], refuse: SEC_E_INVALID_TOKEN });
    const s = await established(w.backend, 'SspiTestNego');
    await expect(importContext(await s.export())).rejects.toMatchObject({ code: 'SEC_E_INVALID_TOKEN' });
    expect(w.imports.map((i) => i.pkg)).toEqual(['SspiTest']);
  });

  it('keeps the credential package where NEGOTIATION_INFO is unsupported (Wine)', async () => {
    const w = windowsLike({ importable: ['NTLM'] });
    const s = await established(w.backend, 'NTLM');
    const exp = await s.export();
    expect(exp.packageName).toBe('NTLM');
    expect(exp.credentialPackage).toBe('NTLM');
  });

  it('closes the exported token deterministically after import, and the imported context owns none', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const s = await established(w.backend, 'SspiTestNego');
    const exp = await s.export({ deleteOld: true });
    expect(exp.token).toBeDefined();
    const token = w.tokens[0]!;
    expect(token.closes).toBe(0);
    const imported = await importContext(exp);
    expect(token.closes).toBe(1);
    expect(exp.token).toBeUndefined();
    expect(exp.spent).toBe(true);
    imported.close();
    exp.dispose();
    expect(token.closes).toBe(1);
  });

  it('closes the envelope token after import and after a refused import', async () => {
    const ok = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const exp = await (await established(ok.backend, 'SspiTestNego')).export({ deleteOld: true });
    const bytes = encodeHandoff(exp, { targetPid: process.pid });
    exp.dispose();
    const imported = await importContext(bytes, { backend: ok.backend });
    const adopted = ok.tokens.at(-1)!;
    expect(adopted.value).toBe(BigInt(process.pid) * 16n);
    expect(adopted.closes).toBe(1);
    imported.close();
    expect(adopted.closes).toBe(1);

    const refused = windowsLike({ selected: 'SspiTest', importable: [], refuse: SEC_E_INVALID_TOKEN });
    const exp2 = await (await established(refused.backend, 'SspiTestNego')).export();
    const bytes2 = encodeHandoff(exp2, { targetPid: process.pid });
    await expect(importContext(bytes2, { backend: refused.backend })).rejects.toBeInstanceOf(SspiError);
    expect(refused.tokens.at(-1)!.closes).toBe(1);
  });

  it('deleteOld releases the source handle at once, not at garbage collection', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const s = await established(w.backend, 'SspiTestNego');
    await s.export({ deleteOld: true });
    expect(s.closed).toBe(true);
    expect(() => s.sign(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_HANDLE' }));
  });

  it('impersonate() ends reverted when fn closes the context, with RevertToSelf', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const s = await established(w.backend, 'SspiTestNego');
    const during = s.impersonate(() => {
      const t = w.state.threadToken;
      s.close();
      return t;
    });
    expect(during).toBe(true);
    expect(w.state.threadToken).toBe(false);
    expect(w.state.revertToSelf).toBe(1);
  });

  it('impersonate() reverts through the context when it is still open, also when fn throws', async () => {
    const w = windowsLike({ selected: 'SspiTest', importable: ['SspiTest'] });
    const s = await established(w.backend, 'SspiTestNego');
    expect(() => s.impersonate(() => {
      throw new Error('inner');
    })).toThrow('inner');
    expect(w.state).toEqual({ threadToken: false, reverts: 1, revertToSelf: 0 });
  });
});
