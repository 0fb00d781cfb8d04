// Issue 13, sequence numbers: SeqNum is a u32 (MS-NLMP 2.2.2.9.1), so each
// direction carries 2^32 messages; the next one fails with
// SEC_E_CONTEXT_EXPIRED instead of wrapping to 0 under the same keys. The
// counters are moved next to the limit through the fallback's test hook.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { api, establish } from '../helpers/handshake';

const require = createRequire(import.meta.url);
const internal = require('../../dist/fallback/internal.js');
const { SspiError, importContext } = api;

const LAST = 2 ** 32 - 1;
const handleOf = (ctx: object) => (ctx as unknown as { handle: object }).handle;
const setSeq = (ctx: object, seq: { send?: number; recv?: number }) => internal.setSequenceNumbersForTest(handleOf(ctx), seq);

function statusOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SspiError);
    return (e as { code: string }).code;
  }
}

let session: Awaited<ReturnType<typeof establish>> | undefined;
afterEach(() => {
  session?.close();
  session = undefined;
});

describe('sequence numbers do not wrap', () => {
  it('the message with SeqNum 2^32-1 goes through; the next encrypt fails with SEC_E_CONTEXT_EXPIRED', async () => {
    session = await establish();
    const { client, server } = session;
    setSeq(server, { send: LAST - 1 });
    setSeq(client, { recv: LAST - 1 });
    for (const text of ['second to last', 'last']) expect(client.decrypt(server.encrypt(Buffer.from(text))).toString()).toBe(text);
    expect(statusOf(() => server.encrypt(Buffer.from('one too many')))).toBe('SEC_E_CONTEXT_EXPIRED');
    expect(statusOf(() => server.sign(Buffer.from('one too many')))).toBe('SEC_E_CONTEXT_EXPIRED');
    // The other direction is unaffected.
    expect(server.decrypt(client.encrypt(Buffer.from('reply'))).toString()).toBe('reply');
  });

  it('signatures stop at the limit too', async () => {
    session = await establish();
    const { client, server } = session;
    setSeq(client, { send: LAST });
    setSeq(server, { recv: LAST });
    const sig = client.sign(Buffer.from('last'));
    expect(sig.readUInt32LE(12)).toBe(LAST);
    server.verify(Buffer.from('last'), sig);
    expect(statusOf(() => client.sign(Buffer.from('x')))).toBe('SEC_E_CONTEXT_EXPIRED');
    expect(statusOf(() => client.encrypt(Buffer.from('x')))).toBe('SEC_E_CONTEXT_EXPIRED');
  });

  it('a receiver that consumed SeqNum 2^32-1 refuses anything after, even a message claiming SeqNum 0', async () => {
    session = await establish();
    const { client, server } = session;
    const first = server.encrypt(Buffer.from('seq 0')); // a genuine SeqNum-0 message, kept
    expect(client.decrypt(first).toString()).toBe('seq 0');
    setSeq(server, { send: LAST });
    setSeq(client, { recv: LAST });
    expect(client.decrypt(server.encrypt(Buffer.from('last'))).toString()).toBe('last');
    expect(statusOf(() => client.decrypt(first))).toBe('SEC_E_CONTEXT_EXPIRED');
  });

  it('a used-up context does not export with its counters (which would restart at 0); RESET_NEW still exports', async () => {
    session = await establish();
    const { server } = session;
    setSeq(server, { send: LAST });
    server.encrypt(Buffer.from('last'));
    let code: string | undefined;
    try {
      await server.export();
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe('SEC_E_CONTEXT_EXPIRED');
    const copy = await importContext(await server.export({ resetNew: true }));
    expect(copy.encrypt(Buffer.from('fresh')).readUInt32LE(12)).toBe(0);
    copy.close();
  });
});
