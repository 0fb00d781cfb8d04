// Nothing the fallback keeps between handshakes may hold a closed context alive. A loop of
// awaited handshakes runs in one job (no macrotask in between), where V8 keeps every
// WeakRef target alive (KeepDuringJob); the reflection maps once held contexts that way,
// and the soak grew without bound.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const api = createRequire(import.meta.url)('../../dist/index.js');
api.setBackend('fallback');
const { Credentials, ClientContext, ServerContext, importContext } = api;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('retention', () => {
  it('2,000 handshake/export/import/close cycles in one job leave the heap flat', async () => {
    for (const pkg of ['NTLM', 'Negotiate']) {
      const users = [{ domain: 'EXAMPLE', user: 'alice', password: 'Passw0rd!retention' }];
      const client = await Credentials.acquire({ package: pkg, use: 'outbound', identity: { domain: 'EXAMPLE', user: 'alice', password: 'Passw0rd!retention' } });
      const server = await Credentials.acquire({ package: pkg, use: 'inbound', users });
      const cycle = async () => {
        const c = new ClientContext(client, { target: 'HOST/localhost' });
        const s = new ServerContext(server);
        let input: Buffer | undefined;
        for (let i = 0; i < 4; i++) {
          const r = await c.step(input);
          if (!r.token) break;
          const a = await s.step(r.token);
          input = a.token;
          if (!input) break;
        }
        const imported = await importContext(await s.export({ deleteOld: true }));
        imported.decrypt(c.encrypt(Buffer.from('x')));
        imported.close();
        c.close();
        s.close();
      };
      for (let i = 0; i < 100; i++) await cycle();
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 2000; i++) await cycle();
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      // 2,000 retained contexts are over 5 MiB; what stays is the bounded challenge maps (~2 MiB).
      expect(grown, `${pkg}: heap grew ${grown} bytes`).toBeLessThan(3.5 * 2 ** 20);
      client.close();
      server.close();
    }
  }, 60_000);
});
