// examples/http-negotiate end to end: the example server runs as a real child
// process with its pool of forked workers, and real clients authenticate to it:
// the library's own ClientContext over undici (keep-alive), and curl's NTLM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
api.setBackend('fallback');
const { Credentials, ClientContext, negotiateHandler } = api;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'examples/http-negotiate/server.js');
const DOMAIN = 'CONTOSO';
const USER = 'alice';
const PASSWORD = 'Passw0rd!http';
const identity = { domain: DOMAIN, user: USER, password: PASSWORD };
const CLIENT_NAME = `${DOMAIN}\\${USER}`;

interface Started {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** Resolves with the first stderr line matching `re` (already seen or still to come). */
  waitForStderr(re: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(usersFile: string, extraArgs: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--users', usersFile, ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback', HTTP_NEGOTIATE_LOG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const watchers: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
    for (const w of [...watchers]) {
      const m = err.match(w.re);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return new Promise((resolveStart, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    const onData = (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      const line = out.slice(0, nl);
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      if (!m) return reject(new Error(`unexpected first line ${JSON.stringify(line)}; stderr: ${err}`));
      resolveStart({
        child,
        url: m[1]!,
        stderr: () => err,
        waitForStderr: (re) =>
          new Promise((res) => {
            const hit = err.match(re);
            if (hit) res(hit);
            else watchers.push({ re, resolve: res });
          }),
        exited,
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening; stderr: ${err}`)));
  });
}

interface Leg {
  status: number;
  connectionId: string | undefined;
  www: string[];
  body: string;
}

function headerList(v: string | string[] | null | undefined): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * The library's ClientContext drives the handshake, one HTTP request per leg,
 * all through one keep-alive Agent. `transport` picks undici.request or undici.fetch.
 */
async function libClient(
  url: string,
  opts: { packageName?: 'NTLM' | 'Negotiate'; password?: string; transport?: 'request' | 'fetch' } = {},
): Promise<{ legs: Leg[]; final: Leg }> {
  const packageName = opts.packageName ?? 'NTLM';
  const cred = await Credentials.acquire({ package: packageName, use: 'outbound', identity: { ...identity, password: opts.password ?? PASSWORD } });
  const ctx = new ClientContext(cred, { target: 'HTTP/127.0.0.1' });
  // connections: 1 keeps every leg on one socket. With more, undici may open a
  // second connection for the next leg before the first is marked idle, and an
  // NTLM handshake split over two connections fails (as it must).
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });
  const legs: Leg[] = [];
  try {
    let input: Buffer | undefined;
    for (let i = 0; i < 6; i++) {
      const step = await ctx.step(input);
      const authorization = `${packageName} ${step.token.toString('base64')}`;
      let leg: Leg;
      if (opts.transport === 'fetch') {
        const res = await undiciFetch(url, { dispatcher: agent, headers: { authorization } });
        const body = await res.text();
        const www = res.headers.get('www-authenticate');
        // Headers.get joins repeated headers with ", ".
        leg = { status: res.status, connectionId: res.headers.get('x-connection-id') ?? undefined, www: www ? www.split(/, (?=Negotiate|NTLM)/) : [], body };
      } else {
        const res = await request(url, { dispatcher: agent, headers: { authorization } });
        const body = await res.body.text();
        leg = { status: res.statusCode, connectionId: headerList(res.headers['x-connection-id'])[0], www: headerList(res.headers['www-authenticate']), body };
      }
      legs.push(leg);
      const cont = leg.status === 401 ? leg.www.find((h) => h.startsWith(`${packageName} `)) : undefined;
      if (!cont) return { legs, final: leg };
      input = Buffer.from(cont.slice(packageName.length + 1), 'base64');
    }
    throw new Error('the handshake did not finish in 6 legs');
  } finally {
    ctx.close();
    cred.close();
    await agent.close();
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof (error as NodeJS.ErrnoException).code === 'string') return rej(error); // ENOENT
      res({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let curlChecked: Promise<void> | undefined;
/** curl must exist and have NTLM; a missing feature fails the test loudly, it is not skipped. */
function requireCurlNtlm(): Promise<void> {
  curlChecked ??= run('curl', ['--version']).then(
    ({ stdout }) => {
      const features = /^Features:(.*)$/m.exec(stdout)?.[1]?.trim().split(/\s+/) ?? [];
      if (!features.includes('NTLM')) throw new Error(`curl has no NTLM support (Features: ${features.join(' ')}); install a curl built with NTLM`);
    },
    (e) => {
      throw new Error(`curl is not installed or not runnable: ${(e as Error).message}`);
    },
  );
  return curlChecked;
}

interface CurlResult {
  status: number;
  body: string;
  /** One entry per HTTP response curl received. */
  responses: Array<{ status: number; headers: Array<[string, string]> }>;
}

let curlSeq = 0;
async function curl(dir: string, url: string, user?: string): Promise<CurlResult> {
  await requireCurlNtlm();
  const n = ++curlSeq;
  const headerFile = join(dir, `curl-${n}.headers`);
  const bodyFile = join(dir, `curl-${n}.body`);
  const args = ['--silent', '--show-error', '--max-time', '30', '-D', headerFile, '-o', bodyFile, '-w', '%{http_code}'];
  if (user !== undefined) args.push('--ntlm', '-u', user);
  args.push(`${url}/`);
  const r = await run('curl', args);
  if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.stderr}`);
  const responses = readFileSync(headerFile, 'latin1')
    .split(/\r\n\r\n/)
    .filter((block) => block.startsWith('HTTP/'))
    .map((block) => {
      const [statusLine, ...lines] = block.split('\r\n');
      const headers = lines.map((l): [string, string] => {
        const i = l.indexOf(':');
        return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
      });
      return { status: Number(statusLine!.split(' ')[1]), headers };
    });
  return { status: Number(r.stdout), body: readFileSync(bodyFile, 'utf8'), responses };
}

const headerValues = (r: { headers: Array<[string, string]> }, name: string) => r.headers.filter(([k]) => k === name).map(([, v]) => v);

describe('examples/http-negotiate (server, worker pool, real clients)', () => {
  let dir: string;
  let srv: Started;
  const workerPids = new Set<number>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-http-'));
    const users = join(dir, 'users.txt');
    writeFileSync(users, `# test users\n${DOMAIN}:${USER}:${PASSWORD}\nCONTOSO:bob:other-password\n`);
    srv = await startServer(users);
  });

  afterAll(async () => {
    if (srv && srv.child.exitCode === null && srv.child.signalCode === null) {
      srv.child.kill('SIGKILL');
      await srv.exited;
    }
    // Workers exit when their IPC channel closes; make sure none outlives the test.
    for (const pid of workerPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function expectWorkerAnswer(body: string): { clientName: string; pid: number } {
    const json = JSON.parse(body);
    expect(Object.keys(json).sort()).toEqual(['clientName', 'pid']);
    expect(json.clientName).toBe(CLIENT_NAME);
    expect(Number.isInteger(json.pid)).toBe(true);
    expect(json.pid).not.toBe(srv.child.pid);
    workerPids.add(json.pid);
    return json;
  }

  it('(c) answers a request without credentials with 401 and both WWW-Authenticate headers', async () => {
    const res = await request(`${srv.url}/`);
    await res.body.text();
    expect(res.statusCode).toBe(401);
    expect(headerList(res.headers['www-authenticate'])).toEqual(['Negotiate', 'NTLM']);
  });

  it('(a) the library client over undici.request: NTLM legs on one keep-alive connection, answered by a worker', async () => {
    const { legs, final } = await libClient(srv.url, { packageName: 'NTLM', transport: 'request' });
    expect(legs.map((l) => l.status)).toEqual([401, 200]);
    expect(legs[0]!.www).toHaveLength(1);
    expect(legs[0]!.www[0]).toMatch(/^NTLM [A-Za-z0-9+/]+=*$/);
    // Both legs on the same server-side socket: NTLM is bound to its connection.
    expect(legs[0]!.connectionId).toBeDefined();
    expect(new Set(legs.map((l) => l.connectionId)).size).toBe(1);
    expectWorkerAnswer(final.body);
  });

  it('(a) the library client over undici.fetch with the Negotiate scheme', async () => {
    const { legs, final } = await libClient(srv.url, { packageName: 'Negotiate', transport: 'fetch' });
    expect(legs.map((l) => l.status)).toEqual([401, 200]);
    expect(legs[0]!.www[0]).toMatch(/^Negotiate [A-Za-z0-9+/]+=*$/);
    expect(new Set(legs.map((l) => l.connectionId)).size).toBe(1);
    expectWorkerAnswer(final.body);
  });

  it('(b) curl --ntlm authenticates on one connection and gets the worker answer', async () => {
    const r = await curl(dir, srv.url, `${DOMAIN}\\${USER}:${PASSWORD}`);
    expect(r.status).toBe(200);
    expect(r.responses.map((x) => x.status)).toEqual([401, 200]);
    expect(headerValues(r.responses[0]!, 'www-authenticate')).toEqual([expect.stringMatching(/^NTLM [A-Za-z0-9+/]+=*$/)]);
    const ids = r.responses.map((x) => headerValues(x, 'x-connection-id')[0]);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
    expectWorkerAnswer(r.body);
  });

  it('(c) curl without credentials gets 401 and both schemes', async () => {
    const r = await curl(dir, srv.url);
    expect(r.status).toBe(401);
    expect(headerValues(r.responses[0]!, 'www-authenticate')).toEqual(['Negotiate', 'NTLM']);
  });

  it('(d) a wrong password gets 401 with a fresh challenge: curl', async () => {
    const r = await curl(dir, srv.url, `${DOMAIN}\\${USER}:wrong-password`);
    expect(r.status).toBe(401);
    const last = r.responses[r.responses.length - 1]!;
    expect(headerValues(last, 'www-authenticate')).toEqual(['Negotiate', 'NTLM']);
    expect(JSON.parse(r.body)).toEqual({ error: 'SEC_E_LOGON_DENIED' });
  });

  it('(d) a wrong password gets 401 with a fresh challenge: the library client', async () => {
    for (const packageName of ['NTLM', 'Negotiate'] as const) {
      const { legs, final } = await libClient(srv.url, { packageName, password: 'wrong-password' });
      expect(legs.map((l) => l.status)).toEqual([401, 401]);
      expect(final.www).toEqual(['Negotiate', 'NTLM']);
      expect(JSON.parse(final.body)).toEqual({ error: 'SEC_E_LOGON_DENIED' });
    }
    // Another user's password is no better.
    const r = await curl(dir, srv.url, `${DOMAIN}\\bob:${PASSWORD}`);
    expect(r.status).toBe(401);
  });

  it('answers malformed Authorization headers with a typed 400, not a crash', async () => {
    for (const authorization of ['NTLM !!!', 'Negotiate', 'NTLM a']) {
      const res = await request(`${srv.url}/`, { headers: { authorization } });
      expect(res.statusCode).toBe(400);
      expect(await res.body.json()).toEqual({ error: 'SEC_E_INVALID_TOKEN' });
    }
    const garbage = await request(`${srv.url}/`, { headers: { authorization: `NTLM ${Buffer.from('NTLMSSP\0garbage').toString('base64')}` } });
    await garbage.body.text();
    expect(garbage.statusCode).toBe(401);
  });

  it('(e) after those failures the server still answers good requests', async () => {
    const viaLib = await libClient(srv.url);
    expect(viaLib.final.status).toBe(200);
    expectWorkerAnswer(viaLib.final.body);
    const viaCurl = await curl(dir, srv.url, `${DOMAIN}\\${USER}:${PASSWORD}`);
    expect(viaCurl.status).toBe(200);
    expectWorkerAnswer(viaCurl.body);
    expect(srv.child.exitCode).toBeNull();
  });

  it('serves concurrent clients through the pool of two workers', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => libClient(srv.url, { transport: i % 2 ? 'fetch' : 'request' })));
    const pids = new Set<number>();
    for (const { legs, final } of results) {
      expect(final.status).toBe(200);
      expect(new Set(legs.map((l) => l.connectionId)).size).toBe(1);
      pids.add(expectWorkerAnswer(final.body).pid);
    }
    expect(pids.size).toBeLessThanOrEqual(2);
    // Different clients, different connections.
    expect(new Set(results.map((r) => r.legs[0]!.connectionId)).size).toBe(results.length);
  });

  it('replaces a worker that dies and keeps serving', async () => {
    const first = expectWorkerAnswer((await libClient(srv.url)).final.body);
    process.kill(first.pid, 'SIGKILL');
    const m = await srv.waitForStderr(new RegExp(`worker ${first.pid} exited \\(SIGKILL\\); restarted as (\\d+)`));
    const replacement = Number(m[1]);
    workerPids.add(replacement);
    for (let i = 0; i < 4; i++) {
      const { final } = await libClient(srv.url);
      expect(final.status).toBe(200);
      expect(expectWorkerAnswer(final.body).pid).not.toBe(first.pid);
    }
  });

  it('shuts down cleanly on SIGTERM, taking its workers with it', async () => {
    srv.child.kill('SIGTERM');
    const { code, signal } = await srv.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(srv.stderr()).toMatch(/SIGTERM: shutting down/);
    // The front waited for every worker's exit before exiting itself.
    const alive = [...workerPids].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});

describe('negotiateHandler in process with the fallback NTLM package', () => {
  it('authenticates the library client and refuses a wrong password, on one connection', async () => {
    const seen: string[] = [];
    const handler = negotiateHandler({
      acquire: { users: [{ domain: DOMAIN, user: USER, password: PASSWORD }] },
      onAuthenticated(_req: http.IncomingMessage, res: http.ServerResponse, ctx: { names: { clientName: string } }) {
        seen.push(ctx.names.clientName);
        res.end(JSON.stringify({ clientName: ctx.names.clientName, pid: process.pid }));
      },
    });
    let connections = 0;
    const server = http.createServer((req, res) => {
      res.setHeader('X-Connection-Id', String((req.socket as unknown as { id: number }).id));
      void handler(req, res);
    });
    server.on('connection', (s) => Object.assign(s, { id: ++connections }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const bad = await libClient(url, { password: 'nope' });
      expect(bad.final.status).toBe(401);
      for (const packageName of ['NTLM', 'Negotiate'] as const) {
        const good = await libClient(url, { packageName });
        expect(good.final.status).toBe(200);
        expect(new Set(good.legs.map((l) => l.connectionId)).size).toBe(1);
        expect(JSON.parse(good.final.body).clientName).toBe(CLIENT_NAME);
      }
      expect(seen).toEqual([CLIENT_NAME, CLIENT_NAME]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      handler.close();
    }
  });
});
