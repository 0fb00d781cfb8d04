// Secrets never leave: a canary password and canary keys go through
// handshakes, exports, imports, envelopes and every failure path. Every error
// (message, stack, inspect, JSON), every inspect/JSON of a public object and
// all console/stdout/stderr output is collected, and no canary may appear in
// it in any common encoding. After close(), key buffers are zero.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api } from '../helpers/handshake.js';

const require = createRequire(import.meta.url);
const { createFallbackBackend } = require('../../dist/fallback/index.js') as typeof import('../../lib/fallback/index.js');
const internal = require('../../dist/fallback/internal.js') as typeof import('../../lib/fallback/internal.js');
const { ntowfv1 } = require('../../dist/fallback/ntlmv2.js') as typeof import('../../lib/fallback/ntlmv2.js');

type Backend = import('../../lib/backend/types.js').Backend;
type CredHandleRef = import('../../lib/backend/types.js').CredHandleRef;
type CtxtHandleRef = import('../../lib/backend/types.js').CtxtHandleRef;

const PASSWORD = 'Canary-Pw-7f3a9c1e-QZX!';
const WRONG_PASSWORD = 'Canary-Wrong-51d2e8b4-JKV!';
const FILE_PASSWORD = 'Canary-File-0c6e93aa-MRT!';
const DOMAIN = 'CANARYDOM';
const USER = 'canaryuser';
const HANDOFF_KEY = Buffer.from('c4a7a3e5' + 'deadbeef'.repeat(6) + '5eed5eed', 'hex');

// ---------- a backend that records every handle it hands out ----------

const creds: CredHandleRef[] = [];
const contexts = new Set<CtxtHandleRef>();
function recordingBackend(): Backend {
  const inner = createFallbackBackend();
  return {
    ...inner,
    async acquireCredentialsHandle(req) {
      const r = await inner.acquireCredentialsHandle(req);
      creds.push(r.cred);
      return r;
    },
    async initializeSecurityContext(cred, req) {
      const r = await inner.initializeSecurityContext(cred, req);
      contexts.add(r.context);
      return r;
    },
    async acceptSecurityContext(cred, req) {
      const r = await inner.acceptSecurityContext(cred, req);
      contexts.add(r.context);
      return r;
    },
    async importSecurityContext(pkg, packed, token) {
      const h = await inner.importSecurityContext(pkg, packed, token);
      contexts.add(h);
      return h;
    },
  };
}

// ---------- what is collected, and the canaries ----------

const collected: string[] = [];
const secretBytes: Buffer[] = [];

function collectObject(label: string, o: unknown): void {
  collected.push(`${label}: ${inspect(o, { depth: Infinity, showHidden: true })}`);
  collected.push(`${label}: ${inspect(o, { depth: Infinity, showHidden: true, getters: true })}`);
  try {
    collected.push(`${label}: ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  } catch (e) {
    collected.push(`${label}: JSON failed: ${String(e)}`);
  }
  collected.push(`${label}: ${String(o)}`);
}

function collectError(label: string, e: unknown): void {
  expect(e, label).toBeInstanceOf(api.SspiError);
  const err = e as Error & Record<string, unknown>;
  collected.push(`${label}: ${err.message}`, `${label}: ${err.stack ?? ''}`);
  for (const k of Object.getOwnPropertyNames(err)) collected.push(`${label}.${k}: ${String(err[k])}`);
  collectObject(label, e);
}

/** Run fn, which must fail with an SspiError; collect everything about the error. */
async function failing(label: string, fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    collectError(label, e);
    return (e as { code: string }).code;
  }
  throw new Error(`${label}: expected a failure`);
}

/** Every way a byte secret could be printed: hex, base64, Buffer and Uint8Array inspect, latin1. */
function byteForms(b: Buffer): string[] {
  const hex = b.toString('hex');
  const first = b.subarray(0, 8);
  return [
    hex,
    hex.toUpperCase(),
    b.toString('base64'),
    b.toString('base64url'),
    Array.from(first, (x) => x.toString(16).padStart(2, '0')).join(' '), // <Buffer 3a 4f ...>
    Array.from(first, (x) => String(x)).join(','), // Uint8Array(16) [ 58, 79, ... ], searched with whitespace removed
    b.toString('latin1'),
  ];
}

function stringForms(s: string): string[] {
  const u8 = Buffer.from(s, 'utf8');
  const u16 = Buffer.from(s, 'utf16le');
  return [s, u16.toString('latin1'), ...byteForms(u8).slice(0, 4), ...byteForms(u16).slice(0, 4), JSON.stringify(s).slice(1, -1)];
}

async function handshake(client: InstanceType<typeof api.Credentials>, server: InstanceType<typeof api.Credentials>) {
  const c = new api.ClientContext(client, { target: 'HOST/canary.example' });
  const s = new api.ServerContext(server);
  const steps: unknown[] = [];
  let input: Buffer | undefined;
  for (;;) {
    const r = await c.step(input);
    steps.push(r);
    if (!r.token) break;
    const t = await s.step(r.token);
    steps.push(t);
    input = t.token;
    if (!input) break;
  }
  return { c, s, steps };
}

function handleOf(ctx: object): CtxtHandleRef {
  // The handle is a protected field of ContextBase; the test reads it to reach the fallback's key buffers.
  return (ctx as unknown as { handle: CtxtHandleRef }).handle;
}

function rememberKeys(ctx: object): Uint8Array[] {
  const bufs = internal.keyBuffersForTest(handleOf(ctx));
  // Session keys (16 bytes each) and the first bytes of each RC4 state.
  for (const b of bufs) secretBytes.push(Buffer.from(b.subarray(0, 16)));
  return bufs;
}

const allZero = (b: Uint8Array) => b.every((x) => x === 0);

describe('secrets', () => {
  const out: string[] = [];
  const spies: { mockRestore(): void }[] = [];
  let dir = '';

  beforeAll(() => {
    api.setBackend(recordingBackend());
    for (const stream of [process.stdout, process.stderr]) {
      const orig = stream.write.bind(stream);
      spies.push(
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
          out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
          return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof stream.write),
      );
    }
    for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      const orig = console[m].bind(console);
      spies.push(
        vi.spyOn(console, m).mockImplementation((...a: unknown[]) => {
          out.push(a.map((x) => (typeof x === 'string' ? x : inspect(x, { depth: Infinity, showHidden: true }))).join(' '));
          orig(...a);
        }),
      );
    }
    process.on('warning', onWarning);
    dir = mkdtempSync(join(tmpdir(), 'sspi-secrets-'));
  });
  const onWarning = (w: Error) => out.push(`warning: ${w.stack ?? w.message}`);

  afterAll(() => {
    for (const s of spies) s.mockRestore();
    process.off('warning', onWarning);
    rmSync(dir, { recursive: true, force: true });
    api.setBackend('fallback');
  });

  it('no canary in any error, inspect, JSON or console output, and keys are zero after close', async () => {
    // ---------- the happy path ----------
    const clientCred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: PASSWORD } });
    const serverCred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: DOMAIN, user: USER, password: PASSWORD }] });
    const hashCred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: DOMAIN, user: USER, ntHash: ntowfv1(PASSWORD).toString('hex') }] });
    const userFile = join(dir, 'users');
    writeFileSync(userFile, `${DOMAIN}:${USER}:${FILE_PASSWORD}\n${DOMAIN}:other:${PASSWORD}\n`);
    const fileCred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: userFile });
    for (const [k, v] of Object.entries({ clientCred, serverCred, hashCred, fileCred })) collectObject(k, v);

    const { c, s, steps } = await handshake(clientCred, serverCred);
    expect(s.names.clientName).toBe(`${DOMAIN}\\${USER}`);
    steps.forEach((r, i) => collectObject(`step${i}`, r));
    const clientKeys = rememberKeys(c);
    const serverKeys = rememberKeys(s);
    collectObject('client', c);
    collectObject('server', s);
    collectObject('names', s.names);
    collectObject('sizes', s.sizes);

    const sealed = c.encrypt(Buffer.from('secret message'));
    const signature = c.sign(Buffer.from('signed'));
    expect(s.decrypt(sealed).toString()).toBe('secret message');
    s.verify(Buffer.from('signed'), signature);

    // In-process export/import.
    const exported = await s.export();
    secretBytes.push(Buffer.from(exported.packed.subarray(44, 60))); // the ExportedSessionKey region of the packed format
    collectObject('exported', exported);
    const imported = await api.importContext(exported);
    const importedKeys = rememberKeys(imported);
    collectObject('imported', imported);

    // Envelopes, sealed and clear.
    const ex2 = await s.export({ resetNew: true });
    const envelope = api.encodeHandoff(ex2, { key: HANDOFF_KEY });
    const decoded = api.decodeHandoff(envelope, { key: HANDOFF_KEY });
    collectObject('decoded', decoded);
    collectObject('header', api.readHandoffHeader(envelope));
    const fromEnvelope = await api.importContext(envelope, { key: HANDOFF_KEY });
    rememberKeys(fromEnvelope);
    collectObject('fromEnvelope', fromEnvelope);
    const clear = api.encodeHandoff(ex2);
    collectObject('decodedClear', api.decodeHandoff(clear));
    const ex2packed = ex2.packed;
    ex2.dispose();
    expect(allZero(ex2packed)).toBe(true);
    collectObject('disposed', ex2);

    // ---------- every failure path ----------
    const wrongCred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: WRONG_PASSWORD } });
    const bad = await handshake(wrongCred, serverCred).then(
      () => null,
      (e) => e,
    );
    collectError('wrong password', bad);
    expect(bad.code).toBe('SEC_E_LOGON_DENIED');
    const unknown = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: 'nobody', domain: DOMAIN, password: PASSWORD } });
    collectError('unknown user', await handshake(unknown, serverCred).then(() => null, (e) => e));
    collectError('file store, wrong password', await handshake(clientCred, fileCred).then(() => null, (e) => e));
    await handshake(clientCred, hashCred).then(({ c: a, s: b }) => (a.close(), b.close()));

    // Bad tokens at every leg.
    await failing('garbage NEGOTIATE', () => new api.ServerContext(serverCred).step(randomBytes(40)));
    await failing('empty token', () => new api.ServerContext(serverCred).step(Buffer.alloc(0)));
    {
      const cc = new api.ClientContext(clientCred);
      const neg = (await cc.step()).token!;
      const sc = new api.ServerContext(serverCred);
      const chal = (await sc.step(neg)).token!;
      await failing('truncated CHALLENGE', () => cc.step(chal.subarray(0, 30)));
      const cc2 = new api.ClientContext(clientCred);
      await cc2.step();
      const auth = (await cc2.step(chal)).token!;
      rememberKeys(cc2);
      const tampered = Buffer.from(auth);
      tampered[tampered.length - 1]! ^= 1;
      await failing('tampered AUTHENTICATE (MIC)', () => sc.step(tampered));
      await failing('step on a failed context', () => sc.step(auth));
      await failing('step after done', () => cc2.step(chal));
      cc2.close();
    }

    // Bad packed contexts.
    const goodPacked = Buffer.from((await s.export()).packed);
    for (const [label, bytes] of [
      ['packed truncated', goodPacked.subarray(0, 100)],
      ['packed bit flip', Buffer.from(goodPacked).fill(0x41, 50, 51)],
      ['packed trailing', Buffer.concat([goodPacked, Buffer.alloc(3)])],
      ['packed garbage', randomBytes(goodPacked.length)],
    ] as const) {
      await failing(label, () => api.importContext(new api.ExportedContext('NTLM', Buffer.from(bytes))));
    }
    await failing('packed, wrong package', () => api.importContext(new api.ExportedContext('Kerberos', Buffer.from(goodPacked))));
    goodPacked.fill(0);

    // Bad envelopes.
    const ex3 = await s.export();
    const env3 = api.encodeHandoff(ex3, { key: HANDOFF_KEY });
    const tamperedEnv = Buffer.from(env3);
    tamperedEnv[tamperedEnv.length - 20]! ^= 0x80;
    await failing('tampered envelope', () => api.importContext(tamperedEnv, { key: HANDOFF_KEY }));
    await failing('wrong key', () => api.importContext(env3, { key: randomBytes(32) }));
    await failing('no key', () => api.importContext(env3));
    await failing('key for a clear envelope', () => api.decodeHandoff(api.encodeHandoff(ex3), { key: HANDOFF_KEY }));
    await failing('short key', () => api.encodeHandoff(ex3, { key: HANDOFF_KEY.subarray(0, 31) }));
    await failing('truncated envelope', () => api.importContext(env3.subarray(0, env3.length - 1), { key: HANDOFF_KEY }));
    await failing('envelope for another process', () => api.importContext(api.encodeHandoff(ex3, { key: HANDOFF_KEY, targetPid: process.pid + 1 }), { key: HANDOFF_KEY }));
    const once = api.encodeHandoff(ex3, { key: HANDOFF_KEY });
    (await api.importContext(once, { key: HANDOFF_KEY })).close();
    await failing('replayed envelope', () => api.importContext(once, { key: HANDOFF_KEY }));
    const short = api.encodeHandoff(ex3, { key: HANDOFF_KEY, ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    await failing('expired envelope', () => api.importContext(short, { key: HANDOFF_KEY }));
    ex3.dispose();

    // Message protection failures.
    const m1 = c.encrypt(Buffer.from('one'));
    expect(imported.decrypt(m1).toString()).toBe('one');
    await failing('replayed sealed message', () => imported.decrypt(m1));
    const m2 = Buffer.from(c.encrypt(Buffer.from('two')));
    m2[m2.length - 1]! ^= 1;
    await failing('tampered sealed message', () => imported.decrypt(m2));
    await failing('tampered signature', () => imported.verify(Buffer.from('x'), Buffer.alloc(16, 1)));
    await failing('short sealed message', () => imported.decrypt(Buffer.alloc(3)));

    // Impersonation (Windows only) and misuse.
    await failing('impersonate', () => imported.impersonate(() => 1));
    await failing('impersonate async', () => imported.impersonate((async () => 1) as unknown as () => number));
    await failing('export before established', () => new api.ServerContext(serverCred).export());
    await failing('inbound credential used outbound', () => new api.ClientContext(serverCred).step());
    await failing('bad acquire', () => api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: '', domain: DOMAIN, password: PASSWORD } }));
    await failing('bad ntHash', () => api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: DOMAIN, user: USER, ntHash: ntowfv1(PASSWORD).toString('hex') + 'zz' }] }));
    await failing('both password and ntHash', () => api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: DOMAIN, user: USER, password: PASSWORD, ntHash: ntowfv1(PASSWORD) }] }));
    await failing('missing user file', () => api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: join(dir, `missing-${PASSWORD}`) }));
    await failing('unknown package', () => api.Credentials.acquire({ package: 'Kerberos', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: PASSWORD } }));

    // ---------- close, then use after close; keys are zero ----------
    const handles = [c, s, imported, fromEnvelope].map((x) => ({ x, h: handleOf(x) }));
    c.close();
    s.close();
    imported.close();
    fromEnvelope.close();
    c.close(); // twice: a no-op
    for (const { x, h } of handles) {
      const bufs = internal.keyBuffersForTest(h);
      expect(bufs.length).toBeGreaterThan(0);
      for (const b of bufs) expect(allZero(b), `${x.constructor.name} key buffer`).toBe(true);
      collectObject('closed', x);
    }
    for (const b of [...clientKeys, ...serverKeys, ...importedKeys]) expect(allZero(b)).toBe(true);
    await failing('sign after close', () => c.sign(Buffer.from('x')));
    await failing('decrypt after close', () => imported.decrypt(sealed));
    await failing('verify after close', () => s.verify(Buffer.from('signed'), signature));
    await failing('encrypt after close', () => fromEnvelope.encrypt(Buffer.from('x')));
    await failing('export after close', () => s.export());
    await failing('names after close', () => s.names);

    // An export with deleteOld wipes the source.
    const pair = await handshake(clientCred, serverCred);
    const srcKeys = rememberKeys(pair.s);
    const moved = await pair.s.export({ deleteOld: true });
    for (const b of srcKeys) expect(allZero(b)).toBe(true);
    await failing('use after deleteOld', () => pair.s.encrypt(Buffer.from('x')));
    const movedPacked = moved.packed;
    moved.dispose();
    expect(allZero(movedPacked)).toBe(true);
    pair.c.close();

    // Credentials: NT hashes are zero after close.
    for (const cred of [clientCred, serverCred, hashCred, fileCred, wrongCred, unknown]) cred.close();
    expect(creds.length).toBeGreaterThanOrEqual(6);
    for (const h of creds) {
      const bufs = internal.credentialKeyBuffersForTest(h);
      for (const b of bufs) secretBytes.push(Buffer.from(b)); // already zero: harmless as a canary
      for (const b of bufs) expect(allZero(b)).toBe(true);
    }
    await failing('closed credential', () => new api.ClientContext(clientCred).step());
    collectObject('closedCred', clientCred);
    // Every context the backend handed out is wiped once deleted.
    for (const h of contexts) {
      if ((h as unknown as { state: string }).state === 'deleted') for (const b of internal.keyBuffersForTest(h)) expect(allZero(b)).toBe(true);
    }

    // ---------- the canaries ----------
    const canaries = new Map<string, string>();
    for (const p of [PASSWORD, WRONG_PASSWORD, FILE_PASSWORD]) for (const f of stringForms(p)) canaries.set(f, `password ${p.slice(0, 12)}…`);
    for (const p of [PASSWORD, WRONG_PASSWORD, FILE_PASSWORD]) for (const f of byteForms(ntowfv1(p))) canaries.set(f, 'NT hash');
    for (const f of byteForms(HANDOFF_KEY)) canaries.set(f, 'handoff key');
    const realSecrets = secretBytes.filter((b) => !allZero(b));
    expect(realSecrets.length).toBeGreaterThan(10);
    for (const b of realSecrets) for (const f of byteForms(b)) canaries.set(f, 'session key / RC4 state');

    const text = [...collected, ...out].join('\n');
    // inspect() pads and wraps byte arrays over lines, so also search with all whitespace removed.
    const squeezed = text.replace(/\s+/g, '');
    expect(collected.length).toBeGreaterThan(200);
    const found = [...canaries]
      .filter(([f]) => f.length >= 8 && (text.includes(f) || squeezed.includes(f.replace(/\s+/g, ''))))
      .map(([f, what]) => `${what}: ${JSON.stringify(f)}`);
    expect(found).toEqual([]);
    // The probe is live: the same search finds a canary when it is there.
    expect(`${text}\n${inspect(Buffer.from(HANDOFF_KEY))}`.includes(byteForms(HANDOFF_KEY)[4]!)).toBe(true);
  });
});
