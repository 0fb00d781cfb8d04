// Issue 13, identity: the fallback server refuses names Windows would not
// allow, export refuses a name it cannot carry whole (SEC_E_CANNOT_PACK), and
// the packed format round-trips any valid Unicode name (property test).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { logonPair, type Who } from './logon';

const { importContext, SspiError } = api;

const password = 'Passw0rd!identity';

type Entry = { user: string; domain?: string; password: string };

const handshake = (who: Who, users: Entry[], target?: string) => logonPair(who, { users }, target);

async function statusOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SspiError);
    return (e as { code: string }).code;
  }
}

describe('the server refuses names longer than Windows allows', () => {
  it('refuses the 1,010-space domain that smuggled CONTOSO\\administrator into the client name', async () => {
    // A store entry without a domain (as smbpasswd lines have) takes the client's domain.
    const who = { user: 'carol', domain: 'CONTOSO\\administrator' + ' '.repeat(1010), password };
    expect(await statusOf(handshake(who, [{ user: 'carol', password }]))).toBe('SEC_E_LOGON_DENIED');
  });

  it('refuses a backslash in the domain even when short, so DOMAIN\\user stays unambiguous', async () => {
    const who = { user: 'carol', domain: 'CONTOSO\\administrator', password };
    expect(await statusOf(handshake(who, [{ user: 'carol', password }]))).toBe('SEC_E_LOGON_DENIED');
  });

  it('accepts a 255-character domain and a 256-character user name, refuses one more', async () => {
    const dom = 'd'.repeat(255);
    const user = 'u'.repeat(256);
    const ok = await handshake({ user, domain: dom, password }, [{ user, password }]);
    expect(ok.server.names.clientName).toBe(`${dom}\\${user}`);
    // Exported and imported whole.
    const copy = await importContext(await ok.server.export());
    expect(copy.names.clientName).toBe(`${dom}\\${user}`);
    copy.close();
    ok.close();
    expect(await statusOf(handshake({ user, domain: dom + 'd', password }, [{ user, password }]))).toBe('SEC_E_LOGON_DENIED');
    expect(await statusOf(handshake({ user: user + 'u', domain: dom, password }, [{ user: user + 'u', password }]))).toBe('SEC_E_LOGON_DENIED');
  });

  it('refuses characters Windows forbids in account names', async () => {
    for (const user of ['car\\ol', 'car/ol', 'car:ol', 'car\u0000ol', 'car|ol']) {
      expect(await statusOf(handshake({ user, domain: 'CONTOSO', password }, [{ user, password }])), JSON.stringify(user)).toBe('SEC_E_LOGON_DENIED');
    }
  });
});

describe('export never cuts a name', () => {
  it('refuses a client name longer than the format carries with SEC_E_CANNOT_PACK and keeps the context', async () => {
    // The store is trusted configuration; its domain becomes the client name's.
    const long = 'D'.repeat(5000);
    const s = await handshake({ user: 'carol', domain: '', password }, [{ user: 'carol', domain: long, password }]);
    expect(s.server.names.clientName).toBe(`${long}\\carol`);
    expect(await statusOf(s.server.export({ deleteOld: true }))).toBe('SEC_E_CANNOT_PACK');
    // Nothing was deleted: the context still protects messages.
    expect(s.client.decrypt(s.server.encrypt(Buffer.from('still here'))).toString()).toBe('still here');
    s.close();
  });

  it('refuses rather than cuts inside a multi-byte character', async () => {
    const euro = '\u20ac'.repeat(1400); // 4,200 UTF-8 bytes; a cut at 1,024 or 4,096 falls inside one
    const s = await handshake({ user: 'carol', domain: '', password }, [{ user: 'carol', domain: euro, password }]);
    expect(await statusOf(s.server.export())).toBe('SEC_E_CANNOT_PACK');
    s.close();
  });

  it('refuses a target name (the client SPN) it cannot carry', async () => {
    const s = await handshake({ user: 'carol', domain: 'CONTOSO', password }, [{ user: 'carol', password }], 'HOST/' + 'h'.repeat(5000));
    expect(await statusOf(s.client.export())).toBe('SEC_E_CANNOT_PACK');
    s.close();
  });
});

describe('the packed format round-trips any valid Unicode name', () => {
  it('export then import gives back exactly the name, or export refuses it whole (fast-check, astral characters included)', async () => {
    const s = await handshake({ user: 'carol', domain: 'CONTOSO', password }, [{ user: 'carol', password }]);
    // The fallback's context handle behind the public object (a protected field).
    const handle = (s.server as unknown as { handle: { clientName: string; serverName: string } }).handle;
    const original = handle.clientName;
    let refused = 0;
    let carried = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', minLength: 1000, maxLength: 1100 })),
          fc.string({ unit: 'binary', maxLength: 40 }),
          async (clientName, serverName) => {
            handle.clientName = clientName;
            handle.serverName = serverName;
            const bytes = Buffer.byteLength(clientName, 'utf8');
            const code = await statusOf(
              s.server.export().then(async (exported) => {
                const copy = await importContext(exported);
                try {
                  expect(copy.names.clientName).toBe(clientName);
                  expect(copy.names.serverName).toBe(serverName);
                } finally {
                  copy.close();
                }
              }),
            );
            if (bytes > 4096) {
              expect(code).toBe('SEC_E_CANNOT_PACK');
              refused++;
            } else {
              expect(code).toBeUndefined();
              carried++;
            }
          },
        ),
        { numRuns: 300, seed: 13 },
      );
    } finally {
      handle.clientName = original;
      s.close();
    }
    // Both branches were exercised.
    expect(carried).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(5);
  });

  it('refuses a name that is not valid Unicode (a lone surrogate) instead of changing it', async () => {
    const s = await handshake({ user: 'carol', domain: 'CONTOSO', password }, [{ user: 'carol', password }]);
    const handle = (s.server as unknown as { handle: { clientName: string } }).handle;
    for (const name of ['CONTOSO\\\ud800carol', 'CONTOSO\\carol\udc00', '\udc00\ud800']) {
      handle.clientName = name;
      expect(await statusOf(s.server.export())).toBe('SEC_E_CANNOT_PACK');
    }
    s.close();
  });
});
