// examples/electron: main.js needs Electron, which CI does not install, so it
// is syntax-checked only; helper.js runs for real, forked with a stand-in
// process.parentPort, and this test plays the main process through a
// UtilityProcess-shaped object (helpers.ts).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, establish } from '../helpers/handshake.js';
import { next, PARENT_PORT_SHIM, spawnChild, UtilityProcessShape } from './helpers.js';

const dir = fileURLToPath(new URL('../../examples/electron/', import.meta.url));

beforeAll(() => api.setBackend('fallback'));

describe('examples/electron', () => {
  it('main.js and helper.js are valid JavaScript (node --check)', () => {
    for (const f of ['main.js', 'helper.js']) expect(() => execFileSync(process.execPath, ['--check', dir + f], { stdio: 'pipe' })).not.toThrow();
    expect(() => execFileSync(process.execPath, ['--check', '-e', 'syntax error ('], { stdio: 'pipe' })).toThrow(); // the check can fail
  });

  it('helper.js receives the context from a utility-process parent and acts for the client', async () => {
    const h = await establish();
    const child = spawnChild('', undefined, { module: dir + 'helper.js', execArgv: ['--require', PARENT_PORT_SHIM] });
    const helper = new UtilityProcessShape(child);
    await api.sendContext(helper, h.server);
    expect(h.server.closed).toBe(true);
    const reply = next<{ clientName: string; plaintext: string; sealed: string; pid: number }>(child, 'reply');
    helper.postMessage({ kind: 'sealed', data: h.client.encrypt(Buffer.from('hello from the client')).toString('base64') });
    const r = await reply;
    expect(r).toMatchObject({ clientName: 'CONTOSO\\alice', plaintext: 'hello from the client', pid: child.pid });
    expect(h.client.decrypt(Buffer.from(r.sealed, 'base64')).toString()).toBe(`CONTOSO\\alice, this is utility process ${child.pid}`);
    h.close();
  });
});
