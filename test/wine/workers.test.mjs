// worker_threads: the context-aware addon loads in 4 workers at once, each runs
// handshakes; terminating a worker mid-call neither crashes the process nor leaks handles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { handleCount, handshake, hasProvider, identityFor } from './helpers.mjs';

const CHILD = fileURLToPath(new URL('./workers-child.mjs', import.meta.url));
const pkgs = hasProvider() ? ['SspiTest', 'NTLM', 'SspiTest', 'NTLM'] : ['NTLM', 'NTLM', 'Negotiate', 'Negotiate'];

function finish(w) {
  return new Promise((resolve, reject) => {
    let result;
    w.on('message', (m) => (result = m));
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exit ${code}`))));
  });
}

describe('worker_threads', () => {
  it('4 workers load the addon at once and run handshakes', async () => {
    const rounds = (p) => (p.startsWith('SspiTest') ? 50 : 5);
    const workers = pkgs.map((packageName) => new Worker(CHILD, { workerData: { packageName, rounds: rounds(packageName) } }));
    const results = await Promise.all(workers.map(finish));
    assert.deepEqual(results.map((r) => r.done), pkgs.map(rounds));
    for (const r of results) assert.equal(r.threadToken, null);
    // The main thread's addon instance still works.
    const main = hasProvider() ? 'SspiTest' : 'NTLM';
    const h = await handshake(main, { identity: identityFor(main) });
    h.close();
  });

  it('terminating workers mid-call: no crash, no leaked handles', async () => {
    const pkg = hasProvider() ? 'SspiTest' : 'NTLM';
    const once = async (delay) => {
      const w = new Worker(CHILD, { workerData: { packageName: pkg, mode: 'forever' } });
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      await sleep(delay);
      await w.terminate();
    };
    for (let i = 0; i < 3; i++) await once(20 + i * 10); // warm-up
    await sleep(200);
    const before = handleCount();
    for (let i = 0; i < 12; i++) await once(5 + (i % 4) * 15);
    await sleep(500);
    const after = handleCount();
    assert.ok(after <= before + 4, `handles ${before} -> ${after}`);
    const h = await handshake(pkg, { identity: identityFor(pkg) });
    h.close();
  });
});
