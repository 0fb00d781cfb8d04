/**
 * The opaque handles this package hands out (CredHandle, CtxtHandle). They
 * hold every secret of the package, so util.inspect and JSON.stringify show
 * only non-secret state, and free/delete zero the key buffers.
 */
import { inspect } from 'node:util';
import type { CredentialUse, CredHandleRef, CtxtHandleRef } from '../backend/types.js';
import { SspiError } from '../errors.js';
import type { SessionSecurity, Role, SecretBuffer } from './session-security.js';
import type { StoredUser, UserIndex } from './users.js';
import type { ReplayCache, ServerNames } from './server-config.js';
import type { SpnegoState } from './spnego.js';

export type PackageName = 'NTLM' | 'Negotiate';

export class FallbackCredential implements CredHandleRef {
  readonly kind = 'cred' as const;
  freed = false;
  /** Outbound: the identity, with its NT hash computed once. */
  user = '';
  domain = '';
  ntHash: Buffer | null = null;
  /** Inbound: the user store, its index, the server's names and the NTProofStr replay cache. */
  users: StoredUser[] = [];
  userIndex: UserIndex = new Map();
  names: ServerNames | null = null;
  replay: ReplayCache | null = null;

  constructor(
    readonly packageName: PackageName,
    readonly use: CredentialUse,
  ) {}

  secretBuffers(): Buffer[] {
    const out = this.users.map((u) => u.ntHash);
    if (this.ntHash) out.push(this.ntHash);
    return out;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const b of this.secretBuffers()) b.fill(0);
    this.userIndex.clear();
    this.replay?.clear();
  }

  private describe(): Record<string, unknown> {
    return { kind: this.kind, package: this.packageName, use: this.use, freed: this.freed, ...(this.use !== 'inbound' ? { user: this.user, domain: this.domain } : {}), ...(this.use !== 'outbound' ? { users: this.users.length } : {}) };
  }

  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  [inspect.custom](): string {
    return `FallbackCredential ${inspect(this.describe())}`;
  }
}

/** 'mech-selected': an SPNEGO acceptor chose NTLM and waits for the NEGOTIATE (RFC 4178 §5, optimistic token discarded). */
export type ContextState = 'mech-selected' | 'negotiate-sent' | 'challenge-sent' | 'established' | 'deleted';

export class FallbackContext implements CtxtHandleRef {
  readonly kind = 'ctxt' as const;
  state: ContextState;
  /** ISC_REQ_* / ASC_REQ_* asked for, and the *_RET_* bits granted. */
  reqFlags = 0;
  attributes = 0;
  /** NegotiateFlags in force. */
  negFlags = 0;
  target = '';
  clientName = '';
  serverName = '';
  /** Handshake transcript for the MIC; dropped once established. */
  negotiateMsg: Buffer | null = null;
  challengeMsg: Buffer | null = null;
  serverChallenge: Buffer | null = null;
  challengeIssuedAt = 0;
  session: SessionSecurity | null = null;
  /** The SPNEGO layer of a Negotiate context; null for NTLM and for raw NTLMSSP under Negotiate. */
  spnego: SpnegoState | null = null;
  start = 0;
  expiry = 0;

  constructor(
    readonly role: Role,
    readonly packageName: PackageName,
    state: ContextState,
  ) {
    this.state = state;
  }

  secretBuffers(): SecretBuffer[] {
    return this.session ? this.session.secretBuffers() : [];
  }

  /** DeleteSecurityContext: zero keys and RC4 state, forget the transcript. */
  delete(): void {
    if (this.state === 'deleted') return;
    this.state = 'deleted';
    this.session?.wipe();
    this.negotiateMsg = null;
    this.challengeMsg = null;
    this.serverChallenge?.fill(0);
    this.serverChallenge = null;
  }

  private describe(): Record<string, unknown> {
    return { kind: this.kind, package: this.packageName, role: this.role, state: this.state, ...(this.state === 'established' ? { clientName: this.clientName, serverName: this.serverName } : {}) };
  }

  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  [inspect.custom](): string {
    return `FallbackContext ${inspect(this.describe())}`;
  }
}

export function asCred(h: unknown, op: string): FallbackCredential {
  if (!(h instanceof FallbackCredential) || h.freed) throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the credential handle is not valid (freed, or not from this package)');
  return h;
}

export function asContext(h: unknown, op: string): FallbackContext {
  if (!(h instanceof FallbackContext) || h.state === 'deleted') throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context handle is not valid (deleted, or not from this package)');
  return h;
}

export function asEstablished(h: unknown, op: string): FallbackContext & { session: SessionSecurity } {
  const ctx = asContext(h, op);
  if (ctx.state !== 'established' || !ctx.session || (ctx.spnego && ctx.spnego.phase !== 'complete')) throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the security context is not yet established');
  return ctx as FallbackContext & { session: SessionSecurity };
}
