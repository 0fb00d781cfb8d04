/**
 * The sender's view of one channel: the receivers' Hellos it has seen and not
 * used, the sends waiting for one, and the envelopes waiting for a result.
 *
 * Messages on a channel arrive in order, so every repeat of a Hello (answering
 * a Solicit) reaches us before that listener's result or withdrawal: once either
 * is in, the listener id can be forgotten and no stale Hello is ever reused.
 */
import { SspiError } from '../errors.js';
import type { Channel } from './channel.js';
import { readMessage, type EnvelopeMessage, type Hello, type TransferMessage } from './messages.js';

/** How a sent envelope ended, as far as the channel told us. */
export type Outcome =
  | { readonly kind: 'imported'; readonly proof: string }
  | { readonly kind: 'refused'; readonly status: unknown }
  | { readonly kind: 'withdrawn' }
  | { readonly kind: 'closed' };

interface Waiter {
  resolve(h: Hello): void;
  reject(e: SspiError): void;
}

interface InFlight {
  readonly listener: string;
  settle(o: Outcome): void;
}

export class SenderLink {
  readonly #ch: Channel;
  readonly #op: string;
  /** Unused Hellos, oldest first. */
  readonly #hellos: Hello[] = [];
  /** Listeners a send has taken, until their result or withdrawal. */
  readonly #claimed = new Set<string>();
  readonly #waiting: Waiter[] = [];
  readonly #inFlight = new Map<string, InFlight>();
  #detach: (() => void) | undefined;
  /** Whether a Solicit went out since we started listening: after one, every Hello reaches us. */
  #solicited = false;
  readonly #onGone: () => void;

  constructor(ch: Channel, op: string, onGone: () => void) {
    this.#ch = ch;
    this.#op = op;
    this.#onGone = onGone;
  }

  /** The next listening receiver, claimed for one envelope. */
  claim(): { listener: Promise<Hello>; cancel: () => void } {
    this.#attach();
    const cached = this.#hellos.shift();
    if (cached) {
      this.#claimed.add(cached.listener);
      return { listener: Promise.resolve(cached), cancel: () => undefined };
    }
    let waiter!: Waiter;
    const listener = new Promise<Hello>((resolve, reject) => (waiter = { resolve, reject }));
    this.#waiting.push(waiter);
    // A receiver may have said Hello before we listened: ask it to repeat. Once
    // we have asked, we hear every Hello, so on a channel we keep listening to
    // there is nothing more to ask (a receiver that listens later says Hello).
    if (!this.#solicited || !this.#ch.keepListening) {
      this.#solicited = true;
      this.#post({ type: 'sspi-context/solicit' });
    }
    return {
      listener,
      cancel: () => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        this.#idle();
      },
    };
  }

  /** Give a claimed listener back unused (its Hello was unusable): forget it. */
  release(listener: string): void {
    this.#claimed.delete(listener);
    this.#idle();
  }

  /** Post the envelope; resolves with what the channel says became of it. */
  deliver(m: EnvelopeMessage): { outcome: Promise<Outcome>; cancel: () => void } {
    let settle!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    const entry: InFlight = {
      listener: m.listener,
      settle: (o) => {
        this.#inFlight.delete(m.transfer);
        if (o.kind !== 'closed') this.#claimed.delete(m.listener);
        settle(o);
        this.#idle();
      },
    };
    this.#inFlight.set(m.transfer, entry);
    try {
      this.#ch.post(m);
    } catch {
      entry.settle({ kind: 'closed' });
    }
    return {
      outcome,
      cancel: () => {
        // A lost result: keep the listener claimed, so a late Hello for it is not reused.
        this.#inFlight.delete(m.transfer);
        this.#idle();
      },
    };
  }

  #post(m: TransferMessage): void {
    try {
      this.#ch.post(m);
    } catch {
      // A closed channel is reported through onClose.
    }
  }

  #attach(): void {
    if (!this.#detach) this.#solicited = false;
    this.#detach ??= this.#ch.listen(
      (raw) => this.#onMessage(raw),
      () => this.#onClose(),
    );
  }

  /** Channels that must not keep this process alive are only listened to while something waits. */
  #idle(): void {
    if (this.#ch.keepListening || this.#waiting.length > 0 || this.#inFlight.size > 0 || !this.#detach) return;
    this.#detach();
    this.#detach = undefined;
    // Without a listener a withdrawal would go unseen, so cached Hellos are no longer trusted.
    this.#hellos.length = 0;
  }

  #onMessage(raw: unknown): void {
    const m = readMessage(raw);
    if (!m) return;
    switch (m.type) {
      case 'sspi-context/hello': {
        if (this.#claimed.has(m.listener) || this.#hellos.some((h) => h.listener === m.listener)) return; // a repeat
        const waiter = this.#waiting.shift();
        if (waiter) {
          this.#claimed.add(m.listener);
          waiter.resolve(m);
        } else {
          this.#hellos.push(m);
        }
        return;
      }
      case 'sspi-context/withdraw': {
        const i = this.#hellos.findIndex((h) => h.listener === m.listener);
        if (i >= 0) this.#hellos.splice(i, 1);
        for (const f of this.#inFlight.values()) if (f.listener === m.listener) f.settle({ kind: 'withdrawn' });
        this.#claimed.delete(m.listener);
        return;
      }
      case 'sspi-context/result': {
        const f = this.#inFlight.get(m.transfer);
        if (!f || f.listener !== m.listener) return;
        f.settle(m.ok ? { kind: 'imported', proof: m.proof } : { kind: 'refused', status: m.status });
        return;
      }
      default:
        return; // solicit and envelope are for receivers
    }
  }

  #onClose(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.#hellos.length = 0;
    for (const w of this.#waiting.splice(0)) w.reject(new SspiError('SEC_E_INCOMPLETE_MESSAGE', this.#op, 'the channel closed before a receiver listened; the context is still here'));
    for (const f of [...this.#inFlight.values()]) f.settle({ kind: 'closed' });
    this.#onGone();
  }
}
