// Shared by the transfer tests: receivers in real child processes and worker
// threads (child.mjs), and by-hand peers that speak the wire protocol
// (docs/transfer-protocol.md) to misbehave on purpose.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker, type MessagePort } from 'node:worker_threads';
import { afterEach, expect } from 'vitest';
import { api, apiPath } from '../helpers/handshake.js';

export const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
export const env = { ...process.env, SSPI_CONTEXT_BACKEND: 'fallback' };
const live: Array<ChildProcess | Worker> = [];

afterEach(async () => {
  for (const p of live.splice(0)) {
    if (p instanceof Worker) await p.terminate();
    else if (p.exitCode === null && p.signalCode === null) p.kill();
  }
});

export const PARENT_PORT_SHIM = fileURLToPath(new URL('./parent-port-shim.cjs', import.meta.url));

export function spawnChild(mode: string, arg?: string, opts: { stdout?: 'pipe'; execArgv?: string[]; module?: string } = {}): ChildProcess {
  const args = opts.module ? [] : [apiPath, mode, ...(arg ? [arg] : [])];
  const p = fork(opts.module ?? CHILD, args, { env, execArgv: opts.execArgv ?? [], stdio: ['ignore', opts.stdout ?? 'inherit', 'inherit', 'ipc'] });
  live.push(p);
  return p;
}

/**
 * An Electron UtilityProcess (https://www.electronjs.org/docs/latest/api/utility-process)
 * over a real forked child: an EventEmitter with postMessage(message, transfer?),
 * kill(), `pid` (undefined once it exited), 'message' (the message itself), 'exit' (code).
 */
export class UtilityProcessShape extends EventEmitter {
  pid: number | undefined;
  readonly #child: ChildProcess;

  constructor(child: ChildProcess) {
    super();
    this.#child = child;
    this.pid = child.pid;
    child.on('message', (m) => this.emit('message', m));
    child.once('exit', (code) => {
      this.pid = undefined;
      this.emit('exit', code ?? 1);
    });
  }

  postMessage(message: unknown, _transfer?: unknown[]): void {
    this.#child.send(message as object);
  }

  kill(): boolean {
    return this.#child.kill();
  }
}

export function spawnWorker(mode: string, arg?: string): Worker {
  const w = new Worker(CHILD, { workerData: { apiPath, mode, arg }, env });
  live.push(w);
  return w;
}

export function next<T = Record<string, unknown>>(t: ChildProcess | Worker | MessagePort, kind: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { kind?: string; error?: string }) => {
      if (m?.kind === 'error') reject(new Error(m.error));
      else if (m?.kind === kind) {
        t.off('message', on);
        resolve(m as T);
      }
    };
    t.on('message', on);
  });
}

export type SspiErrorT = InstanceType<typeof api.SspiError>;

/** The SspiError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function rejection(p: Promise<unknown>): Promise<SspiErrorT> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(api.SspiError);
  return e as SspiErrorT;
}

export const hexId = (): string => randomBytes(16).toString('hex');

/** A raw X25519 public key as a receiver publishes it (RFC 8037 JWK `x`). */
export function rawPublicKey(): string {
  return generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!;
}

export interface RawEnvelope {
  type: 'sspi-context/envelope';
  listener: string;
  transfer: string;
  publicKey: string;
  envelope: string;
}

/**
 * A receiver on `port` that says Hello with `publicKey` (again on each
 * Solicit) and hands each envelope to `onEnvelope`.
 */
export function rawReceiver(port: MessagePort, onEnvelope: (m: RawEnvelope) => void, hello: Record<string, unknown> = {}): { listener: string } {
  const h = { type: 'sspi-context/hello', listener: hexId(), publicKey: rawPublicKey(), ...hello };
  port.postMessage(h);
  port.on('message', (m: { type?: string; listener?: string }) => {
    if (m?.type === 'sspi-context/solicit') port.postMessage(h);
    else if (m?.type === 'sspi-context/envelope' && m.listener === h.listener) onEnvelope(m as RawEnvelope);
  });
  return { listener: h.listener as string };
}
