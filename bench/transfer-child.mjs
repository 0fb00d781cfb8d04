// The forked side of the handoff bench (bench/transfer.mjs): a receiver that
// listens again after each import, and an echo for the bare IPC round trip.
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('../dist/index.js');
api.setBackend('fallback');

process.on('message', (m) => {
  // The baseline: answer a message shaped and sized like an envelope with one shaped like a result.
  if (m?.type === 'bench/echo') process.send({ type: 'bench/echo-ack', listener: m.listener, transfer: m.transfer, ok: true, proof: m.publicKey.slice(0, 22) });
  else if (m?.type === 'bench/cpu') process.send({ type: 'bench/cpu', usage: process.cpuUsage() });
  else if (m?.type === 'bench/stop') process.exit(0);
});

for (;;) {
  const ctx = await api.receiveContext({ timeoutMs: 0 });
  ctx.close();
}
