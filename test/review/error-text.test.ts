// Review finding: error messages that quote what a peer sent. Messages end up in
// logs (examples/http-negotiate prints `auth: ${err.message}` per refused leg), so
// peer text must not be able to start a new log line or repaint a terminal, and a
// 64 KiB token must not become a 64 KiB message. Found by authenticating with
// target 'HTTP/x\r\n<forged line>' against a server with targetNames, and by a
// NegTokenInit listing thousands of mechanisms.
import { describe, expect, it } from 'vitest';
import { api, runLegs } from '../helpers/handshake';
// The DER writer of the package, to build a NegTokenInit like a browser's (RFC 4178 §4.2.1).
import { encodeInitialToken, encodeMechTypes } from '../../lib/fallback/spnego-der';
import { useClosers } from './fixtures';

api.setBackend('fallback');
const { Credentials, ClientContext, ServerContext, SspiError } = api;
const who = { domain: 'CONTOSO', user: 'alice', password: 'Passw0rd!review' };

const closers = useClosers();

async function creds(pkg: string) {
  const out = await Credentials.acquire({ package: pkg, use: 'outbound', identity: who });
  const inb = await Credentials.acquire({ package: pkg, use: 'inbound', users: [who] });
  closers.push(() => out.close(), () => inb.close());
  return { out, inb };
}

describe('peer text in error messages', () => {
  it('MsvAvTargetName with CR LF and ESC is quoted, not copied raw (SEC_E_LOGON_DENIED)', async () => {
    const { out, inb } = await creds('NTLM');
    const target = 'HTTP/evil\r\n2026-01-01 auth: ok CONTOSO\\admin\u001b[2J' + 'x'.repeat(4000);
    const client = new ClientContext(out, { target });
    const server = new ServerContext(inb, { targetNames: ['HTTP/good.example.com'] });
    closers.push(() => client.close(), () => server.close());
    const err = await runLegs(client, server).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SspiError);
    const e = err as InstanceType<typeof SspiError>;
    expect(e.code).toBe('SEC_E_LOGON_DENIED');
    expect(e.operation).toBe('AcceptSecurityContext');
    expect(e.message).toContain('HTTP/evil');
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(e.message.length).toBeLessThan(1000);
  });

  it('a NegTokenInit with 10,000 foreign mechanisms gives a short SEC_E_LOGON_DENIED', async () => {
    const { inb } = await creds('Negotiate');
    const oids = Array.from({ length: 10_000 }, (_, i) => `1.2.${i + 1}`);
    const token = encodeInitialToken(encodeMechTypes(oids));
    expect(token.length).toBeLessThan(64 * 1024); // within what the acceptor reads
    const server = new ServerContext(inb);
    closers.push(() => server.close());
    const err = await server.step(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SspiError);
    const e = err as InstanceType<typeof SspiError>;
    expect(e.code).toBe('SEC_E_LOGON_DENIED');
    expect(e.message).toContain('1.2.1,');
    expect(e.message.length).toBeLessThan(1000);
  });
});
