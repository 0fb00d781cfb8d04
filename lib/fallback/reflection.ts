/**
 * NTLM reflection (MS08-068): an attacker hands this process's own server
 * challenge to a client of this process and sends the answer back.
 *
 * Clients record the challenges they answer (with their target); servers
 * record, when they can tell, which local client's NEGOTIATE started each
 * challenge (the token object itself reached them, an in-process loopback).
 * A server then refuses an AUTHENTICATE for its own challenge that a local
 * client produced when:
 * - the challenge was started by a different local client's NEGOTIATE (the
 *   attacker's), or
 * - it cannot tell who started it (the bytes came over a wire) and the
 *   answering client's target does not name this server. A client aiming at
 *   this server itself is the local-call case Windows lets through.
 */
import { MAX_SKEW_MS, type NtlmPolicy, type ServerNames } from './server-config.js';

const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: T;
  expires: number;
}

/** A bounded map whose entries live for the challenge lifetime. */
class ChallengeMap<T> {
  readonly #m = new Map<string, Entry<T>>();

  set(challenge: Buffer, value: T, now: number): void {
    for (const [k, v] of this.#m) {
      if (v.expires > now && this.#m.size < MAX_ENTRIES) break;
      this.#m.delete(k);
    }
    this.#m.set(challenge.toString('hex'), { value, expires: now + MAX_SKEW_MS });
  }

  get(challenge: Buffer, now: number): T | undefined {
    const e = this.#m.get(challenge.toString('hex'));
    return e && e.expires > now ? e.value : undefined;
  }
}

// Clients are told apart by a number, not held: a WeakRef keeps its target alive until
// the microtask queue drains, and a loop of awaited handshakes never drains it (the soak
// kept every context, 5 GiB an hour).
const clientIds = new WeakMap<object, number>();
let nextClientId = 1;
function idOf(client: object): number {
  let id = clientIds.get(client);
  if (id === undefined) {
    id = nextClientId++;
    clientIds.set(client, id);
  }
  return id;
}

const negotiateOrigin = new WeakMap<Buffer, number>();
const startedBy = new ChallengeMap<number>();
const answeredBy = new ChallengeMap<{ client: number; target: string }>();

/** A local client produced this NEGOTIATE (or SPNEGO token carrying it). */
export function markNegotiate(token: Buffer, client: object): void {
  negotiateOrigin.set(token, idOf(client));
}

/** The server issued `challenge` for this NEGOTIATE token object. */
export function recordChallengeIssued(challenge: Buffer, negotiateToken: Buffer, now = Date.now()): void {
  const origin = negotiateOrigin.get(negotiateToken);
  if (origin !== undefined) startedBy.set(challenge, origin, now);
}

/** A local client answered `challenge`, meaning to reach `target`. */
export function recordAnsweredChallenge(challenge: Buffer, client: object, target: string, now = Date.now()): void {
  answeredBy.set(challenge, { client: idOf(client), target }, now);
}

/** The host of an SPN (`HTTP/host:port`, `HTTP@host`), lower-cased. */
export function spnHost(spn: string): string {
  const at = spn.indexOf('@');
  const slash = spn.indexOf('/');
  let host = at >= 0 && (slash < 0 || at < slash) ? spn.slice(at + 1) : slash >= 0 ? spn.slice(slash + 1) : spn;
  const extra = host.indexOf('/');
  if (extra >= 0) host = host.slice(0, extra);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    host = host.slice(1, close > 0 ? close : undefined);
  } else if (host.split(':').length === 2) {
    host = host.slice(0, host.indexOf(':'));
  }
  return host.toLowerCase();
}

function namesThisServer(spn: string, policy: NtlmPolicy, names: ServerNames): boolean {
  if (spn === '') return false;
  if (policy.targetNames) return policy.targetNames.some((t) => t.toLowerCase() === spn.toLowerCase() || spnHost(t) === spnHost(spn));
  const host = spnHost(spn);
  const own = [names.dnsComputer, names.nbComputer, names.dnsComputer.split('.')[0] ?? '', 'localhost', '127.0.0.1', '::1'];
  return own.some((n) => n.toLowerCase() === host);
}

/** Why an AUTHENTICATE for `challenge` is a reflection, or undefined when it is not one. */
export function reflectionOf(challenge: Buffer, policy: NtlmPolicy, names: ServerNames, now = Date.now()): string | undefined {
  const answer = answeredBy.get(challenge, now);
  if (!answer) return undefined;
  const started = startedBy.get(challenge, now);
  if (started !== undefined) {
    return started === answer.client ? undefined : 'a client of this process answered a challenge that another client started';
  }
  return namesThisServer(answer.target, policy, names) ? undefined : `a client of this process answered this server's own challenge for another target (${answer.target || 'no target'})`;
}
