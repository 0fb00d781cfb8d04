// The fallback side of `npm run bench`: the same three workloads as
// bench/peer/peer-bench.py, through the public API of the built package.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The CommonJS build (dist/), exactly what `require('sspi-context')` loads. */
export const api = require('../dist/index.js');
api.setBackend('fallback');

// Same identity, names and flags as the peer harness.
export const DOMAIN = 'EXAMPLE';
export const USER = 'alice';
export const PASSWORD = 'Passw0rd!';
export const TARGET = 'HTTP/srv1.example.com';

export async function acquirePair(user = USER, domain = DOMAIN, password = PASSWORD, users = [{ domain, user, password }]) {
  const client = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: { user, domain, password } });
  const server = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users });
  return { client, server, close: () => (client.close(), server.close()) };
}

/**
 * A full NTLMv2 handshake (NEGOTIATE, CHALLENGE, AUTHENTICATE with MIC and
 * key exchange), client and server in this process.
 */
export async function handshake(creds, target = TARGET) {
  const c = new api.ClientContext(creds.client, { target });
  const s = new api.ServerContext(creds.server);
  const negotiate = await c.step();
  const challenge = await s.step(negotiate.token);
  const authenticate = await c.step(challenge.token);
  const last = await s.step(authenticate.token);
  if (!authenticate.done || !last.done) throw new Error('handshake did not complete');
  return { client: c, server: s };
}

/** min / q1 / median / q3 / max (linear interpolation between ranks) and the sample count. */
export function quartiles(values) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => {
    const x = (v.length - 1) * p;
    const lo = Math.floor(x);
    const hi = Math.ceil(x);
    return v[lo] + (v[hi] - v[lo]) * (x - lo);
  };
  return { min: v[0], q1: q(0.25), median: q(0.5), q3: q(0.75), max: v[v.length - 1], samples: v.length };
}
