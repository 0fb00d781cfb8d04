// examples/http-negotiate over HTTPS with Extended Protection: the example as
// a child process (--cert/--key, --channel-bindings none|allow|require), real
// clients (the library's ClientContext over one TLS connection, and curl
// --negotiate through GSSAPI and gss-ntlmssp), and a TLS-terminating relay
// with another certificate in front: its victims bind to the relay's
// certificate, so `allow` and `require` refuse what it forwards.
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as connectPlain, type Socket } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake.js';
import { b64, peerAvailable, startPeer, unb64, type Peer } from '../interop/peer';
import { decodeNegotiationToken, encodeMechTypes, encodeNegTokenResp, NegState, OID_NTLMSSP } from '../../lib/fallback/spnego-der.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'examples/http-negotiate/server.js');
const identity = { domain: 'CONTOSO', user: 'alice', password: 'Https-Passw0rd!' };
const CLIENT_NAME = 'CONTOSO\\alice';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const haveCurl = spawnSync('curl', ['--version']).status === 0;
const gssNtlmssp = spawnSync('sh', ['-c', 'grep -ls 1.3.6.1.4.1.311.2.2.10 /etc/gss/mech.d/*']).status === 0;
const canRun = process.platform !== 'win32' && haveOpenssl;

type Policy = 'none' | 'allow' | 'require';

interface Response {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

/** Minimal HTTP/1.1 over one TLS socket: every leg of an NTLM handshake must share the connection. */
class Connection {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private closed = false;

  private constructor(readonly socket: TLSSocket | Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static open(port: number, tls = true): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = tls ? connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new Connection(s))) : connectPlain(port, '127.0.0.1', () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }

  private async more(): Promise<void> {
    if (this.closed) throw new Error('the connection closed');
    await new Promise<void>((r) => (this.waiting = r));
    this.waiting = undefined;
  }

  async get(authorization?: string): Promise<Response> {
    this.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`);
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) await this.more();
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers = new Map<string, string[]>();
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim().toLowerCase();
      headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
    }
    const len = Number(headers.get('content-length')?.[0] ?? 0);
    while (this.buf.length < end + 4 + len) await this.more();
    const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
    this.buf = this.buf.subarray(end + 4 + len);
    return { status, headers, body };
  }

  close(): void {
    this.socket.destroy();
  }
}

function negotiateToken(r: Response): Buffer | undefined {
  const h = (r.headers.get('www-authenticate') ?? []).find((v) => v.startsWith('Negotiate '));
  return h ? Buffer.from(h.slice(10), 'base64') : undefined;
}

/** The library's Negotiate client: bindings from this TLS socket ('right'), other ones ('wrong') or none. */
async function tsClient(port: number, bindings: 'right' | 'wrong' | 'none', tls = true): Promise<{ status: number; body: string }> {
  const conn = await Connection.open(port, tls);
  const cred = await api.Credentials.acquire({ package: 'Negotiate', use: 'outbound', identity });
  const cb = bindings === 'right' ? api.tlsChannelBindings(conn.socket as TLSSocket) : bindings === 'wrong' ? Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 1)]) : undefined;
  const ctx = new api.ClientContext(cred, { target: 'HTTP/127.0.0.1', ...(cb ? { channelBindings: cb } : {}) });
  try {
    const first = await conn.get();
    expect(first.status).toBe(401);
    let step = await ctx.step();
    for (;;) {
      const r = await conn.get(`Negotiate ${step.token!.toString('base64')}`);
      const tok = negotiateToken(r);
      if (r.status !== 401 || !tok) {
        if (r.status === 200 && tok) expect((await ctx.step(tok)).done).toBe(true); // the acceptor's mechListMIC
        return { status: r.status, body: r.body };
      }
      step = await ctx.step(tok);
    }
  } finally {
    ctx.close();
    cred.close();
    conn.close();
  }
}

/** gss-ntlmssp's SPNEGO initiator (through the interop harness) over one TLS connection, bound to that connection's certificate. */
async function peerClient(peer: Peer, port: number): Promise<{ status: number; body: string }> {
  const conn = await Connection.open(port);
  const { id } = await peer.request('client_new', { mech: 'spnego', user: identity.user, domain: identity.domain, password: identity.password, target: 'HTTP/127.0.0.1', channelBindings: b64(api.tlsChannelBindings(conn.socket as TLSSocket)) });
  try {
    expect((await conn.get()).status).toBe(401);
    let step = await peer.request('step', { id });
    for (;;) {
      const r = await conn.get(`Negotiate ${step.token}`);
      const tok = negotiateToken(r);
      if (r.status !== 401 || !tok) {
        if (r.status === 200 && tok) expect((await peer.request('step', { id, token: b64(tok) })).done).toBe(true);
        return { status: r.status, body: r.body };
      }
      step = await peer.request('step', { id, token: b64(tok) });
    }
  } finally {
    await peer.request('close', { id }).catch(() => undefined);
    conn.close();
  }
}

function curl(url: string, usersFile: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sk', '--negotiate', '-u', ':', '-w', '\n%{http_code}', url], { env: { ...process.env, NTLM_USER_FILE: usersFile }, timeout: 20_000 }, (err, stdout) => {
      if (err) return reject(err);
      const nl = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl) });
    });
  });
}

interface Example {
  child: ChildProcess;
  url: string;
  port: number;
}

function startExample(args: string[]): Promise<Example> {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--workers', '1', ...args], { cwd: ROOT, env: { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const m = /^listening on (https?):\/\/127\.0\.0\.1:(\d+)$/.exec(out.slice(0, nl));
      if (!m) return reject(new Error(`unexpected first line ${JSON.stringify(out.slice(0, nl))}`));
      resolve({ child, url: `${m[1]}://127.0.0.1:${m[2]}/`, port: Number(m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${err}`)));
  });
}

function stopExample(e: Example | undefined): Promise<void> {
  if (!e || e.child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    e.child.once('exit', () => r());
    e.child.kill('SIGTERM');
  });
}

/** A TLS-terminating relay with its own certificate: decrypts, and forwards over a new TLS connection. */
function startRelay(cert: Buffer, key: Buffer, targetPort: number): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert, key }, (front) => {
    const back = connect({ port: targetPort, host: '127.0.0.1', rejectUnauthorized: false });
    front.pipe(back).pipe(front);
    const kill = () => (front.destroy(), back.destroy());
    front.on('error', kill).on('close', kill);
    back.on('error', kill).on('close', kill);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as AddressInfo).port })));
}

describe.skipIf(!canRun)(`examples/http-negotiate over HTTPS with channel bindings${canRun ? '' : ' (skipped: needs openssl off Windows)'}`, () => {
  let dir: string;
  let usersFile: string;
  let peer: Peer | undefined;
  const peerOk = peerAvailable().ok;
  const files: Record<string, { cert: string; key: string }> = {};

  beforeAll(() => {
    api.setBackend('fallback');
    dir = mkdtempSync(join(tmpdir(), 'https-cb-'));
    usersFile = join(dir, 'users.txt');
    writeFileSync(usersFile, `${identity.domain}:${identity.user}:${identity.password}\n`);
    // Certificates made at test time (no private key in the repository): the server's and the relay's.
    for (const name of ['server', 'relay']) {
      const cert = join(dir, `${name}.pem`);
      const key = join(dir, `${name}.key`);
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}.localhost`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      files[name] = { cert, key };
    }
  });
  beforeAll(async () => {
    if (peerOk) peer = await startPeer({ NTLM_USER_FILE: usersFile });
  });
  afterAll(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // What each client gets, per policy: [right bindings, wrong bindings, no bindings, relayed with the relay's bindings].
  const expected: Record<Policy, [number, number, number, number]> = {
    none: [200, 200, 200, 200],
    allow: [200, 401, 200, 401],
    require: [200, 401, 401, 401],
  };

  for (const policy of ['none', 'allow', 'require'] as const) {
    describe(`--channel-bindings ${policy}`, () => {
      let ex: Example | undefined;
      let relay: { server: Server; port: number } | undefined;
      beforeAll(async () => {
        ex = await startExample(['--users', usersFile, '--cert', files.server!.cert, '--key', files.server!.key, '--channel-bindings', policy]);
        relay = await startRelay(readFileSync(files.relay!.cert), readFileSync(files.relay!.key), ex.port);
      });
      afterAll(async () => {
        relay?.server.close();
        await stopExample(ex);
      });

      it('prints an https URL and answers the library client with right, wrong and no bindings per policy', async () => {
        expect(ex!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
        const [right, wrong, none] = expected[policy];
        const r = await tsClient(ex!.port, 'right');
        expect(r.status).toBe(right);
        expect(JSON.parse(r.body).clientName).toBe(CLIENT_NAME);
        const w = await tsClient(ex!.port, 'wrong');
        expect(w.status).toBe(wrong);
        if (wrong === 401) expect(JSON.parse(w.body).error).toBe('SEC_E_BAD_BINDINGS');
        expect((await tsClient(ex!.port, 'none')).status).toBe(none);
      });

      it('through a TLS-terminating relay with another certificate, the relayed handshake is refused unless the policy is none', async () => {
        const r = await tsClient(relay!.port, 'right'); // bound to the relay's certificate, as a victim's client would be
        expect(r.status).toBe(expected[policy][3]);
        if (r.status === 401) expect(JSON.parse(r.body).error).toBe('SEC_E_BAD_BINDINGS');
        else expect(JSON.parse(r.body).clientName).toBe(CLIENT_NAME);
      });

      it.skipIf(!peerOk)('gss-ntlmssp SPNEGO with real channel bindings: accepted directly, refused through the relay unless none', async () => {
        const direct = await peerClient(peer!, ex!.port);
        expect(direct.status).toBe(200);
        expect(JSON.parse(direct.body).clientName).toBe(CLIENT_NAME);
        const relayed = await peerClient(peer!, relay!.port);
        expect(relayed.status).toBe(expected[policy][3]);
        if (relayed.status === 401) expect(JSON.parse(relayed.body).error).toBe('SEC_E_BAD_BINDINGS');
      });

      it.skipIf(!haveCurl || !gssNtlmssp)('curl --negotiate (GSSAPI, gss-ntlmssp; curl 7.88 sends no bindings)', async () => {
        const r = await curl(ex!.url, usersFile);
        expect(r.status).toBe(expected[policy][2]);
        if (r.status === 200) expect(JSON.parse(r.body).clientName).toBe(CLIENT_NAME);
        else expect(JSON.parse(r.body).error).toBe('SEC_E_BAD_BINDINGS');
      });
    });
  }

  it('negotiateHandler without the option: allow on an https.Server, none on an http.Server', async () => {
    const cred = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: usersFile });
    const handler = api.negotiateHandler({ credentials: cred, onAuthenticated: (_req, res, ctx) => res.end(JSON.stringify({ clientName: ctx.names.clientName })) });
    const tlsOpts = { cert: readFileSync(files.server!.cert), key: readFileSync(files.server!.key) };
    const servers = [createHttpsServer(tlsOpts, handler), createHttpServer(handler)];
    try {
      const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)))));
      expect((await tsClient(ports[0]!, 'wrong')).status).toBe(401);
      expect((await tsClient(ports[0]!, 'right')).status).toBe(200);
      expect((await tsClient(ports[0]!, 'none')).status).toBe(200);
      expect((await tsClient(ports[1]!, 'wrong', false)).status).toBe(200);
      expect(() => api.negotiateHandler({ credentials: cred, channelBindings: 'always' as never })).toThrow(expect.objectContaining({ code: 'SEC_E_INVALID_PARAMETER' }));
    } finally {
      for (const s of servers) s.close();
      handler.close();
      cred.close();
    }
  });

  it('a browser-like NegTokenInit (Kerberos first, with an AP-REQ) over HTTP: NTLM is selected with no response token and the handshake completes', async () => {
    const cred = await api.Credentials.acquire({ package: 'Negotiate', use: 'inbound', users: usersFile });
    const handler = api.negotiateHandler({ credentials: cred, onAuthenticated: (_req, res, ctx) => res.end(JSON.stringify({ clientName: ctx.names.clientName })) });
    const server = createHttpServer(handler);
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
    const ntlmCred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity });
    const ntlm = new api.ClientContext(ntlmCred, { target: 'HTTP/127.0.0.1' });
    const conn = await Connection.open(port, false);
    try {
      // MS-KRB5, KRB5, NTLM, as Windows clients list them (SSPI-CONTRACTS §7), and a stand-in AP-REQ.
      const mechTypes = encodeMechTypes(['1.2.840.48018.1.2.2', '1.2.840.113554.1.2.2', OID_NTLMSSP]);
      const fields = Buffer.concat([Buffer.from([0xa0, mechTypes.length]), mechTypes, Buffer.from('a20604046e020500', 'hex')]);
      const seq = Buffer.concat([Buffer.from([0x30, fields.length]), fields]);
      const inner = Buffer.concat([Buffer.from('06062b0601050502', 'hex'), Buffer.from([0xa0, seq.length]), seq]);
      const init = Buffer.concat([Buffer.from([0x60, inner.length]), inner]);
      const r1 = await conn.get(`Negotiate ${init.toString('base64')}`);
      expect(r1.status).toBe(401);
      expect(decodeNegotiationToken(negotiateToken(r1)!, 't')).toEqual({ kind: 'resp', resp: { negState: NegState.REQUEST_MIC, supportedMech: OID_NTLMSSP } });
      const r2 = await conn.get(`Negotiate ${encodeNegTokenResp({ responseToken: (await ntlm.step()).token! }).toString('base64')}`);
      const chal = decodeNegotiationToken(negotiateToken(r2)!, 't');
      const auth = (await ntlm.step(chal.kind === 'resp' ? chal.resp.responseToken : undefined)).token!;
      const r3 = await conn.get(`Negotiate ${encodeNegTokenResp({ responseToken: auth, mechListMIC: ntlm.sign(mechTypes) }).toString('base64')}`);
      expect(r3.status).toBe(200);
      expect(JSON.parse(r3.body).clientName).toBe(CLIENT_NAME);
      const fin = decodeNegotiationToken(negotiateToken(r3)!, 't');
      expect(fin.kind === 'resp' && fin.resp.negState).toBe(NegState.ACCEPT_COMPLETED);
      expect(fin.kind === 'resp' && ntlm.verify(mechTypes, fin.resp.mechListMIC!)).toBe(true);
    } finally {
      conn.close();
      ntlm.close();
      ntlmCred.close();
      server.close();
      handler.close();
      cred.close();
    }
  });

  it('defaults to allow on HTTPS: wrong bindings are refused, missing ones accepted', async () => {
    const ex = await startExample(['--users', usersFile, '--cert', files.server!.cert, '--key', files.server!.key]);
    try {
      expect((await tsClient(ex.port, 'wrong')).status).toBe(401);
      expect((await tsClient(ex.port, 'none')).status).toBe(200);
    } finally {
      await stopExample(ex);
    }
  });

  it.skipIf(!haveCurl || !gssNtlmssp)('plain HTTP: curl --negotiate sends SPNEGO and is authenticated', async () => {
    const ex = await startExample(['--users', usersFile]);
    try {
      expect(ex.url).toMatch(/^http:\/\//);
      const r = await curl(ex.url, usersFile);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).clientName).toBe(CLIENT_NAME);
    } finally {
      await stopExample(ex);
    }
  });
});
