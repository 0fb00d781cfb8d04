/**
 * sendContext / receiveContext: hand a context to a child process, a worker
 * thread or a MessagePort. Each transfer agrees a fresh key with an ephemeral
 * X25519 exchange over the channel, seals the envelope with it, and binds it to
 * the receiver's pid (where a Windows token is duplicated).
 */
import type { ChildProcess } from 'node:child_process';
import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ContextBase, ExportOptions, SecurityContext } from './context.js';
import { SspiError } from './errors.js';
import { encodeHandoff } from './handoff/codec.js';
import { importContext } from './import.js';

const PREFIX = 'sspi-context/';
const DEFAULT_TIMEOUT_MS = 10_000;

type Msg = { type: string; id: string; [k: string]: unknown };

/** A bidirectional message channel, as both ends see it. */
interface Channel {
  send(m: Msg): void;
  on(listener: (m: unknown) => void): void;
  off(listener: (m: unknown) => void): void;
  onClose(listener: () => void): () => void;
  pid(): number | undefined;
}

export type ContextTarget = ChildProcess | Worker | MessagePort;

export interface SendContextOptions extends ExportOptions {
  /** Give up after this long (default 10 s): SEC_E_CONTEXT_EXPIRED. */
  timeoutMs?: number;
  /** Envelope lifetime (default: the time-out). */
  ttlMs?: number;
}

export interface ReceiveContextOptions {
  /** Where the offer arrives: defaults to the parent (IPC channel or parentPort). */
  from?: MessagePort | NodeJS.Process;
  timeoutMs?: number;
}

function isChild(t: unknown): t is ChildProcess {
  return typeof (t as ChildProcess).send === 'function' && 'stdio' in (t as object);
}

function channelOf(t: ContextTarget | NodeJS.Process, op: string): Channel {
  if (isChild(t) || t === process) {
    const p = t as ChildProcess | NodeJS.Process;
    if (typeof p.send !== 'function' || !p.connected) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the IPC channel is not connected');
    return {
      send: (m) => {
        if (!p.connected) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the channel closed during the transfer');
        p.send!(m);
      },
      on: (l) => p.on('message', l),
      off: (l) => p.off('message', l),
      onClose: (l) => {
        p.once('disconnect', l);
        if (p !== process) (p as ChildProcess).once('exit', l);
        return () => {
          p.off('disconnect', l);
          if (p !== process) (p as ChildProcess).off('exit', l);
        };
      },
      pid: () => (p === process ? process.ppid : (p as ChildProcess).pid),
    };
  }
  const port = t as Worker | MessagePort;
  if (typeof port.postMessage !== 'function') throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'target must be a ChildProcess, Worker or MessagePort');
  const isWorker = 'threadId' in port && 'terminate' in port;
  return {
    send: (m) => port.postMessage(m),
    on: (l) => port.on('message', l),
    off: (l) => port.off('message', l),
    onClose: (l) => {
      const ev = isWorker ? 'exit' : 'close';
      port.once(ev, l);
      return () => port.off(ev, l);
    },
    // Threads share the process: the token is duplicated into this same pid.
    pid: () => process.pid,
  };
}

function publicRaw(k: KeyObject): string {
  return k.export({ type: 'spki', format: 'der' }).toString('base64');
}

function deriveKey(priv: KeyObject, peerSpki: string, id: string, a: string, b: string): Buffer {
  const peer = createPublicKey({ key: Buffer.from(peerSpki, 'base64'), format: 'der', type: 'spki' });
  const shared = diffieHellman({ privateKey: priv, publicKey: peer });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.from(id, 'hex'), `sspi-context handoff v1|${a}|${b}`, 32));
  shared.fill(0);
  return key;
}

/** Wait for one message of `type` for transfer `id`, or fail on time-out or close. */
function exchange(ch: Channel, op: string, timeoutMs: number, match: (m: Msg) => boolean): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      ch.off(listener);
      unClose();
      fn();
    };
    const listener = (m: unknown) => {
      const msg = m as Msg;
      if (msg && typeof msg === 'object' && typeof msg.type === 'string' && msg.type.startsWith(PREFIX) && match(msg)) done(() => resolve(msg));
    };
    const timer = setTimeout(() => done(() => reject(new SspiError('SEC_E_CONTEXT_EXPIRED', op, `the transfer timed out after ${timeoutMs} ms`))), timeoutMs);
    const unClose = ch.onClose(() => done(() => reject(new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the channel closed during the transfer'))));
    ch.on(listener);
  });
}

function remoteError(m: Msg, op: string): SspiError {
  const status = typeof m.status === 'number' ? m.status : 'SEC_E_INTERNAL_ERROR';
  return new SspiError(status, op, `the receiver refused the context: ${String(m.detail ?? 'unknown reason')}`);
}

/**
 * Export `ctx` and hand it to `target`, which calls receiveContext(). Resolves
 * once the receiver imported it; then, unless `deleteOld: false`, the local
 * context is deleted (it moved). On any failure the local context is kept.
 */
export async function sendContext(target: ContextTarget, ctx: ContextBase, options: SendContextOptions = {}): Promise<void> {
  const op = 'SendContext';
  const ch = channelOf(target, op);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const id = randomBytes(16).toString('hex');
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const mine = publicRaw(publicKey);
  const accepted = exchange(ch, op, timeoutMs, (m) => m.id === id && m.type === `${PREFIX}accept`);
  ch.send({ type: `${PREFIX}offer`, id, publicKey: mine, packageName: ctx.packageName });
  const accept = await accepted;
  const peerPid = typeof accept.pid === 'number' && accept.pid > 0 ? accept.pid : ch.pid();
  const key = deriveKey(privateKey, String(accept.publicKey), id, mine, String(accept.publicKey));
  // The source is deleted only once the receiver has imported: a refused or
  // lost transfer leaves the sender its context.
  const exported = await ctx.export({ resetNew: options.resetNew ?? false });
  try {
    const envelope = encodeHandoff(exported, { key, ttlMs: options.ttlMs ?? timeoutMs, ...(peerPid ? { targetPid: peerPid } : {}) });
    const result = exchange(ch, op, timeoutMs, (m) => m.id === id && m.type === `${PREFIX}result`);
    ch.send({ type: `${PREFIX}envelope`, id, envelope: envelope.toString('base64') });
    const r = await result;
    if (r.ok !== true) throw remoteError(r, op);
    if (options.deleteOld ?? true) ctx.close();
  } finally {
    key.fill(0);
    exported.dispose();
  }
}

/** The receiving side of sendContext: resolves to the imported context. */
export async function receiveContext(options: ReceiveContextOptions = {}): Promise<SecurityContext> {
  const op = 'ReceiveContext';
  let from: MessagePort | NodeJS.Process | undefined = options.from;
  if (!from) {
    const { parentPort } = await import('node:worker_threads');
    from = parentPort ?? process;
  }
  const ch = channelOf(from as ContextTarget | NodeJS.Process, op);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const offer = await exchange(ch, op, timeoutMs, (m) => m.type === `${PREFIX}offer` && typeof m.id === 'string' && /^[0-9a-f]{32}$/.test(m.id));
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const mine = publicRaw(publicKey);
  let key: Buffer;
  try {
    key = deriveKey(privateKey, String(offer.publicKey), offer.id, String(offer.publicKey), mine);
  } catch {
    throw new SspiError('SEC_E_INVALID_TOKEN', op, 'the offer carried no valid X25519 public key');
  }
  try {
    const envMsg = exchange(ch, op, timeoutMs, (m) => m.id === offer.id && m.type === `${PREFIX}envelope`);
    ch.send({ type: `${PREFIX}accept`, id: offer.id, publicKey: mine, pid: process.pid });
    const env = await envMsg;
    try {
      const ctx = await importContext(Buffer.from(String(env.envelope), 'base64'), { key });
      ch.send({ type: `${PREFIX}result`, id: offer.id, ok: true });
      return ctx;
    } catch (e) {
      const err = e instanceof SspiError ? e : new SspiError('SEC_E_INTERNAL_ERROR', op, 'import failed');
      try {
        ch.send({ type: `${PREFIX}result`, id: offer.id, ok: false, status: err.status, detail: err.code });
      } catch {
        // The sender is gone; the local error is what matters.
      }
      throw err;
    }
  } finally {
    key.fill(0);
  }
}
