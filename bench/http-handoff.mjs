// The HTTP half of the handoff bench (issue 14): examples/http-negotiate/server.js
// (fresh connection, NTLM handshake over two keep-alive legs, handoff to a
// worker through ContextPool) against its unauthenticated twin
// (bench/http-baseline-server.cjs: fresh connection, one IPC round trip to a
// forked worker). Same workers, same concurrency, keep-alive off between
// requests, loopback only; the two are sampled alternately in one run so both
// see the same machine. Requests per second = completed answers / wall time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, quartiles } from './workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..');
const EXAMPLE = join(ROOT, 'examples/http-negotiate/server.js');
const BASELINE = join(here, 'http-baseline-server.cjs');
const DOMAIN = 'BENCH';
const USER = 'alice';
const PASSWORD = 'Passw0rd!bench';

function startServer(script, args) {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) resolve({ child, port: Number(m[2]), stop: () => stop(child) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before listening: ${err.trim()}`)));
  });
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => (clearTimeout(t), r()));
    child.kill('SIGTERM');
  });
}

/** One request on `agent`; resolves to { status, headers, body }. */
function get(port, agent, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A fresh connection per request (an agent of one socket, destroyed after). */
function freshAgent() {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}

async function baselineRequest(port) {
  const agent = freshAgent();
  try {
    const r = await get(port, agent, { connection: 'close' });
    if (r.status !== 200) throw new Error(`baseline: HTTP ${r.status}`);
  } finally {
    agent.destroy();
  }
}

/** NEGOTIATE -> 401 CHALLENGE -> AUTHENTICATE on the same connection -> 200 from a worker. */
async function authenticatedRequest(port, cred) {
  const agent = freshAgent();
  const ctx = new api.ClientContext(cred, { target: 'HTTP/127.0.0.1' });
  try {
    const negotiate = await ctx.step();
    const first = await get(port, agent, { authorization: `NTLM ${negotiate.token.toString('base64')}` });
    const www = [first.headers['www-authenticate']].flat().find((h) => h && h.startsWith('NTLM '));
    if (first.status !== 401 || !www) throw new Error(`authenticated: leg 1 HTTP ${first.status}`);
    const authenticate = await ctx.step(Buffer.from(www.slice(5), 'base64'));
    const last = await get(port, agent, { authorization: `NTLM ${authenticate.token.toString('base64')}`, connection: 'close' });
    if (last.status !== 200) throw new Error(`authenticated: leg 2 HTTP ${last.status} ${last.body}`);
  } finally {
    ctx.close();
    agent.destroy();
  }
}

const TICK_US = 1e6 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** utime+stime of `pid` in µs, from /proc (Linux); undefined elsewhere. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/** Pids of the direct children of `ppid` (the servers' forked workers). */
function childrenOf(ppid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU µs so far of the bench process (the client), the front and its workers. */
function cpuSnapshot(server) {
  const workers = childrenOf(server.child.pid).map(cpuOf);
  const own = process.cpuUsage();
  return { client: own.user + own.system, front: cpuOf(server.child.pid), workers: workers.every((w) => w !== undefined) ? workers.reduce((a, b) => a + b, 0) : undefined };
}

/** CPU µs per request of each role between two snapshots. */
function cpuPerRequest(before, after, requests) {
  const per = (k) => (before[k] === undefined || after[k] === undefined ? null : +((after[k] - before[k]) / requests).toFixed(0));
  return { client: per('client'), front: per('front'), workers: per('workers') };
}

/** `total` requests from `concurrency` loops; returns requests per second. */
async function sample(total, concurrency, one) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await one();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return total / seconds;
}

/**
 * Returns { httpAuthenticatedRps, httpBaselineRps, spread, config }.
 * `workers` and `concurrency` are the same for both sides.
 */
export async function runHttpHandoff({ quick = false, workers = 2, concurrency = 8 } = {}) {
  const samples = quick ? 3 : 7;
  const perSample = quick ? 150 : 600;
  const warmup = quick ? 50 : 200;
  const dir = mkdtempSync(join(tmpdir(), 'sspi-bench-http-'));
  const users = join(dir, 'users.txt');
  writeFileSync(users, `${DOMAIN}:${USER}:${PASSWORD}\n`);
  const cred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { domain: DOMAIN, user: USER, password: PASSWORD } });
  const servers = [];
  try {
    const auth = await startServer(EXAMPLE, ['--port', '0', '--users', users, '--workers', String(workers)]);
    servers.push(auth);
    const base = await startServer(BASELINE, ['--workers', String(workers)]);
    servers.push(base);
    const local = await startServer(BASELINE, ['--authenticate', users]);
    servers.push(local);
    const authOne = () => authenticatedRequest(auth.port, cred);
    const baseOne = () => baselineRequest(base.port);
    const localOne = () => authenticatedRequest(local.port, cred);
    await sample(warmup, concurrency, authOne);
    await sample(warmup, concurrency, baseOne);
    await sample(warmup, concurrency, localOne);
    const a = [];
    const b = [];
    const c = [];
    const cpu = { authenticated: [], baseline: [], handshakeOnly: [] };
    // Alternate, so drift on a shared machine hits both sides alike.
    for (let i = 0; i < samples; i++) {
      let before = cpuSnapshot(auth);
      a.push(await sample(perSample, concurrency, authOne));
      cpu.authenticated.push(cpuPerRequest(before, cpuSnapshot(auth), perSample));
      before = cpuSnapshot(base);
      b.push(await sample(perSample, concurrency, baseOne));
      cpu.baseline.push(cpuPerRequest(before, cpuSnapshot(base), perSample));
      before = cpuSnapshot(local);
      c.push(await sample(perSample, concurrency, localOne));
      cpu.handshakeOnly.push(cpuPerRequest(before, cpuSnapshot(local), perSample));
    }
    // Median per role over the samples: where the time of one request goes.
    const med = (rows, k) => {
      const v = rows.map((r) => r[k]).filter((x) => x !== null);
      return v.length ? quartiles(v).median : null;
    };
    const cpuMicrosPerRequest = Object.fromEntries(
      Object.entries(cpu).map(([side, rows]) => [side, { client: med(rows, 'client'), front: med(rows, 'front'), workers: med(rows, 'workers') }]),
    );
    const sa = quartiles(a);
    const sb = quartiles(b);
    const ratios = quartiles(a.map((x, i) => x / b[i]));
    const sc = quartiles(c);
    return {
      httpAuthenticatedRps: +sa.median.toFixed(1),
      httpBaselineRps: +sb.median.toFixed(1),
      spread: { httpAuthenticatedRps: sa, httpBaselineRps: sb, ratio: ratios },
      cpuMicrosPerRequest,
      // Diagnostic, not a goal: the same handshake answered by the front, no worker, no handoff.
      handshakeOnlyRps: +sc.median.toFixed(1),
      handshakeOnlySpread: sc,
      config: {
        workers,
        concurrency,
        samples,
        requestsPerSample: perSample,
        warmupRequests: warmup,
        authenticated: 'examples/http-negotiate/server.js: fresh connection, NTLM NEGOTIATE/CHALLENGE/AUTHENTICATE over 2 keep-alive legs, ContextPool handoff (kind process), answer from the worker',
        baseline: 'bench/http-baseline-server.cjs: fresh connection, 1 request, one IPC round trip to a forked worker',
        handshakeOnly: 'bench/http-baseline-server.cjs --authenticate: the same negotiateHandler handshake, answered by the front (no workers, no transfer)',
        client: 'node:http in the bench process, one fresh socket per request (Connection: close on the last leg), ClientContext for NTLM',
      },
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    cred.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Stand-alone: node bench/http-handoff.mjs [--quick]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await runHttpHandoff({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(r, null, 2));
  console.log(`ratio ${(r.httpAuthenticatedRps / r.httpBaselineRps).toFixed(3)}`);
}
