/**
 * One pool worker, process or thread, behind one small interface: post a
 * message, hear its messages and its exit, stop it politely or kill it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { PoolToWorker } from './messages.js';

export type WorkerKind = 'process' | 'thread';

export interface SpawnOptions {
  kind: WorkerKind;
  /** Absolute path of the worker module. */
  module: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv | undefined;
  execArgv: readonly string[] | undefined;
}

export interface WorkerHandle {
  readonly kind: WorkerKind;
  /** What sendContext is given. */
  readonly target: ChildProcess | Worker;
  /** The child's pid, or this process's pid for a thread. */
  readonly pid: number | undefined;
  /** `closed` when the channel is gone; throws only when `m` cannot be cloned. */
  post(m: PoolToWorker): 'sent' | 'closed';
  onMessage(listener: (m: unknown) => void): void;
  /** Called once, when the worker is gone. */
  onExit(listener: (why: string) => void): void;
  kill(): void;
}

export function spawnWorker(o: SpawnOptions): WorkerHandle {
  return o.kind === 'process' ? spawnProcess(o) : spawnThread(o);
}

function spawnProcess(o: SpawnOptions): WorkerHandle {
  // 'advanced' serialization: jobs and results are structured-cloned, as for threads.
  const child = fork(o.module, [...o.args], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(o.env ? { env: o.env } : {}),
    ...(o.execArgv ? { execArgv: [...o.execArgv] } : {}),
  });
  // Without an 'error' listener a send on a dead channel would crash the pool's process.
  child.on('error', () => {});
  return {
    kind: 'process',
    target: child,
    pid: child.pid,
    post(m) {
      if (!child.connected) return 'closed';
      child.send(m); // v8-serialized synchronously: an uncloneable value throws here
      return 'sent';
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.once('exit', (code, signal) => l(signal ?? `exit ${code}`)),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function spawnThread(o: SpawnOptions): WorkerHandle {
  const worker = new Worker(o.module, {
    argv: [...o.args],
    ...(o.env ? { env: o.env } : {}),
    ...(o.execArgv ? { execArgv: [...o.execArgv] } : {}),
  });
  let exited = false;
  worker.on('error', () => {}); // an uncaught exception in the thread; 'exit' follows
  worker.once('exit', () => (exited = true));
  return {
    kind: 'thread',
    target: worker,
    pid: process.pid,
    post(m) {
      if (exited) return 'closed';
      worker.postMessage(m); // DataCloneError for an uncloneable value
      return 'sent';
    },
    onMessage: (l) => worker.on('message', l),
    onExit: (l) => worker.once('exit', (code) => l(`exit ${code}`)),
    kill: () => {
      if (!exited) void worker.terminate();
    },
  };
}
