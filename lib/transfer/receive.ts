/**
 * receiveContext: listen on a channel, say Hello with a fresh X25519 key, and
 * import the one envelope addressed to this listener. States and refusals:
 * docs/transfer-protocol.md.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { SecurityContext } from '../context.js';
import { SspiError } from '../errors.js';
import { HANDOFF_MAX_PACKED } from '../handoff/codec.js';
import { importContext } from '../import.js';
import { channelOf, type Channel, type MessagePortMainLike, type ParentPortLike } from './channel.js';
import { currentKey, importProof, wipe, type ChannelKey, type TransferKeys } from './keys.js';
import { debug, elapsed, short } from './log.js';
import { newId, readMessage, type EnvelopeMessage, type Hello, type TransferMessage } from './messages.js';
import { startTimer, timeoutOf } from './options.js';

const OP = 'ReceiveContext';
/** Base64 of the largest envelope the codec accepts, with room for the header. */
const MAX_ENVELOPE_CHARS = Math.ceil((HANDOFF_MAX_PACKED + 1024) / 3) * 4;

export interface ReceiveContextOptions {
  /**
   * Where the envelope arrives. Default: the parent, i.e. `parentPort` in a
   * worker thread, `process.parentPort` in an Electron utility process, else
   * this process's IPC channel. Also a MessagePort or a MessagePortMain.
   */
  from?: MessagePort | NodeJS.Process | MessagePortMainLike | ParentPortLike;
  /** Give up after this long (default 10 s; `0` or `Infinity`: no limit): SEC_E_CONTEXT_EXPIRED. */
  timeoutMs?: number;
}

/** One listener's life: it takes at most one envelope. */
type ReceiveState = 'listening' | 'importing' | 'done';

/** This end's X25519 key per channel (keys.ts): each listener says Hello with the current one. */
const channelKeys = new WeakMap<object, ChannelKey>();

function defaultSource(): unknown {
  return parentPort ?? (process as { parentPort?: unknown }).parentPort ?? process;
}

function post(ch: Channel, m: TransferMessage): void {
  try {
    ch.post(m);
  } catch {
    // The sender is gone: what matters is the local result.
  }
}

/** Derive, decrypt and import; answer the sender either way. */
async function take(ch: Channel, me: ChannelKey, listener: string, m: EnvelopeMessage): Promise<SecurityContext> {
  let keys: TransferKeys | undefined;
  try {
    keys = me.transferKeys(m.publicKey, listener, m.transfer, true, OP);
    if (m.envelope.length > MAX_ENVELOPE_CHARS) throw new SspiError('SEC_E_INVALID_TOKEN', OP, 'the envelope is too large');
    const ctx = await importContext(Buffer.from(m.envelope, 'base64'), { key: keys.envelope });
    post(ch, { type: 'sspi-context/result', ok: true, listener, transfer: m.transfer, proof: importProof(keys) });
    return ctx;
  } catch (e) {
    const err = e instanceof SspiError ? e : new SspiError('SEC_E_INTERNAL_ERROR', OP, 'the import failed');
    // Only the status goes back: our text stays here.
    post(ch, { type: 'sspi-context/result', ok: false, listener, transfer: m.transfer, status: err.status });
    throw err;
  } finally {
    wipe(keys);
  }
}

/**
 * The receiving side of sendContext: resolves to the imported context. Each
 * call is one listener with its own key; with several in flight on one
 * channel, each envelope reaches exactly the one it was sealed for.
 *
 * @throws SspiError SEC_E_INVALID_PARAMETER (bad option), SEC_E_CONTEXT_EXPIRED
 *   (nothing arrived in time), SEC_E_INCOMPLETE_MESSAGE (the channel closed),
 *   SEC_E_INVALID_TOKEN (bad sender key or envelope), or the import's failure.
 */
export async function receiveContext(options: ReceiveContextOptions = {}): Promise<SecurityContext> {
  if (typeof options !== 'object' || options === null) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'options must be an object');
  const timeoutMs = timeoutOf(options.timeoutMs, OP);
  const ch = channelOf(options.from ?? defaultSource(), OP);
  const listener = newId();
  const me = currentKey(channelKeys, ch.target);
  const hello: Hello = { type: 'sspi-context/hello', listener, publicKey: me.key.publicKey };
  const t0 = debug.enabled ? performance.now() : 0;
  const envelope = await new Promise<EnvelopeMessage>((resolve, reject) => {
    let state: ReceiveState = 'listening';
    const stop = (): void => {
      state = 'done';
      stopTimer();
      detach();
    };
    const onMessage = (raw: unknown): void => {
      if (state !== 'listening') return;
      const m = readMessage(raw);
      if (m?.type === 'sspi-context/solicit') post(ch, hello);
      else if (m?.type === 'sspi-context/envelope' && m.listener === listener) {
        stop();
        state = 'importing';
        resolve(m);
      }
    };
    const onClose = (): void => {
      channelKeys.get(ch.target)?.wipe();
      channelKeys.delete(ch.target);
      if (state !== 'listening') return;
      stop();
      reject(new SspiError('SEC_E_INCOMPLETE_MESSAGE', OP, 'the channel closed before an envelope arrived'));
    };
    const stopTimer = startTimer(timeoutMs, () => {
      if (state !== 'listening') return;
      stop();
      post(ch, { type: 'sspi-context/withdraw', listener });
      reject(new SspiError('SEC_E_CONTEXT_EXPIRED', OP, `no envelope arrived within ${timeoutMs} ms`));
    });
    const detach = ch.listen(onMessage, onClose);
    try {
      ch.post(hello);
    } catch (e) {
      stop();
      reject(e);
    }
    if (debug.enabled) debug('receive %s: listening on %s', short(listener), ch.kind);
  });
  if (debug.enabled) debug('receive %s: envelope %s after %s', short(listener), short(envelope.transfer), elapsed(t0));
  try {
    const ctx = await take(ch, me, listener, envelope);
    if (debug.enabled) debug('receive %s: imported after %s', short(listener), elapsed(t0));
    return ctx;
  } catch (e) {
    if (debug.enabled) debug('receive %s: refused (%s)', short(listener), e instanceof SspiError ? e.code : 'error');
    throw e;
  }
}
