// A worker thread: loads the addon in its own environment and runs handshakes.
import { parentPort, workerData } from 'node:worker_threads';
import { backend, binding, handshake, identityFor, isWine } from './helpers.mjs';

const msg = Buffer.from('from a worker');
let done = 0;
const run = async (pkg) => {
  const h = await handshake(pkg, { identity: identityFor(pkg) });
  const sig = backend.makeSignature(h.cc, msg);
  // Wine 8's NTLM derives mismatched keys between client and server (ntlm.test.mjs).
  if (pkg.startsWith('SspiTest') || !isWine) backend.verifySignature(h.sc, msg, sig);
  h.close();
  done++;
};
if (workerData.mode === 'forever') {
  // Runs until terminated, mid-call most of the time.
  parentPort.postMessage({ started: true });
  for (;;) await run(workerData.packageName);
} else {
  for (let i = 0; i < workerData.rounds; i++) await run(workerData.packageName);
  parentPort.postMessage({ done, threadToken: binding.threadTokenSid() });
}
