// The fuzz targets: every decoder reachable from the public API, each fed
// mutations of real bytes from a real handshake. Used by test/fuzz/worker.mjs
// (one worker thread per target, so a synchronous hang can be detected).
//
// The rules under test:
// - Only SspiError may come out. Any other throw, a rejection that is not an
//   SspiError, or an input that takes over 1 s is a failure.
// - "Accepted but different" is a failure too: an accepted mutated input must
//   decode to what the original did, or be refused. Each target's run() checks
//   that with an oracle (see `oracle` below): where the bytes are
//   authenticated (AUTHENTICATE's MIC, the sealed envelope, message
//   signatures) the result must equal the original's; where a later leg
//   authenticates them (NEGOTIATE, CHALLENGE) the handshake must finish with the
//   original's identity and keys, or be refused; where nothing does (the clear
//   envelope, the packed context: documented as trusted input) the decode must
//   be faithful, i.e. re-encoding it gives back the same context or bytes.
//
// Adding a target: { setup, arb, run, shallow } in TARGETS. run() reports with
// `attempt()` and `reached()`, and throws `oracle(...)` errors.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
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

/** NEGOTIATE and the server's CHALLENGE: a server context waiting for its AUTHENTICATE. */
async function twoLegs(creds) {
  const client = new api.ClientContext(creds.client, { target: TARGET });
  const server = new api.ServerContext(creds.server);
  const negotiate = (await client.step()).token;
  const challenge = (await server.step(negotiate)).token;
  return { client, server, negotiate, challenge };
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

/**
 * Inputs of this worker's target, and how many reached the decoder's deep
 * checks: accepted, or refused by a check after its framing (magic, type,
 * lengths, checksum), as the target's `shallow` pattern tells.
 */
export const depth = { inputs: 0, deep: 0, accepted: 0 };

/** Record how far one input got: `r` from attempt(), `shallow` the target's pattern for framing refusals. */
function reached(r, shallow) {
  depth.inputs++;
  if (r.ok) depth.accepted++;
  if (r.ok || !shallow.test(`${r.error.code} ${r.error.message}`)) depth.deep++;
}

/**
 * Run fn: { ok: true, value } or { ok: false, error } for an SspiError;
 * anything else (or a hang) throws, which fails the input.
 */
async function attempt(what, fn) {
  try {
    const value = await withTimeout(Promise.resolve().then(fn), what);
    count(`${what}: OK`);
    return { ok: true, value };
  } catch (e) {
    if (isSspi(e)) {
      count(`${what}: ${e.code} ${String(e.message).replace(/^.*?\): /, '').replace(/\d+/g, 'N')}`);
      return { ok: false, error: e };
    }
    throw new Error(`${what} threw a non-SspiError: ${e?.stack ?? String(e)}`);
  }
}

/** Only SspiError may come out of fn. */
async function expectOnlySspi(what, fn) {
  await attempt(what, fn);
}

/** The "accepted but different" failure. */
function oracle(what, detail) {
  return new Error(`accepted but different: ${what}: ${detail}`);
}

/** What a context does, compared across decodes: its names, and that it reads what its peer sealed. */
function behaviour(ctx, sealed) {
  const n = ctx.names;
  let reads;
  try {
    reads = sealed ? ctx.decrypt(sealed).toString('hex') : undefined;
  } catch (e) {
    if (!isSspi(e)) throw e;
    reads = `refused ${e.code}`;
  }
  return JSON.stringify({ clientName: n.clientName, serverName: n.serverName, reads });
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

const PACKED_CHECKSUM = 4;

/**
 * Make a mutated packed context pass the outer checks (length field, CRC-32
 * trailer, as docs/ntlm-packed-context.md defines it) so deeper validation runs.
 */
function fixPacked(b, fixLength, fixChecksum) {
  b = Buffer.from(b);
  if (fixLength && b.length >= 16) b.writeUInt32LE(b.length, 12);
  if (fixChecksum && b.length > PACKED_CHECKSUM) {
    const end = b.length - PACKED_CHECKSUM;
    b.writeUInt32LE(crc32(b.subarray(0, end)) >>> 0, end);
  }
  return b;
}

// ---------------------------------------------------------------- framing refusals per decoder

/** Refusals before any deep check: size, signature, message type (lib/fallback/messages.ts). */
const NTLM_SHALLOW = /larger than any NTLM token|is truncated$|not an NTLMSSP message|expected an NTLM/;
/** Envelope framing: size, magic, version, total length (lib/handoff/codec.ts). */
const ENVELOPE_SHALLOW = /envelope is truncated|bad magic|unsupported envelope version|trailing bytes|must be a Buffer/;
/** Packed-context framing up to and including the checksum (lib/fallback/packed-context.ts), or no such package. */
const PACKED_SHALLOW = /SEC_E_SECPKG_NOT_FOUND|already imported or disposed|packed context is truncated|too large|not a packed NTLM context|unsupported packed context version|length does not match|checksum does not match|not a Buffer/;
/** SPNEGO framing: DER tags and lengths, the token's outer layout (lib/fallback/spnego*.ts). */
const SPNEGO_SHALLOW = /followed by trailing bytes|runs past the end of the token|neither SPNEGO nor NTLMSSP|larger than any Negotiate token|is not SPNEGO|SPNEGO length is too large|needs the client token|larger than any NTLM token|is truncated$|not an NTLMSSP message|expected an NTLM/;
/** Message protection before the checksum: signature layout, version, SeqNum (lib/fallback/session-security.ts). */
const PROTECTION_SHALLOW = /not 16 bytes|shorter than its signature|signature version is not 1|sequence number is not the expected one/;

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
    shallow: NTLM_SHALLOW,
    async run(st, input) {
      const bytes = bytesOf(st, input);
      // A real client goes on with whatever CHALLENGE the server answered; the
      // server's MIC check covers the NEGOTIATE it saw, so the handshake must
      // end with the original identity and keys, or be refused.
      const client = new api.ClientContext(st.creds.client, { target: TARGET });
      const server = new api.ServerContext(st.creds.server);
      try {
        await client.step();
        const r = await attempt('ServerContext.step(NEGOTIATE)', () => server.step(bytes));
        reached(r, this.shallow);
        if (!r.ok) return;
        const rest = await attempt('handshake after a mutated NEGOTIATE', async () => {
          const auth = await client.step(r.value.token);
          await server.step(auth.token);
        });
        if (rest.ok) await sameIdentity('NEGOTIATE', client, server);
      } finally {
        client.close();
        server.close();
      }
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
    shallow: NTLM_SHALLOW,
    async run(st, input) {
      // A fresh handshake per input: the server that issued this CHALLENGE
      // judges the AUTHENTICATE the client built from the mutated one.
      const h = await twoLegs(st.creds);
      const client = new api.ClientContext(st.creds.client, { target: TARGET });
      try {
        const bytes = input.raw ? Buffer.from(input.raw) : mutate(h.challenge, input.muts, st.metas[0]);
        await client.step();
        const r = await attempt('ClientContext.step(CHALLENGE)', () => client.step(bytes));
        reached(r, this.shallow);
        if (!r.ok) return;
        // NTLM's client is done once it has built the AUTHENTICATE; there must be one.
        if (!r.value.token) throw oracle('CHALLENGE', 'the client accepted the CHALLENGE but sent no AUTHENTICATE');
        const last = await attempt('server after a mutated CHALLENGE', () => h.server.step(r.value.token));
        if (last.ok) await sameIdentity('CHALLENGE', client, h.server);
      } finally {
        client.close();
        h.client.close();
        h.server.close();
      }
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
    shallow: NTLM_SHALLOW,
    async run(st, input) {
      const h = await threeLegs(st.creds);
      try {
        const bytes = input.raw ? Buffer.from(input.raw) : mutate(h.authenticate, input.muts, st.metas[0]);
        const r = await attempt('ServerContext.step(AUTHENTICATE)', () => h.server.step(bytes));
        reached(r, this.shallow);
        // The MIC and NTProofStr cover every byte: accepted means the original's identity and keys.
        if (r.ok && h.server.isEstablished) await sameIdentity('AUTHENTICATE', h.client, h.server);
        if (h.server.isEstablished) await exercise(h.server, { sealed: h.client.encrypt(Buffer.from('x')) });
      } finally {
        h.client.close();
        h.server.close();
      }
    },
  },

  /** The handoff envelope without a seal: decodeHandoff, readHandoffHeader and importContext(bytes). */
  envelopeClear: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const ex = await h.server.export();
      const base = api.encodeHandoff(ex, { ttlMs: 3_600_000 });
      // What the original imports to: its names, and the peer's first message read back.
      const sealed = h.client.encrypt(Buffer.from('what the peer sent'));
      const original = await api.importContext(Buffer.from(base));
      const expected = behaviour(original, sealed);
      original.close();
      h.client.close();
      h.server.close();
      return { creds, bases: [base], metas: [envelopeMeta(base)], sealed, expected, imports: 0 };
    },
    arb: (st) => genericInputArb(st.bases.length),
    shallow: ENVELOPE_SHALLOW,
    async run(st, input) {
      const bytes = bytesOf(st, input);
      // The base's id was imported in setup: give an unmutated id a fresh value
      // (not covered by anything in a clear envelope), so the input gets past
      // the single-use cache to the import itself.
      if (bytes.length >= 24 && bytes.subarray(8, 24).equals(st.bases[0].subarray(8, 24))) bytes.writeBigUInt64LE(BigInt(++st.imports), 8);
      await expectOnlySspi('readHandoffHeader', () => api.readHandoffHeader(bytes));
      const d = await attempt('decodeHandoff', () => api.decodeHandoff(bytes));
      await expectOnlySspi('decodeHandoff(headerOnly)', () => api.decodeHandoff(bytes, { headerOnly: true }));
      if (d.ok) faithfulEnvelope(d.value, bytes);
      const r = await attempt('importContext(envelope)', () => api.importContext(bytes));
      reached(r, this.shallow);
      if (!r.ok) return;
      // A clear envelope is trusted input (docs/handoff-format.md): header
      // fields may change, but the context behind it must be the packed one.
      const got = behaviour(r.value, st.sealed);
      if (d.ok && Buffer.compare(d.value.packed, st.basePacked ?? (st.basePacked = api.decodeHandoff(st.bases[0]).packed)) === 0 && got !== st.expected) {
        r.value.close();
        throw oracle('clear envelope', `imported ${got}, the original ${st.expected}`);
      }
      await exercise(r.value);
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
      const decoded = api.decodeHandoff(base, { key });
      const expected = JSON.stringify({ header: decoded.toJSON().header, packed: decoded.packed.toString('hex') });
      return { creds, key, wrongKey: randomBytes(32), bases: [base], metas: [envelopeMeta(base)], expected };
    },
    arb: (st) => fc.record({ input: genericInputArb(st.bases.length), wrongKey: fc.boolean() }),
    shallow: ENVELOPE_SHALLOW,
    async run(st, { input, wrongKey }) {
      const bytes = bytesOf(st, input);
      const key = wrongKey ? st.wrongKey : st.key;
      const d = await attempt('decodeHandoff(sealed)', () => api.decodeHandoff(bytes, { key }));
      reached(d, this.shallow);
      if (d.ok) {
        // AES-GCM covers every byte: accepted means the very same header and packed bytes.
        if (wrongKey) throw oracle('sealed envelope', 'decoded with the wrong key');
        const got = JSON.stringify({ header: d.value.toJSON().header, packed: d.value.packed.toString('hex') });
        if (got !== st.expected) throw oracle('sealed envelope', `decoded ${got}, the original ${st.expected}`);
      }
      const n = await attempt('decodeHandoff(sealed, no key)', () => api.decodeHandoff(bytes));
      if (n.ok && n.value.header.sealed) throw oracle('sealed envelope', 'a sealed envelope decoded without its key');
      const r = await attempt('importContext(sealed envelope)', () => api.importContext(bytes, { key }));
      if (r.ok) {
        if (!d.ok) throw oracle('sealed envelope', 'importContext accepted what decodeHandoff refused');
        await exercise(r.value);
      }
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
        // Mostly repaired, so most inputs reach the checks behind the CRC.
        fixLength: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        fixChecksum: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        pkg: fc.oneof({ weight: 6, arbitrary: fc.constant('NTLM') }, { weight: 2, arbitrary: fc.constant('Negotiate') }, { weight: 1, arbitrary: fc.constant('Kerberos') }),
      }),
    shallow: PACKED_SHALLOW,
    async run(st, { input, fixLength, fixChecksum, pkg }) {
      const bytes = fixPacked(bytesOf(st, input), fixLength, fixChecksum);
      const r = await attempt('importContext(packed)', () => api.importContext(new api.ExportedContext(pkg, Buffer.from(bytes))));
      reached(r, this.shallow);
      if (!r.ok) return;
      // The packed format is trusted input with a CRC, no MAC: a mutation that
      // keeps it well-formed is a different context, and must decode to exactly
      // what its bytes say. Re-exporting (no RESET_NEW) gives every byte back.
      const again = await attempt('export of an imported packed context', () => r.value.export());
      if (!again.ok) {
        r.value.close();
        throw oracle('packed context', `imported, but does not export again (${again.error.code} ${again.error.message})`);
      }
      const out = again.value.packed;
      if (!out.equals(bytes)) {
        r.value.close();
        const at = out.findIndex((v, i) => v !== bytes[i]);
        throw oracle('packed context', `re-export differs from the input at byte ${at} (input ${bytes.length} bytes, re-export ${out.length})`);
      }
      again.value.dispose();
      await exercise(r.value, { sealed: st.sealed });
    },
  },

  /** Sealed messages -> decrypt, on both sides, against a fresh copy of the receiving context. */
  decrypt: {
    async setup() {
      const creds = await acquire();
      const h = await establishedPair(creds);
      const packed = { server: await h.server.export(), client: await h.client.export() };
      const bases = [];
      const plains = [];
      const receivers = [];
      for (const [from, to] of [['client', 'server'], ['server', 'client']]) {
        for (const len of [0, 1, 15, 16, 17, 300, 4096]) {
          const sender = await api.importContext(await (from === 'client' ? h.client : h.server).export());
          const plain = randomBytes(len);
          bases.push(sender.encrypt(plain));
          plains.push(plain);
          receivers.push(to);
          sender.close();
        }
      }
      h.client.close();
      h.server.close();
      return { creds, packed, bases, plains, receivers, metas: bases.map(() => ({ secbufs: [] })) };
    },
    arb: (st) => genericInputArb(st.bases.length),
    shallow: PROTECTION_SHALLOW,
    async run(st, input) {
      const bytes = bytesOf(st, input);
      const who = input.raw ? (input.raw.length % 2 ? 'client' : 'server') : st.receivers[input.base];
      const ctx = await api.importContext(copyOf(st.packed[who]));
      try {
        const r = await attempt('decrypt', () => ctx.decrypt(bytes));
        reached(r, this.shallow);
        // The signature authenticates the message: accepted means the original plaintext.
        if (r.ok && (input.raw || !r.value.equals(st.plains[input.base]))) throw oracle('decrypt', 'a mutated message decrypted to another plaintext');
        // The context must stay usable (or fail typed) after a rejected message.
        await expectOnlySspi('decrypt after', () => ctx.decrypt(st.bases[0]));
      } finally {
        ctx.close();
      }
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
    shallow: PROTECTION_SHALLOW,
    async run(st, input) {
      const c = st.cases[input.base];
      const sig = mutate(c.sig, input.sigMuts);
      const data = mutate(c.data, input.dataMuts);
      const ctx = await api.importContext(copyOf(st.packed[c.to]));
      try {
        const r = await attempt('verify', () => ctx.verify(data, sig));
        reached(r, this.shallow);
        if (r.ok && !data.equals(c.data)) throw oracle('verify', 'a signature verified over data it was not made for');
        await expectOnlySspi('verify after', () => ctx.verify(c.data, c.sig));
      } finally {
        ctx.close();
      }
    },
  },
};

/** After a handshake that took a mutated leg: the server must know the original client, with the original keys. */
async function sameIdentity(leg, client, server) {
  const name = server.names.clientName;
  if (name.toUpperCase() !== `${DOMAIN}\\${USER}`.toUpperCase()) throw oracle(leg, `the server authenticated ${JSON.stringify(name)}`);
  const probe = Buffer.from('same keys on both sides');
  const r = await attempt(`message after a mutated ${leg}`, () => server.decrypt(client.encrypt(probe)));
  // Both sides accepted the handshake: they must share keys (a refused probe means they do not).
  if (!r.ok || !r.value.equals(probe)) throw oracle(leg, 'client and server finished with different keys');
}

/** A decoded clear envelope must say what its bytes say: re-encoding its header fields gives the same header bytes. */
function faithfulEnvelope(decoded, bytes) {
  const h = decoded.header;
  const fields = [
    [bytes.subarray(8, 24).toString('hex'), h.id, 'id'],
    [Number(bytes.readBigUInt64LE(24)), h.createdAt, 'createdAt'],
    [Number(bytes.readBigUInt64LE(32)), h.expiresAt, 'expiresAt'],
    [bytes.readUInt32LE(40), h.sourcePid, 'sourcePid'],
    [bytes.readUInt32LE(44), h.targetPid, 'targetPid'],
    [bytes.length, h.length, 'length'],
    [bytes.toString('utf8', 61, 61 + bytes[60]), h.packageName, 'packageName'],
    [bytes.toString('utf8', 62 + bytes[60], 62 + bytes[60] + bytes[61 + bytes[60]]), h.credentialPackage, 'credentialPackage'],
    [bytes.readUInt32LE(62 + bytes[60] + bytes[61 + bytes[60]]), h.bufferType, 'bufferType'],
    [bytes.subarray(bytes.length - h.packedLength).toString('hex'), decoded.packed.toString('hex'), 'packed'],
  ];
  for (const [want, got, what] of fields) if (want !== got) throw oracle('clear envelope', `${what} decoded as ${got}, the bytes say ${want}`);
}

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
  shallow: SPNEGO_SHALLOW,
  async run(st, input) {
    const leg = input.raw ? input.raw.length % 4 : input.base;
    const h = await spnegoLegs(st.creds, leg);
    const real = leg === 0 ? st.bases[0] : h.tokens[leg];
    const bytes = input.raw ? Buffer.from(input.raw) : mutate(real, input.muts, {});
    const side = leg % 2 === 0 ? h.server : h.client;
    const fresh = leg === 0 ? new api.ServerContext(st.creds.server) : side;
    const server = leg % 2 === 0 ? fresh : h.server;
    try {
      const r = await attempt(`Negotiate leg ${leg}`, () => fresh.step(bytes));
      reached(r, this.shallow);
      if (!r.ok) return;
      // Play the exchange to its end: the NTLM MIC and the mechListMIC cover
      // every leg, so it must finish with the original identity and keys, or be refused.
      let token = r.value.token;
      let next = leg % 2 === 0 ? h.client : server;
      for (let i = 0; token && !(h.client.isEstablished && server.isEstablished) && i < 4; i++) {
        const step = await attempt(`Negotiate after a mutated leg ${leg}`, () => next.step(token));
        if (!step.ok) return;
        token = step.value.token;
        next = next === h.client ? server : h.client;
      }
      if (h.client.isEstablished && server.isEstablished) await sameIdentity(`Negotiate leg ${leg}`, h.client, server);
      if (fresh.isEstablished) await exercise(fresh);
    } finally {
      for (const c of [h.client, h.server, fresh]) c.close();
    }
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
  /**
   * A decoder that accepts more than it reads (it ignores what follows the
   * name, as a cut would): the faithful-decode oracle must flag it.
   */
  selftestDifferent: {
    setup: async () => ({ base: Buffer.from('\x0dCONTOSO\\alice', 'latin1') }),
    arb: () => fc.record({ base: fc.constant(0), muts: mutationsArb }),
    shallow: /short/,
    async run(st, input) {
      const bytes = mutate(st.base, input.muts);
      const r = await attempt('planted name decoder', () => {
        if (bytes.length < 1 || bytes.length < 1 + bytes[0]) throw new api.SspiError('SEC_E_INVALID_TOKEN', 'Selftest', 'short');
        return bytes.toString('latin1', 1, 1 + bytes[0]);
      });
      reached(r, this.shallow);
      if (!r.ok) return;
      const again = Buffer.concat([Buffer.from([r.value.length]), Buffer.from(r.value, 'latin1')]);
      if (!again.equals(bytes)) throw oracle('planted name decoder', `decoded ${JSON.stringify(r.value)}, which encodes to other bytes`);
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
