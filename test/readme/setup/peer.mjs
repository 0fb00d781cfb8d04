// Setup for README blocks that authenticate a client (<!-- readme-test: run setup=peer -->).
// globalThis.peer plays the client: peer.exchange(serverToken) feeds the server's last token
// (undefined at first) to a Negotiate ClientContext and resolves to the client's next token.
// Off Windows the fallback server reads its users from NTLM_USER_FILE, set here.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientContext, Credentials } from 'sspi-context';

const identity = { domain: 'CONTOSO', user: 'alice', password: 'Readme-Passw0rd!' };
if (process.platform !== 'win32' && !process.env.NTLM_USER_FILE) {
  const file = join(mkdtempSync(join(tmpdir(), 'readme-users-')), 'users.txt');
  writeFileSync(file, `${identity.domain}:${identity.user}:${identity.password}\n`);
  process.env.NTLM_USER_FILE = file;
}

let client;
globalThis.peer = {
  async exchange(serverToken) {
    if (!client) {
      const cred = await Credentials.acquire({ package: 'Negotiate', use: 'outbound', ...(process.platform === 'win32' ? {} : { identity }) });
      client = new ClientContext(cred, { target: 'HOST/localhost' });
    }
    const r = await client.step(serverToken);
    return r.token;
  },
};
