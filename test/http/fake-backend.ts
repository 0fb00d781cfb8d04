// A scripted backend for the HTTP handler's unit tests: NTLM-shaped framing
// (NEGOTIATE, CHALLENGE, AUTHENTICATE carrying "user:password") without
// cryptography, and bookkeeping of every context so tests can prove each one
// is deleted.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
const { SspiError, SecStatus } = api;

const SIG = Buffer.from('NTLMSSP\0', 'latin1');

export function ntlmLike(type: number, payload = ''): Buffer {
  const head = Buffer.alloc(12);
  SIG.copy(head);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, Buffer.from(payload, 'utf8')]);
}

interface FakeCtx {
  kind: 'ctxt';
  id: number;
  state: 'challenge-sent' | 'established' | 'deleted';
  clientName?: string;
}

export interface FakeBackendOptions {
  password?: string;
  /** A final token on the last leg (like Kerberos mutual authentication). */
  finalToken?: Buffer;
}

export function createFakeBackend(opts: FakeBackendOptions = {}) {
  const password = opts.password ?? 'secret';
  const contexts: FakeCtx[] = [];
  const waiters: Array<() => void> = [];
  let credsFreed = 0;
  const checkWaiters = () => {
    for (const w of waiters.splice(0)) w();
  };
  const backend = {
    name: 'fallback' as const,
    enumerateSecurityPackages: () => [],
    async acquireCredentialsHandle() {
      return { cred: { kind: 'cred' } };
    },
    freeCredentialsHandle() {
      credsFreed++;
    },
    async acceptSecurityContext(_cred: unknown, req: { context: FakeCtx | null; input: Array<{ buffer: Buffer }> }) {
      const token = req.input[0]!.buffer;
      if (token.length < 12 || !token.subarray(0, 8).equals(SIG)) {
        throw new SspiError('SEC_E_INVALID_TOKEN', 'AcceptSecurityContext', 'not NTLMSSP');
      }
      const type = token.readUInt32LE(8);
      if (type === 1 && !req.context) {
        const ctx: FakeCtx = { kind: 'ctxt', id: contexts.length + 1, state: 'challenge-sent' };
        contexts.push(ctx);
        return { context: ctx, status: SecStatus.SEC_I_CONTINUE_NEEDED, output: [{ type: 2, buffer: ntlmLike(2) }], contextAttributes: 0 };
      }
      if (type === 3 && req.context && req.context.state === 'challenge-sent') {
        const [user, pw] = token.subarray(12).toString('utf8').split(':');
        if (pw !== password) throw new SspiError('SEC_E_LOGON_DENIED', 'AcceptSecurityContext', 'wrong password');
        req.context.state = 'established';
        req.context.clientName = `FAKE\\${user}`;
        const output = opts.finalToken ? [{ type: 2, buffer: opts.finalToken }] : [];
        return { context: req.context, status: SecStatus.SEC_E_OK, output, contextAttributes: 0 };
      }
      throw new SspiError('SEC_E_INVALID_TOKEN', 'AcceptSecurityContext', 'out of order');
    },
    queryContextAttributes(ctx: FakeCtx, attr: string) {
      if (attr === 'names') return { clientName: ctx.clientName };
      throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', 'QueryContextAttributesW');
    },
    deleteSecurityContext(ctx: FakeCtx) {
      ctx.state = 'deleted';
      checkWaiters();
    },
  };
  return {
    backend,
    contexts,
    get credsFreed() {
      return credsFreed;
    },
    /** Live (not deleted) contexts. */
    live: () => contexts.filter((c) => c.state !== 'deleted').length,
    /** Resolves once every context created so far is deleted. */
    allDeleted(): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (contexts.every((c) => c.state === 'deleted')) resolve();
          else waiters.push(check);
        };
        check();
      });
    },
  };
}
