// A worker thread: loads the addon in its own environment and runs handshakes.
import { parentPort, workerData } from 'node:worker_threads';
import { backend, binding, handshake, ntlmIdentity, providerIdentity } from './helpers.mjs';

const msg = Buffer.from('from a worker');
let done = 0;
const run = async (pkg) => {
  const h = await handshake(pkg, { identity: pkg === 'NTLM' ? ntlmIdentity : providerIdentity });
  const sig = backend.makeSignature(h.cc, msg);
  if (pkg === 'SspiTest') backend.verifySignature(h.sc, msg, sig);
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
