// The fuzz targets: every decoder reachable from the public API, each fed
// mutations of real bytes from a real handshake. Used by test/fuzz/worker.mjs
// (one worker thread per target, so a synchronous hang can be detected).
//
// The rule under test: only SspiError may come out. Any other throw, a
// rejection that is not an SspiError, or an input that takes over 1 s is a
// failure.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';

const require = createRequire(import.meta.url);
/** @type {typeof import('../../lib/index.js')} */
export const api = require('../../dist/index.js');
api.setBackend('fallback');

export const PER_INPUT_LIMIT_MS = 1000;

const DOMAIN = 'FUZZDOM';
const USER = 'fuzzer';
const PASSWORD = 'Fuzz-Passw0rd!';
const TARGET = 'HOST/fuzz.example.com';

// ---------------------------------------------------------------- mutations

/**
 * A mutation is plain data ({ k, a, b, c } with a, b, c 32-bit naturals) so
 * fast-check can shrink it and the counterexample prints as JSON. Positions
 * are taken modulo the current length, so a mutation list applies to any base.
 */
const KINDS = ['truncate', 'flip', 'byte', 'u16', 'u32', 'secbuf', 'avpair', 'insert', 'delete', 'inflate', 'append', 'splice'];

const mutationArb = fc.record({
  k: fc.constantFrom(...KINDS),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
});

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 5 });

/** Values that break length/offset arithmetic, relative to the message length n. */
function interesting(v, n) {
  const table = [0, 1, 2, 4, 7, 8, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, n - 1, n, n + 1, n + 8, n >>> 1, 2 * n];
  const pick = v % (table.length + 4);
  return pick < table.length ? table[pick] >>> 0 : v >>> 0;
}

/**
 * Apply mutations to a copy of `base`. `meta.secbufs` lists the offsets of
 * the message's security buffers (len u16, maxlen u16, offset u32) and
 * `meta.avpairs` the offsets of AV_PAIR headers (id u16, len u16).
 */
export function mutate(base, muts, meta = {}) {
  let b = Buffer.from(base);
  for (const m of muts) {
    const n = b.length;
    switch (m.k) {
      case 'truncate':
        b = b.subarray(0, m.a % (n + 1));
        break;
      case 'flip':
        if (n) b[m.a % n] ^= 1 << (m.b % 8);
        break;
      case 'byte':
        if (n) b[m.a % n] = m.b & 0xff;
        break;
      case 'u16':
        if (n >= 2) b.writeUInt16LE(interesting(m.b, n) & 0xffff, m.a % (n - 1));
        break;
      case 'u32':
        if (n >= 4) b.writeUInt32LE(interesting(m.b, n), m.a % (n - 3));
        break;
      case 'secbuf': {
        // Len, MaxLen or BufferOffset of one security buffer.
        const fields = meta.secbufs ?? [];
        if (!fields.length) break;
        const at = fields[m.a % fields.length];
        const which = m.b % 3;
        const v = interesting(m.c, n);
        if (which < 2 && at + 2 * which + 2 <= n) b.writeUInt16LE(v & 0xffff, at + 2 * which);
        if (which === 2 && at + 8 <= n) b.writeUInt32LE(v, at + 4);
        break;
      }
      case 'avpair': {
        const pairs = meta.avpairs ?? [];
        if (!pairs.length) break;
        const at = pairs[m.a % pairs.length];
        if (at + 4 > n) break;
        if (m.b % 2) b.writeUInt16LE(interesting(m.c, n) & 0xffff, at + 2);
        else b.writeUInt16LE(m.c % 12, at); // swap the AvId (EOL early, duplicate ids)
        break;
      }
      case 'insert': {
        const at = m.a % (n + 1);
        const ins = Buffer.alloc(m.b % 64, m.c & 0xff);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = n ? m.a % n : 0;
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + (m.b % 32))]);
        break;
      }
      case 'inflate': {
        // Huge counts: thousands of copies of a 4-byte unit (e.g. tiny AV pairs).
        const at = m.a % (n + 1);
        const unit = Buffer.alloc(4);
        unit.writeUInt32LE(m.c >>> 0);
        const ins = Buffer.alloc(4 * (m.b % 20000));
        for (let o = 0; o < ins.length; o += 4) unit.copy(ins, o);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 'append':
        b = Buffer.concat([b, Buffer.alloc(1 + (m.a % 64), m.b & 0xff)]);
        break;
      case 'splice': {
        // Copy a slice of the message over another place (valid-looking bytes in the wrong spot).
        if (!n) break;
        const from = m.a % n;
        const to = m.b % n;
        const len = 1 + (m.c % 32);
        b = Buffer.from(b);
        b.copy(b, to, from, Math.min(n, from + len));
        break;
      }
      default:
        throw new Error(`unknown mutation ${m.k}`);
    }
  }
  return b;
}

// ---------------------------------------------------------------- NTLM layout

const SECBUFS = { 1: [16, 24], 2: [12, 40], 3: [12, 20, 28, 36, 44, 52] };

function avPairOffsets(msg, listStart, listEnd) {
  const out = [];
  let at = listStart;
  while (at + 4 <= listEnd) {
    out.push(at);
    const id = msg.readUInt16LE(at);
    const len = msg.readUInt16LE(at + 2);
    if (id === 0) break;
    at += 4 + len;
  }
  return out;
}

/** Field offsets of a real NTLM message, for the 'secbuf' and 'avpair' mutations. */
export function ntlmMeta(msg) {
  const type = msg.readUInt32LE(8);
  const meta = { secbufs: SECBUFS[type] ?? [], avpairs: [] };
  if (type === 2) {
    const len = msg.readUInt16LE(40);
    const off = msg.readUInt32LE(44);
    meta.avpairs = avPairOffsets(msg, off, off + len);
  } else if (type === 3) {
    const len = msg.readUInt16LE(20);
    const off = msg.readUInt32LE(24);
    // NTProofStr(16) then the NTLMv2_CLIENT_CHALLENGE header (28), then AV pairs.
    meta.avpairs = avPairOffsets(msg, off + 16 + 28, off + len);
  }
  return meta;
}

/** A NEGOTIATE with OEM domain and workstation payloads, as old clients send. */
function negotiateWithNames() {
  const dom = Buffer.from('CONTOSO', 'latin1');
  const ws = Buffer.from('WS01', 'latin1');
  const msg = Buffer.alloc(40 + dom.length + ws.length);
  msg.write('NTLMSSP\0', 0, 'latin1');
  msg.writeUInt32LE(1, 8);
  msg.writeUInt32LE((0xe20882b7 | 0x3000) >>> 0, 12);
  msg.writeUInt16LE(dom.length, 16);
  msg.writeUInt16LE(dom.length, 18);
  msg.writeUInt32LE(40, 20);
  msg.writeUInt16LE(ws.length, 24);
  msg.writeUInt16LE(ws.length, 26);
  msg.writeUInt32LE(40 + dom.length, 28);
  Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]).copy(msg, 32);
  dom.copy(msg, 40);
  ws.copy(msg, 40 + dom.length);
  return msg;
}

// ---------------------------------------------------------------- fixtures

async function acquire() {
  const client = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: PASSWORD } });
  const server = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users: [{ domain: DOMAIN, user: USER, password: PASSWORD }] });
  return { client, server };
}

/** Runs a handshake up to (not including) the server's last step. */
async function threeLegs(creds) {
  const client = new api.ClientContext(creds.client, { target: TARGET });
  const server = new api.ServerContext(creds.server);
  const negotiate = (await client.step()).token;
  const challenge = (await server.step(negotiate)).token;
  const authenticate = (await client.step(challenge)).token;
  return { client, server, negotiate, challenge, authenticate };
}

async function establishedPair(creds) {
  const h = await threeLegs(creds);
  await h.server.step(h.authenticate);
  return h;
}

function isSspi(e) {
  return e instanceof api.SspiError;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not settle within ${PER_INPUT_LIMIT_MS} ms`), { hang: true })), PER_INPUT_LIMIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Outcome counts (`what: OK` or `what: CODE detail`), to show how deep the inputs reach (--stats). */
export const outcomes = new Map();
function count(key) {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

/** Only SspiError may come out of fn; anything else is returned as the failure. */
async function expectOnlySspi(what, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), what);
    count(`${what}: OK`);
  } catch (e) {
    if (isSspi(e)) {
      count(`${what}: ${e.code} ${String(e.message).replace(/^.*?\): /, '').replace(/\d+/g, 'N')}`);
      return;
    }
    throw new Error(`${what} threw a non-SspiError: ${e?.stack ?? String(e)}`);
  }
}

/** Exercise a context that came out of a decoder successfully: every call may only fail with SspiError. */
async function exercise(ctx, extra = {}) {
  const data = Buffer.from('exercise the imported context');
  for (const f of [
    () => ctx.names,
    () => ctx.flags,
    () => ctx.sizes,
    () => ctx.sign(data),
    () => ctx.encrypt(data),
    () => extra.sealed && ctx.decrypt(extra.sealed),
    () => extra.signature && ctx.verify(extra.signedData, extra.signature),
    () => ctx.impersonate(() => 1),
  ]) {
    try {
      f();
    } catch (e) {
      if (!isSspi(e)) throw new Error(`a decoded context threw a non-SspiError: ${e?.stack ?? String(e)}`);
    }
  }
  try {
    const ex = await ctx.export({ resetNew: true });
    (await api.importContext(ex)).close();
    ex.dispose();
  } catch (e) {
    if (!isSspi(e)) throw new Error(`re-export of a decoded context threw a non-SspiError: ${e?.stack ?? String(e)}`);
  }
  ctx.close();
}

// ---------------------------------------------------------------- packed-context fix-ups

const PACKED_CHECKSUM = 16;

/** Make a mutated packed context pass the outer checks (length field, checksum) so deeper validation runs. */
function fixPacked(b, fixLength, fixChecksum) {
  b = Buffer.from(b);
  if (fixLength && b.length >= 16) b.writeUInt32LE(b.length, 12);
  if (fixChecksum && b.length > PACKED_CHECKSUM) {
    const end = b.length - PACKED_CHECKSUM;
    createHash('sha256').update(b.subarray(0, end)).digest().copy(b, end, 0, PACKED_CHECKSUM);
  }
  return b;
}

// ---------------------------------------------------------------- targets

/**
 * Each target: { name, setup() -> state, arb(state), run(state, input) }.
 * `describe(state, input)` (optional) adds the concrete bytes to a report.
 */
export const TARGETS = {
  /** NEGOTIATE_MESSAGE -> AcceptSecurityContext (first leg). */
  negotiate: {
    async setup() {
      const creds = await acquire();
      const h = await threeLegs(creds);
      h.client.close();
      h.server.close();
      const bases = [h.negotiate, negotiateWithNames()];
      return { creds, bases, metas: bases.map(ntlmMeta) };
    },
    arb: (st) => ntlmInputArb(st.bases.length, 1),
    async run(st, input) {
      const bytes = bytesOf(st, input);
      const server = new api.ServerContext(st.creds.server);
      await expectOnlySspi('ServerContext.step(NEGOTIATE)', () => server.step(bytes));
      server.close();
    },
  },

  /** CHALLENGE_MESSAGE -> InitializeSecurityContext (second leg). */
  challenge: {
    async setup() {
      const creds = await acquire();
      const h = await threeLegs(creds);
      h.client.close();
      h.server.close();
      return { creds, bases: [h.challenge], metas: [ntlmMeta(h.challenge)] };
    },
    arb: (st) => ntlmInputArb(st.bases.length, 2),
    async run(st, input) {
      const bytes = bytesOf(st, input);
      const client = new api.ClientContext(st.creds.client, { target: TARGET });
      await client.step();
      await expectOnlySspi('ClientContext.step(CHALLENGE)', () => client.step(bytes));
      if (client.isEstablished) await exercise(client);
      client.close();
    },
  },

  /**
   * AUTHENTICATE_MESSAGE -> AcceptSecurityContext (last leg). Each input runs
   * a fresh handshake, so the server context waiting for it is real and the
   * unmutated message would verify (MIC, NTProofStr, timestamp).
   */
  authenticate: {
    async setup() {
      const creds = await acquire();
      const h = await threeLegs(creds);
      h.client.close();
      h.server.close();
      return { creds, bases: [h.authenticate], metas: [ntlmMeta(h.authenticate)] };
    },
    arb: (st) => ntlmInputArb(1, 3),
    async run(st, input) {
      const h = await threeLegs(st.creds);
      const bytes = input.raw ? Buffer.from(input.raw) : mutate(h.authenticate, input.muts, st.metas[0]);
      await expectOnlySspi('ServerContext.step(AUTHENTICATE)', () => h.server.step(bytes));
      if (h.server.isEstablished) await exercise(h.server, { sealed: h.client.encrypt(Buffer.from('x')) });
      h.client.close();
      h.server.close();
    },
  },

  /** The handoff envelope without a seal: decodeHandoff, readHandoffHeader and importContext(bytes). */
  envelopeClear: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const ex = await h.server.export();
      const base = api.encodeHandoff(ex, { ttlMs: 3_600_000 });
      h.client.close();
      h.server.close();
      return { creds, bases: [base], metas: [envelopeMeta(base)] };
    },
    arb: (st) => genericInputArb(st.bases.length),
    async run(st, input) {
      const bytes = bytesOf(st, input);
      await expectOnlySspi('readHandoffHeader', () => api.readHandoffHeader(bytes));
      await expectOnlySspi('decodeHandoff', () => api.decodeHandoff(bytes));
      await expectOnlySspi('decodeHandoff(headerOnly)', () => api.decodeHandoff(bytes, { headerOnly: true }));
      await expectOnlySspi('importContext(envelope)', async () => {
        const ctx = await api.importContext(bytes);
        await exercise(ctx);
      });
    },
  },

  /** The sealed (AES-256-GCM) envelope, with the right key and with a wrong one. */
  envelopeSealed: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const key = randomBytes(32);
      const ex = await h.server.export();
      const base = api.encodeHandoff(ex, { key, ttlMs: 3_600_000 });
      h.client.close();
      h.server.close();
      return { creds, key, wrongKey: randomBytes(32), bases: [base], metas: [envelopeMeta(base)] };
    },
    arb: (st) => fc.record({ input: genericInputArb(st.bases.length), wrongKey: fc.boolean() }),
    async run(st, { input, wrongKey }) {
      const bytes = bytesOf(st, input);
      const key = wrongKey ? st.wrongKey : st.key;
      await expectOnlySspi('decodeHandoff(sealed)', () => api.decodeHandoff(bytes, { key }));
      await expectOnlySspi('decodeHandoff(sealed, no key)', () => api.decodeHandoff(bytes));
      await expectOnlySspi('importContext(sealed envelope)', async () => {
        const ctx = await api.importContext(bytes, { key });
        await exercise(ctx);
      });
    },
  },

  /**
   * The packed context (SpImportSecurityContext's input). Half the inputs get
   * their length field and checksum repaired after mutation, so the decoder's
   * deeper checks (names, RC4 permutations, flags, lifespan) are reached.
   */
  packed: {
    async setup() {
      const creds = await acquire();
      const a = await establishedPair(creds);
      const b = await establishedPair(creds);
      // A few sequence numbers in, and both roles.
      for (let i = 0; i < 3; i++) b.server.decrypt(b.client.encrypt(Buffer.from('warm')));
      const bases = [];
      for (const ctx of [a.server, a.client, b.server, b.client]) bases.push(Buffer.from((await ctx.export()).packed));
      bases.push(Buffer.from((await a.server.export({ resetNew: true })).packed));
      // Something a real client of the imported server would send at SeqNum 0.
      const client = await api.importContext(await a.client.export({ resetNew: true }));
      const sealed = client.encrypt(Buffer.from('hello'));
      for (const h of [a, b]) (h.client.close(), h.server.close());
      client.close();
      return { creds, bases, metas: bases.map(() => ({ secbufs: [] })), sealed };
    },
    arb: (st) =>
      fc.record({
        input: genericInputArb(st.bases.length),
        fixLength: fc.boolean(),
        fixChecksum: fc.boolean(),
        pkg: fc.constantFrom('NTLM', 'Negotiate', 'Kerberos'),
      }),
    async run(st, { input, fixLength, fixChecksum, pkg }) {
      const bytes = fixPacked(bytesOf(st, input), fixLength, fixChecksum);
      await expectOnlySspi('importContext(packed)', async () => {
        const ctx = await api.importContext(new api.ExportedContext(pkg, bytes));
        await exercise(ctx, { sealed: st.sealed });
      });
    },
  },

  /** Sealed messages -> decrypt, on both sides, against a fresh copy of the receiving context. */
  decrypt: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const packed = { server: await h.server.export(), client: await h.client.export() };
      const bases = [];
      const receivers = [];
      for (const [from, to] of [['client', 'server'], ['server', 'client']]) {
        for (const len of [0, 1, 15, 16, 17, 300, 4096]) {
          const sender = await api.importContext(await (from === 'client' ? h.client : h.server).export());
          bases.push(sender.encrypt(randomBytes(len)));
          receivers.push(to);
          sender.close();
        }
      }
      h.client.close();
      h.server.close();
      return { creds, packed, bases, receivers, metas: bases.map(() => ({ secbufs: [] })) };
    },
    arb: (st) => genericInputArb(st.bases.length),
    async run(st, input) {
      const bytes = bytesOf(st, input);
      const who = input.raw ? (input.raw.length % 2 ? 'client' : 'server') : st.receivers[input.base];
      const ctx = await api.importContext(copyOf(st.packed[who]));
      await expectOnlySspi('decrypt', () => ctx.decrypt(bytes));
      // The context must stay usable (or fail typed) after a rejected message.
      await expectOnlySspi('decrypt after', () => ctx.decrypt(st.bases[0]));
      ctx.close();
    },
  },

  /** Signatures and signed data -> verify, both mutated independently. */
  verify: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const packed = { server: await h.server.export(), client: await h.client.export() };
      const cases = [];
      for (const [from, to] of [['client', 'server'], ['server', 'client']]) {
        for (const len of [0, 1, 64, 1000]) {
          const sender = await api.importContext(await (from === 'client' ? h.client : h.server).export());
          const data = randomBytes(len);
          cases.push({ data, sig: sender.sign(data), to });
          sender.close();
        }
      }
      h.client.close();
      h.server.close();
      return { creds, packed, cases };
    },
    arb: (st) =>
      fc.record({
        base: fc.nat(st.cases.length - 1),
        sigMuts: fc.array(mutationArb, { maxLength: 4 }),
        dataMuts: fc.array(mutationArb, { maxLength: 3 }),
      }),
    async run(st, input) {
      const c = st.cases[input.base];
      const sig = mutate(c.sig, input.sigMuts);
      const data = mutate(c.data, input.dataMuts);
      const ctx = await api.importContext(copyOf(st.packed[c.to]));
      await expectOnlySspi('verify', () => ctx.verify(data, sig));
      await expectOnlySspi('verify after', () => ctx.verify(c.data, c.sig));
      ctx.close();
    },
  },
};

// An import spends its ExportedContext; each run imports a fresh copy of the same export.
function copyOf(exported) {
  return new api.ExportedContext(exported.packageName, Buffer.from(exported.packed), { credentialPackage: exported.credentialPackage, bufferType: exported.bufferType });
}

function envelopeMeta(base) {
  // Header fields with lengths/counts: name length at 60, credential-package length after
  // the name, packed length after the buffer type (and the nonce when sealed).
  const nameLen = base[60];
  const credAt = 61 + nameLen;
  const sealed = base[5] & 1;
  return { secbufs: [], lengths: [60, credAt, credAt + 1 + base[credAt] + 4 + (sealed ? 12 : 0)] };
}

/** An NTLM input: a mutated real message, a random message with an NTLMSSP header, or random bytes. */
function ntlmInputArb(baseCount, type) {
  const header = Buffer.alloc(12);
  header.write('NTLMSSP\0', 0, 'latin1');
  header.writeUInt32LE(type, 8);
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ base: fc.nat(baseCount - 1), muts: mutationsArb }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((r) => ({ raw: Array.from(Buffer.concat([header, Buffer.from(r)])) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((r) => ({ raw: Array.from(r) })) },
  );
}

function genericInputArb(baseCount) {
  return fc.oneof(
    { weight: 9, arbitrary: fc.record({ base: fc.nat(baseCount - 1), muts: mutationsArb }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }).map((r) => ({ raw: Array.from(r) })) },
  );
}

function bytesOf(st, input) {
  if (input.raw) return Buffer.from(input.raw);
  return mutate(st.bases[input.base], input.muts, st.metas?.[input.base]);
}

// ---------------------------------------------------------------- SPNEGO (issue 12)

async function acquireNegotiate() {
  const client = await api.Credentials.acquire({ package: 'Negotiate', use: 'outbound', identity: { user: USER, domain: DOMAIN, password: PASSWORD } });
  const server = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: [{ domain: DOMAIN, user: USER, password: PASSWORD }] });
  return { client, server };
}

/** A live SPNEGO exchange stopped before leg `upTo` (0 init, 1 first resp, 2 AUTHENTICATE + MIC, 3 final resp). */
async function spnegoLegs(creds, upTo) {
  const client = new api.ClientContext(creds.client, { target: TARGET });
  const server = new api.ServerContext(creds.server);
  const tokens = [(await client.step()).token];
  if (upTo > 0) tokens.push((await server.step(tokens[0])).token);
  if (upTo > 1) tokens.push((await client.step(tokens[1])).token);
  if (upTo > 2) tokens.push((await server.step(tokens[2])).token);
  return { client, server, tokens };
}

/**
 * Negotiate tokens (RFC 4178 DER): the NegTokenInit and the client's
 * NegTokenResp into AcceptSecurityContext, the acceptor's two NegTokenResp
 * into InitializeSecurityContext. Each input runs a fresh exchange up to the
 * leg it replaces, so the unmutated token would succeed.
 */
TARGETS.spnego = {
  async setup() {
    const creds = await acquireNegotiate();
    const h = await spnegoLegs(creds, 3);
    h.client.close();
    h.server.close();
    return { creds, bases: h.tokens, metas: h.tokens.map(() => ({})) };
  },
  arb: (st) => genericInputArb(st.bases.length),
  async run(st, input) {
    const leg = input.raw ? input.raw.length % 4 : input.base;
    const h = await spnegoLegs(st.creds, leg);
    const real = leg === 0 ? st.bases[0] : h.tokens[leg];
    const bytes = input.raw ? Buffer.from(input.raw) : mutate(real, input.muts, {});
    const side = leg % 2 === 0 ? h.server : h.client;
    const fresh = leg === 0 ? new api.ServerContext(st.creds.server) : side;
    await expectOnlySspi(`Negotiate leg ${leg}`, () => fresh.step(bytes));
    if (fresh.isEstablished) await exercise(fresh);
    for (const c of [h.client, h.server, fresh]) c.close();
  },
};

/** The decoders `npm run fuzz` covers. */
export const TARGET_NAMES = Object.keys(TARGETS);

/**
 * Planted faults, to show the harness itself catches each failure kind
 * (used by test/fuzz/fuzz.test.ts; never part of a normal run).
 */
export const SELFTEST_TARGETS = {
  /** A TypeError on inputs whose first mutation writes a byte >= 0x80: must be found and shrunk. */
  selftestThrow: {
    setup: async () => ({}),
    arb: () => fc.record({ base: fc.constant(0), muts: mutationsArb }),
    async run(_st, input) {
      if (input.muts.some((m) => m.k === 'byte' && (m.b & 0xff) >= 0x80)) throw new TypeError('planted non-SspiError');
    },
  },
  /** A synchronous infinite loop: the watchdog must kill the worker and report the input. */
  selftestHang: {
    setup: async () => ({}),
    arb: () => fc.record({ base: fc.constant(0), muts: mutationsArb }),
    async run(_st, input) {
      if (input.muts.length >= 3) for (;;);
    },
  },
  /** A slow input that finishes: over the 1 s limit, so a failure. */
  selftestSlow: {
    setup: async () => ({}),
    arb: () => fc.record({ base: fc.constant(0), muts: mutationsArb }),
    async run(_st, input) {
      if (input.muts.length >= 4) await new Promise((r) => setTimeout(r, 1100));
    },
  },
};
Object.assign(TARGETS, SELFTEST_TARGETS);
