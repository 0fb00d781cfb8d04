// TypeScript client for test/interop/peer.py, the JSON-lines harness around
// gss-ntlmssp (the real NTLM peer). See README.md in this folder.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

/** Debian's interpreter; the pyenv python3 on PATH cannot see python3-gssapi. */
export const PEER_PYTHON = '/usr/bin/python3';
export const PEER_SCRIPT = fileURLToPath(new URL('./peer.py', import.meta.url));
export const NTLM_MECH_OID = '1.3.6.1.4.1.311.2.2.10';
const MECH_DIR = '/etc/gss/mech.d';

/** The error object the harness returns (GSS major/minor or a harness refusal). */
export interface PeerErrorInfo {
  major: number;
  minor: number;
  message: string;
  minorMessage?: string | null;
  /** e.g. ["GSS_S_BAD_SIG"], ["GSS_S_FAILURE"] */
  names?: string[];
  routine?: string | null;
  /** true when the harness refused the request itself (bad id, bad field). */
  harness?: boolean;
  trace?: string;
}

export class PeerError extends Error {
  readonly op: string;
  readonly info: PeerErrorInfo;
  constructor(op: string, info: PeerErrorInfo) {
    super(`peer ${op} failed: ${info.message}`);
    this.name = 'PeerError';
    this.op = op;
    this.info = info;
  }
  get major(): number {
    return this.info.major;
  }
  get minor(): number {
    return this.info.minor;
  }
}

export interface Peer {
  /** Send one request; resolves with the response object or rejects with PeerError. */
  request(op: string, args?: Record<string, unknown>): Promise<any>;
  /** Ask the harness to exit and wait for it (kills it after a grace period). */
  close(): Promise<void>;
  readonly pid: number | undefined;
}

export interface PeerAvailability {
  ok: boolean;
  reason?: string;
}

let availability: PeerAvailability | undefined;

/**
 * Whether the real peer can run here: /usr/bin/python3 exists and imports
 * gssapi, gss-ntlmssp is registered with the GSSAPI mechglue (a file in
 * /etc/gss/mech.d names the NTLM OID) and the mechglue actually lists it.
 * The reason is precise so a skipped test says exactly what is missing.
 */
export function peerAvailable(): PeerAvailability {
  if (availability) return availability;
  availability = checkAvailability();
  return availability;
}

function checkAvailability(): PeerAvailability {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `gss-ntlmssp peer needs Linux (platform is ${process.platform})` };
  }
  if (!existsSync(PEER_PYTHON)) {
    return { ok: false, reason: `${PEER_PYTHON} not found (Debian python3 is needed for python3-gssapi)` };
  }
  let registered = false;
  if (existsSync(MECH_DIR)) {
    for (const f of readdirSync(MECH_DIR)) {
      try {
        if (readFileSync(join(MECH_DIR, f), 'utf8').includes(NTLM_MECH_OID)) registered = true;
      } catch {
        // unreadable entry: ignore
      }
    }
  }
  if (!registered) {
    return {
      ok: false,
      reason: `gss-ntlmssp is not registered: no file in ${MECH_DIR} names ${NTLM_MECH_OID} (apt-get install gss-ntlmssp)`,
    };
  }
  const probe = spawnSync(
    PEER_PYTHON,
    [
      '-c',
      'import gssapi.raw as r\n' +
        'mechs = [m.dotted_form for m in r.indicate_mechs()]\n' +
        `print("ok" if "${NTLM_MECH_OID}" in mechs else "nomech " + ",".join(mechs))`,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (probe.error) return { ok: false, reason: `cannot run ${PEER_PYTHON}: ${probe.error.message}` };
  if (probe.status !== 0) {
    const err = (probe.stderr || '').trim().split('\n').pop() ?? '';
    if (/No module named 'gssapi'/.test(probe.stderr ?? '')) {
      return { ok: false, reason: `${PEER_PYTHON} cannot import gssapi (apt-get install python3-gssapi)` };
    }
    return { ok: false, reason: `${PEER_PYTHON} gssapi probe failed: ${err}` };
  }
  const out = probe.stdout.trim();
  if (out !== 'ok') {
    return { ok: false, reason: `GSSAPI mechglue does not list ${NTLM_MECH_OID} (${out})` };
  }
  return { ok: true };
}

interface Pending {
  op: string;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

/**
 * Spawn `/usr/bin/python3 test/interop/peer.py`. `env` is merged over
 * process.env; use it for NTLM_USER_FILE, NETBIOS_COMPUTER_NAME,
 * NETBIOS_DOMAIN_NAME (and GSSNTLMSSP_DEBUG=/path for a debug log).
 */
export async function startPeer(env: Record<string, string | undefined> = {}): Promise<Peer> {
  const child: ChildProcessWithoutNullStreams = spawn(PEER_PYTHON, [PEER_SCRIPT], {
    env: { ...process.env, ...env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pending = new Map<number, Pending>();
  let nextRid = 1;
  let exited: Error | undefined;
  let stderr = '';

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });

  let onReady: ((err?: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = (err?: Error) => (err ? reject(err) : resolve());
  });

  const failAll = (err: Error): void => {
    exited = err;
    onReady?.(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  child.on('error', (err) => failAll(new Error(`peer harness failed to start: ${err.message}`)));
  child.on('exit', (code, signal) => {
    failAll(new Error(`peer harness exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim()}` : ''}`));
  });

  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      stderr = (stderr + `\n[non-JSON stdout] ${line}`).slice(-8192);
      return;
    }
    if (msg && msg.ready === true) {
      onReady?.();
      return;
    }
    if (msg && typeof msg.fatal === 'string') {
      failAll(new Error(`peer harness: ${msg.fatal}`));
      return;
    }
    const rid = typeof msg?.rid === 'number' ? msg.rid : undefined;
    const p = rid === undefined ? undefined : pending.get(rid);
    if (!p || rid === undefined) return;
    pending.delete(rid);
    if (msg.error) {
      p.reject(new PeerError(p.op, msg.error as PeerErrorInfo));
    } else {
      delete msg.rid;
      p.resolve(msg);
    }
  });

  await ready;

  const request = (op: string, args: Record<string, unknown> = {}): Promise<any> => {
    if (exited) return Promise.reject(exited);
    const rid = nextRid++;
    return new Promise((resolve, reject) => {
      pending.set(rid, { op, resolve, reject });
      child.stdin.write(`${JSON.stringify({ ...args, op, rid })}\n`);
    });
  };

  const close = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await Promise.race([request('shutdown'), gone]);
    } catch {
      // already gone
    }
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  };

  return { request, close, pid: child.pid };
}

/** base64 helpers for the harness' binary fields. */
export const b64 = (buf: Uint8Array): string => Buffer.from(buf).toString('base64');
export const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

export interface PeerFixture {
  peer: Peer;
  /** The NTLM_USER_FILE the peer reads: one `DOMAIN:user:password` line. */
  userFile: string;
  close(): Promise<void>;
}

/**
 * The interop suites' fixture: a temp NTLM_USER_FILE holding `domain:user:password`
 * and a harness reading it (the TS server gets the same file). `env` adds peer variables.
 */
export async function startPeerWithUser(domain: string, user: string, password: string, env: Record<string, string> = {}): Promise<PeerFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ntlm-interop-'));
  const userFile = join(dir, 'users');
  writeFileSync(userFile, `${domain}:${user}:${password}\n`);
  try {
    const peer = await startPeer({ NTLM_USER_FILE: userFile, ...env });
    return {
      peer,
      userFile,
      async close() {
        await peer.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Inside a describe: the fallback backend and a peer fixture for the suite
 * (NETBIOS names SRV1 / the domain). Read `peer` and `userFile` in tests.
 */
export function usePeerSuite(domain: string, user: string, password: string, setBackend: (name: 'fallback') => void): { readonly peer: Peer; readonly userFile: string } {
  let fixture: PeerFixture | undefined;
  beforeAll(async () => {
    setBackend('fallback');
    fixture = await startPeerWithUser(domain, user, password, { NETBIOS_COMPUTER_NAME: 'SRV1', NETBIOS_DOMAIN_NAME: domain });
  });
  afterAll(async () => {
    await fixture?.close();
  });
  return {
    get peer() {
      return fixture!.peer;
    },
    get userFile() {
      return fixture!.userFile;
    },
  };
}
