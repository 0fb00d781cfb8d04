/**
 * Channel adapters: every target or source sendContext/receiveContext accepts,
 * reduced to one interface. The pid a channel reports is where the envelope is
 * bound (and, on Windows, where the token is duplicated): it comes from the
 * channel object itself, never from anything the peer says.
 *
 * Electron shapes are recognised by their documented members, without
 * importing electron:
 * - UtilityProcess (https://www.electronjs.org/docs/latest/api/utility-process):
 *   `postMessage(message, transfer?)`, `on('message', (message) => ...)`,
 *   `pid` (undefined before spawn and after exit), `kill()`, `on('exit')`.
 * - MessagePortMain (https://www.electronjs.org/docs/latest/api/message-port-main):
 *   `postMessage(message, transfer?)`, `on('message', (e) => e.data)`,
 *   `start()` (messages queue until it is called), `close()`, `on('close')`.
 * - ParentPort, a utility process's `process.parentPort`
 *   (https://www.electronjs.org/docs/latest/api/parent-port):
 *   `postMessage(message)`, `on('message', (e) => e.data)`.
 */
import { ChildProcess } from 'node:child_process';
import { MessagePort, Worker } from 'node:worker_threads';
import { SspiError } from '../errors.js';
import type { TransferMessage } from './messages.js';

/** What Electron's utilityProcess.fork() returns, as far as the transfer needs it. */
export interface UtilityProcessLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  kill(): boolean;
  readonly pid: number | undefined;
}

/** Electron's MessagePortMain (main process side of a MessageChannelMain). */
export interface MessagePortMainLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  start(): void;
  close(): void;
}

/** Electron's `process.parentPort` in a utility process. */
export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

export type ChannelKind = 'child-process' | 'parent-process' | 'worker' | 'message-port' | 'utility-process' | 'message-port-main' | 'parent-port';

export interface Channel {
  readonly kind: ChannelKind;
  /** The object the adapter wraps (identity for per-channel state). */
  readonly target: object;
  /**
   * Whether a sender may keep a listener on the channel between transfers (to
   * catch Hellos early). Only for handles that keep the event loop alive by
   * themselves anyway; a listener on a port or on `process` would keep this
   * process running.
   */
  readonly keepListening: boolean;
  post(m: TransferMessage): void;
  /** Listen for messages and for the channel closing; returns the detach function. */
  listen(onMessage: (m: unknown) => void, onClose: () => void): () => void;
  /** The process on the other end, as the channel reports it; undefined when it is gone. */
  peerPid(): number | undefined;
}

const closed = (op: string) => new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the channel is closed');
const fn = (o: object, k: string) => typeof (o as Record<string, unknown>)[k] === 'function';

function ipcChannel(p: ChildProcess | NodeJS.Process, op: string): Channel {
  const isChild = p !== process;
  if (typeof p.send !== 'function' || !p.connected) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the IPC channel is not connected');
  const child = p as ChildProcess;
  return {
    kind: isChild ? 'child-process' : 'parent-process',
    target: p,
    keepListening: isChild,
    post: (m) => {
      if (!p.connected) throw closed(op);
      // With a callback a failed send is reported there, not as an 'error' event nobody handles.
      p.send!(m, undefined, undefined, () => undefined);
    },
    listen: (onMessage, onClose) => {
      p.on('message', onMessage);
      p.once('disconnect', onClose);
      if (isChild) child.once('exit', onClose);
      return () => {
        p.off('message', onMessage);
        p.off('disconnect', onClose);
        if (isChild) child.off('exit', onClose);
      };
    },
    // The child's pid from the spawn; the parent's from the OS.
    peerPid: () => (!p.connected ? undefined : isChild ? (child.exitCode === null && child.signalCode === null ? child.pid : undefined) : process.ppid),
  };
}

/** Node's Worker and MessagePort: structured clone in this process. */
function threadChannel(port: Worker | MessagePort, op: string): Channel {
  const isWorker = port instanceof Worker;
  let open = true;
  const closeEvent = isWorker ? 'exit' : 'close';
  const markClosed = () => (open = false);
  port.once(closeEvent, markClosed);
  return {
    kind: isWorker ? 'worker' : 'message-port',
    target: port,
    keepListening: isWorker,
    post: (m) => {
      if (!open) throw closed(op);
      port.postMessage(m);
    },
    listen: (onMessage, onClose) => {
      port.on('message', onMessage);
      port.once(closeEvent, onClose);
      return () => {
        port.off('message', onMessage);
        port.off(closeEvent, onClose);
      };
    },
    // Threads and ports share this process: the token is duplicated into it.
    peerPid: () => (open ? process.pid : undefined),
  };
}

function utilityChannel(u: UtilityProcessLike, op: string): Channel {
  let open = typeof u.pid === 'number';
  if (!open) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the utility process is not running (no pid)');
  const markClosed = () => (open = false);
  u.on('exit', markClosed);
  return {
    kind: 'utility-process',
    target: u,
    keepListening: true,
    post: (m) => {
      if (!open) throw closed(op);
      u.postMessage(m);
    },
    listen: (onMessage, onClose) => {
      u.on('message', onMessage);
      u.on('exit', onClose);
      return () => {
        u.off('message', onMessage);
        u.off('exit', onClose);
      };
    },
    peerPid: () => (open ? u.pid : undefined),
  };
}

/** MessagePortMain and ParentPort deliver `{ data, ports }` events. */
function eventPortChannel(port: MessagePortMainLike | ParentPortLike, kind: 'message-port-main' | 'parent-port', pid: number, op: string): Channel {
  let open = true;
  const markClosed = () => (open = false);
  const main = kind === 'message-port-main' ? (port as MessagePortMainLike) : undefined;
  main?.on('close', markClosed);
  return {
    kind,
    target: port,
    keepListening: false,
    post: (m) => {
      if (!open) throw closed(op);
      port.postMessage(m);
    },
    listen: (onMessage, onClose) => {
      const unwrap = (e: { data: unknown }) => onMessage(typeof e === 'object' && e !== null ? e.data : undefined);
      port.on('message', unwrap);
      main?.on('close', onClose);
      // A MessagePortMain queues messages until start() (idempotent).
      main?.start();
      return () => {
        port.off('message', unwrap);
        main?.off('close', onClose);
      };
    },
    peerPid: () => (open ? pid : undefined),
  };
}

export type SendTarget = ChildProcess | Worker | MessagePort | UtilityProcessLike | MessagePortMainLike | ParentPortLike | NodeJS.Process;

const BAD_TARGET = 'the channel must be a ChildProcess, Worker, MessagePort, UtilityProcess, MessagePortMain or process';

function makeChannel(t: object, op: string): Channel {
  if (t instanceof ChildProcess || t === process) return ipcChannel(t as ChildProcess | NodeJS.Process, op);
  if (t instanceof Worker || t instanceof MessagePort) return threadChannel(t, op);
  if (fn(t, 'postMessage') && fn(t, 'on') && fn(t, 'off')) {
    if (fn(t, 'kill') && 'pid' in t) return utilityChannel(t as UtilityProcessLike, op);
    if (fn(t, 'start') && fn(t, 'close')) return eventPortChannel(t as MessagePortMainLike, 'message-port-main', process.pid, op);
    // Electron's process.parentPort: the other end is the process that forked this one.
    if (t === (process as { parentPort?: unknown }).parentPort) return eventPortChannel(t as ParentPortLike, 'parent-port', process.ppid, op);
  }
  // A ChildProcess from another copy of node:child_process (or a look-alike): recognise it by shape.
  if (fn(t, 'send') && 'stdio' in t && 'pid' in t) return ipcChannel(t as ChildProcess, op);
  throw new SspiError('SEC_E_INVALID_PARAMETER', op, BAD_TARGET);
}

// One adapter per channel object, so its close listeners are added once.
const adapters = new WeakMap<object, Channel>();

/** The adapter for `t`; SEC_E_INCOMPLETE_MESSAGE when that channel is already closed. */
export function channelOf(t: unknown, op: string): Channel {
  if (typeof t !== 'object' || t === null) throw new SspiError('SEC_E_INVALID_PARAMETER', op, BAD_TARGET);
  let ch = adapters.get(t);
  if (!ch) {
    ch = makeChannel(t, op);
    adapters.set(t, ch);
  }
  if (ch.peerPid() === undefined) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', op, 'the channel is closed');
  return ch;
}
