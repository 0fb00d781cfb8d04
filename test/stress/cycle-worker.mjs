// A worker_threads body for test/stress/concurrency.test.ts: `cycles` rounds
// of handshake -> export -> import -> seal/unseal -> close, each with a user
// name unique to this worker and round, checking every name it sees.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const api = require('../../dist/index.js');
api.setBackend('fallback');

const { index, cycles, usersPerWorker } = workerData;
const DOMAIN = `W${index}`;
const users = Array.from({ length: usersPerWorker }, (_, u) => ({ domain: DOMAIN, user: `w${index}u${u}`, password: `pw-${index}-${u}` }));
const key = randomBytes(32);

const server = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', users });
const clients = await Promise.all(users.map((identity) => api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity })));

for (let i = 0; i < cycles; i++) {
  const u = i % usersPerWorker;
  const c = new api.ClientContext(clients[u], { target: `HOST/w${index}` });
  const s = new api.ServerContext(server);
  let input;
  for (;;) {
    const r = await c.step(input);
    if (!r.token) break;
    const t = await s.step(r.token);
    input = t.token;
    if (!input) break;
  }
  const expected = `${DOMAIN}\\${users[u].user}`;
  if (s.names.clientName !== expected) throw new Error(`cycle ${i}: server names ${s.names.clientName}, expected ${expected}`);
  const exported = await s.export({ deleteOld: i % 2 === 0, resetNew: false });
  let imported;
  if (i % 5 === 0) {
    imported = await api.importContext(api.encodeHandoff(exported, { key }), { key });
    exported.dispose();
  } else {
    imported = await api.importContext(exported);
    exported.dispose();
  }
  if (imported.names.clientName !== expected) throw new Error(`cycle ${i}: imported names ${imported.names.clientName}, expected ${expected}`);
  const msg = Buffer.from(`worker ${index} cycle ${i}`);
  if (!imported.decrypt(c.encrypt(msg)).equals(msg)) throw new Error(`cycle ${i}: unseal mismatch`);
  if (!c.decrypt(imported.encrypt(msg)).equals(msg)) throw new Error(`cycle ${i}: reverse unseal mismatch`);
  c.close();
  s.close();
  imported.close();
  if ((i + 1) % 25 === 0) parentPort.postMessage({ progress: i + 1 });
}
for (const cr of clients) cr.close();
server.close();
parentPort.postMessage({ done: cycles });
