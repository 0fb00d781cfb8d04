// Review finding: close() while a handshake leg is inside the package. The native
// backend runs AcceptSecurityContext/InitializeSecurityContext on a worker thread,
// so close() can come in between: from the application, from handler.close(), or
// from negotiateHandler when the client's socket closes mid-handshake. Before the
// fix, close() deleted the handle under the running call (DeleteSecurityContext
// racing ASC on the same CtxtHandle), and the leg's result then put a handle back
// into the "closed" context, which nothing closed again: a leaked context.
//
// The backend below is a double of that contract (learn.microsoft.com,
// AcceptSecurityContext: the first call returns a new phNewContext; the handle is
// the caller's until DeleteSecurityContext; using a deleted handle is undefined),
// whose calls finish only when the test says so.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/handshake';
import { ntlmLike } from '../http/fake-backend';
import { expectSspiError, failureOf, useClosers } from './fixtures';

const { Credentials, ServerContext, negotiateHandler, SecStatus } = api;

interface Handle {
  id: number;
  inCall: boolean;
  deleted: number;
  deletedInCall: boolean;
}

function gatedBackend() {
  const handles: Handle[] = [];
  const gates: Array<() => void> = [];
  let entered: () => void = () => undefined;
  const backend = {
    name: 'fallback' as const,
    enumerateSecurityPackages: () => [],
    async acquireCredentialsHandle() {
      return { cred: { kind: 'cred' } };
    },
    freeCredentialsHandle() {},
    async acceptSecurityContext(_cred: unknown, req: { context: Handle | null }) {
      const h = req.context ?? { id: handles.length + 1, inCall: false, deleted: 0, deletedInCall: false };
      if (!req.context) handles.push(h);
      h.inCall = true;
      entered();
      await new Promise<void>((resolve) => gates.push(resolve));
      h.inCall = false;
      const first = !req.context;
      return { context: h, status: first ? SecStatus.SEC_I_CONTINUE_NEEDED : SecStatus.SEC_E_OK, output: [{ type: 2, buffer: ntlmLike(2) }], contextAttributes: 0 };
    },
    queryContextAttributes() {
      return { clientName: 'FAKE\\u' };
    },
    deleteSecurityContext(h: Handle) {
      h.deleted++;
      if (h.inCall) h.deletedInCall = true;
    },
  };
  return {
    backend,
    handles,
    /** Resolves when a call is inside the package. */
    nextCall: () => new Promise<void>((resolve) => (entered = resolve)),
    release: () => gates.shift()!(),
  };
}

const cleanups = useClosers();

describe('close() during a step', () => {
  it('first leg: the handle the package returns is deleted, and the step is SEC_E_INVALID_HANDLE', async () => {
    const g = gatedBackend();
    const cred = await Credentials.acquire({ package: 'NTLM', use: 'inbound', backend: g.backend } as never);
    const server = new ServerContext(cred);
    const inside = g.nextCall();
    const step = server.step(ntlmLike(1));
    await inside;
    server.close();
    g.release();
    expectSspiError(await failureOf(() => step), 'SEC_E_INVALID_HANDLE', 'AcceptSecurityContext');
    expect(g.handles).toHaveLength(1);
    expect(g.handles[0]!.deleted).toBe(1);
    expect(server.isEstablished).toBe(false);
    await expect(server.step(ntlmLike(3))).rejects.toMatchObject({ code: 'SEC_E_INVALID_HANDLE' });
  });

  it('later leg: the handle is not deleted under the running call, and is deleted once after it', async () => {
    const g = gatedBackend();
    const cred = await Credentials.acquire({ package: 'NTLM', use: 'inbound', backend: g.backend } as never);
    const server = new ServerContext(cred);
    let inside = g.nextCall();
    const leg1 = server.step(ntlmLike(1));
    await inside;
    g.release();
    await leg1;
    inside = g.nextCall();
    const leg2 = server.step(ntlmLike(3));
    await inside;
    server.close();
    expect(g.handles[0]!.deleted).toBe(0);
    g.release();
    await expect(leg2).rejects.toMatchObject({ code: 'SEC_E_INVALID_HANDLE', operation: 'AcceptSecurityContext' });
    expect(g.handles[0]!.deletedInCall).toBe(false);
    expect(g.handles[0]!.deleted).toBe(1);
  });

  it('negotiateHandler: a client that disconnects while its leg is in the package leaves no context', async () => {
    const g = gatedBackend();
    const handler = negotiateHandler({ acquire: { backend: g.backend } as never, onAuthenticated: (_q: unknown, res: http.ServerResponse) => res.end('ok') });
    const server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)), () => handler.close(), () => server.closeAllConnections());
    const inside = g.nextCall();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write(`GET / HTTP/1.1\r\nHost: t\r\nAuthorization: NTLM ${ntlmLike(1).toString('base64')}\r\n\r\n`);
    const serverSide = await accepted;
    await inside;
    // The handler's own 'close' listener was added with the request, so it has run when ours does.
    const seenClosed = new Promise((resolve) => serverSide.once('close', resolve));
    socket.destroy();
    await seenClosed;
    g.release();
    // The rest of the leg is promise continuations: they all run before the next setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.handles).toHaveLength(1);
    expect(g.handles[0]!.deleted).toBe(1);
  });
});
