/**
 * sendContext: seal an exported context for one listening receiver and hand it
 * over in one round trip (envelope, then result). States and refusals:
 * docs/transfer-protocol.md.
 */
import { ContextBase, type ExportOptions } from '../context.js';
import { SspiError } from '../errors.js';
import type { StatusCode } from '../status.js';
import { encodeHandoff } from '../handoff/codec.js';
import { channelOf, type Channel, type SendTarget } from './channel.js';
import { checkProof, currentKey, wipe, type ChannelKey, type TransferKeys } from './keys.js';
import { debug, elapsed, short } from './log.js';
import { newId, type Hello } from './messages.js';
import { Deadline, timeoutOf } from './options.js';
import { SenderLink, type Outcome } from './sender-link.js';

const OP = 'SendContext';
/** Envelope lifetimes the codec accepts: 1 ms to 24 h (checked before the export, so a bad one costs nothing). */
const MAX_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_TTL_MS = 30_000;

export type ContextTarget = SendTarget;

export interface SendContextOptions extends ExportOptions {
  /**
   * Give up after this long (default 10 s; `0` or `Infinity`: no limit):
   * SEC_E_CONTEXT_EXPIRED. Before the envelope leaves, the context stays here;
   * after, it is gone (fail closed) and the receiver may hold it.
   */
  timeoutMs?: number;
  /** Envelope lifetime, 1 ms to 24 h (default: the time-out, at most 30 s). */
  ttlMs?: number;
  /**
   * Only for a MessagePortMain, whose other end may be in any process: the pid
   * that holds it (`utilityProcess.pid`, `webContents.getOSProcessId()`).
   * Default: this process. Other channels report their peer themselves.
   */
  targetPid?: number;
  /** Must be true or absent: a handoff moves the context (SECPKG_CONTEXT_EXPORT_DELETE_OLD). */
  deleteOld?: boolean;
}

/** Where a transfer is; a failure's meaning for the sender's context depends on it. */
type SendState = 'awaiting-listener' | 'sealing' | 'exported' | 'sent';

const links = new WeakMap<object, SenderLink>();
/** This end's X25519 key per channel (keys.ts). */
const channelKeys = new WeakMap<object, ChannelKey>();
const sending = new WeakSet<ContextBase>();

function linkFor(ch: Channel): SenderLink {
  let link = links.get(ch.target);
  if (!link) {
    link = new SenderLink(ch, OP, () => {
      links.delete(ch.target);
      channelKeys.get(ch.target)?.wipe();
      channelKeys.delete(ch.target);
    });
    links.set(ch.target, link);
  }
  return link;
}

const GONE = 'the context was exported with DELETE_OLD and is gone from this process';

/** Failures after the export: the context cannot come back, and the error says so. */
function gone(status: number | StatusCode, what: string, mayHold: boolean): SspiError {
  return new SspiError(status, OP, `${what}; ${GONE}${mayHold ? ', and the receiver may hold it' : ''}`);
}

/** A refusal carries a failure status and nothing else: anything that is not one is SEC_E_INTERNAL_ERROR. */
function refusalStatus(status: unknown): number | StatusCode {
  if (typeof status !== 'number' || !Number.isInteger(status)) return 'SEC_E_INTERNAL_ERROR';
  if (status < -0x80000000 || status > 0xffffffff) return 'SEC_E_INTERNAL_ERROR';
  const u = status >>> 0;
  return u >= 0x80000000 ? u : 'SEC_E_INTERNAL_ERROR'; // severity bit: only errors refuse
}

function outcomeError(o: Outcome, keys: TransferKeys): SspiError | undefined {
  switch (o.kind) {
    case 'imported':
      // Only the holder of the transfer key can make this proof: an "ok" from anyone else proves nothing.
      return checkProof(keys, o.proof) ? undefined : gone('SEC_E_INTERNAL_ERROR', 'the receiver answered with an acknowledgement that does not verify', true);
    case 'refused':
      return gone(refusalStatus(o.status), 'the receiver refused the context', false);
    case 'withdrawn':
      return gone('SEC_E_CONTEXT_EXPIRED', 'the receiver stopped listening before it took the envelope', false);
    case 'closed':
      return gone('SEC_E_CONTEXT_EXPIRED', 'the channel closed before the receiver acknowledged', true);
  }
}

function checkOptions(options: SendContextOptions, ch: Channel) {
  if (typeof options !== 'object' || options === null) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'options must be an object');
  const timeoutMs = timeoutOf(options.timeoutMs, OP);
  if (options.deleteOld !== undefined && options.deleteOld !== true) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'a handoff moves the context (deleteOld cannot be false); use export() and encodeHandoff() to make a copy');
  }
  if (options.resetNew !== undefined && typeof options.resetNew !== 'boolean') throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'resetNew must be a boolean');
  const ttl = options.ttlMs ?? Math.min(timeoutMs ?? DEFAULT_TTL_MS, DEFAULT_TTL_MS);
  if (typeof ttl !== 'number' || !(ttl >= 1 && ttl <= MAX_TTL_MS)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, `ttlMs must be from 1 to ${MAX_TTL_MS} ms`);
  const { targetPid } = options;
  if (targetPid !== undefined) {
    if (ch.kind !== 'message-port-main') throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'targetPid is only for a MessagePortMain; other channels report their peer themselves');
    if (!Number.isInteger(targetPid) || targetPid <= 0 || targetPid > 0xffffffff) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'targetPid must be a positive 32-bit integer');
  }
  return { timeoutMs, ttlMs: ttl, resetNew: options.resetNew ?? false, targetPid };
}

/**
 * Export `ctx` and hand it to the receiver listening on `target` (which
 * called receiveContext()). Resolves once the receiver proved it imported the
 * context. The context moves: the export uses DELETE_OLD, so after the
 * envelope is sealed the context is gone here whatever happens next, and a
 * refused or unanswered transfer cannot give it back (the error says so).
 *
 * @throws SspiError SEC_E_INVALID_PARAMETER (bad target or option),
 *   SEC_E_INVALID_HANDLE (ctx not established), SEC_E_INCOMPLETE_MESSAGE
 *   (channel closed before the envelope left), SEC_E_INVALID_TOKEN (bad peer
 *   key), SEC_E_CONTEXT_EXPIRED (time-out, or no answer once the envelope
 *   left), or the receiver's failure status.
 */
export async function sendContext(target: ContextTarget, ctx: ContextBase, options: SendContextOptions = {}): Promise<void> {
  if (!(ctx instanceof ContextBase)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'ctx must be a security context');
  const ch = channelOf(target, OP);
  const opts = checkOptions(options, ch);
  if (!ctx.isEstablished) throw new SspiError('SEC_E_INVALID_HANDLE', OP, 'the context is not established or is closed');
  if (sending.has(ctx)) throw new SspiError('SEC_E_INVALID_PARAMETER', OP, 'this context is already being sent');
  sending.add(ctx);
  const link = linkFor(ch);
  const transfer = newId();
  const deadline = new Deadline(opts.timeoutMs);
  const t0 = debug.enabled ? performance.now() : 0;
  let state: SendState = 'awaiting-listener';
  let keys: TransferKeys | undefined;
  try {
    const claim = link.claim();
    const hello: Hello = await deadline.race(claim.listener, () => new SspiError('SEC_E_CONTEXT_EXPIRED', OP, `no receiver listened within ${opts.timeoutMs} ms; the context is still here`), claim.cancel);
    state = 'sealing';
    if (debug.enabled) debug('send %s: listener %s after %s', short(transfer), short(hello.listener), elapsed(t0));
    const mine = currentKey(channelKeys, ch.target);
    let targetPid: number | undefined;
    try {
      keys = mine.transferKeys(hello.publicKey, hello.listener, transfer, false, OP);
      targetPid = ch.kind === 'message-port-main' ? (opts.targetPid ?? process.pid) : ch.peerPid();
      if (targetPid === undefined) throw new SspiError('SEC_E_INCOMPLETE_MESSAGE', OP, 'the receiver process is gone; the context is still here');
    } catch (e) {
      link.release(hello.listener);
      throw e;
    }
    // From here the context is gone: DELETE_OLD, as NtApiDotNet always exports for a handoff.
    const exported = await ctx.export({ deleteOld: true, resetNew: opts.resetNew });
    state = 'exported';
    let envelope: Buffer;
    try {
      envelope = encodeHandoff(exported, { key: keys.envelope, ttlMs: opts.ttlMs, targetPid });
    } catch (e) {
      link.release(hello.listener);
      throw gone(e instanceof SspiError ? e.status : 'SEC_E_INTERNAL_ERROR', 'the envelope could not be made', false);
    } finally {
      exported.dispose();
    }
    state = 'sent';
    if (debug.enabled) debug('send %s: sealed for pid %d, %d bytes, after %s', short(transfer), targetPid, envelope.length, elapsed(t0));
    const d = link.deliver({ type: 'sspi-context/envelope', listener: hello.listener, transfer, publicKey: mine.key.publicKey, envelope: envelope.toString('base64') });
    const outcome = await deadline.race(d.outcome, () => gone('SEC_E_CONTEXT_EXPIRED', `no acknowledgement within ${opts.timeoutMs} ms`, true), d.cancel);
    const err = outcomeError(outcome, keys);
    if (debug.enabled) debug('send %s: %s after %s', short(transfer), err ? `failed (${err.code})` : 'imported', elapsed(t0));
    if (err) throw err;
  } catch (e) {
    if (state === 'awaiting-listener' || state === 'sealing') debug('send %s: stopped before the export (%s); the context is kept', short(transfer), e instanceof SspiError ? e.code : 'error');
    throw e;
  } finally {
    deadline.clear();
    wipe(keys);
    sending.delete(ctx);
  }
}
