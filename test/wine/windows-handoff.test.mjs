// Real Windows only (windows-latest): the runner's own credentials through Negotiate,
// the server context handed to a child process, names.clientName and GetUserNameW under
// impersonate() checked against the runner account. Under Wine every token is the one
// Unix user and Wine's packages lack export, so handoff.test.mjs covers it with SspiTest.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { binding, establishPublic, isWine } from './helpers.mjs';

const require = createRequire(import.meta.url);
const apiPath = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const skip = isWine || process.platform !== 'win32' ? 'real Windows only' : false;

/** Authenticate (as the runner, or as `identity`), hand the server context to a child, and report. */
async function handOff(pkg, identity) {
  const api = require(apiPath);
  api.setBackend('native');
  const { c, s, close } = await establishPublic(api, pkg, { identity, target: `HOST/${process.env.COMPUTERNAME ?? 'localhost'}` });
  const serverName = s.names.clientName;
  const child = fork(fileURLToPath(new URL('./windows-handoff-child.mjs', import.meta.url)), [apiPath], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const ready = await new Promise((r) => child.once('message', r));
  const exp = await s.export({ deleteOld: true });
  const envelope = api.encodeHandoff(exp, { targetPid: ready.pid });
  const sealed = c.encrypt(Buffer.from('from the client'));
  child.send({ envelope, sealed });
  const res = await new Promise((r) => child.once('message', r));
  assert.equal(res.error, undefined, res.error);
  assert.equal(res.plaintext, 'from the client');
  assert.notEqual(res.threadDuring, null);
  assert.equal(res.threadAfter, null);
  assert.equal(binding.threadTokenSid(), null);
  exp.dispose();
  close();
  return { serverName, res };
}

describe('handoff with the runner account (windows-latest)', { skip }, () => {
  const me = `${process.env.USERDOMAIN}\\${process.env.USERNAME}`.toLowerCase();
  for (const pkg of ['Negotiate', 'NTLM']) {
    it(`${pkg}: child imports, names the runner, impersonates it`, async () => {
      const { serverName, res } = await handOff(pkg);
      assert.equal(serverName.toLowerCase(), me);
      assert.equal(res.clientName.toLowerCase(), me);
      assert.equal(res.userDuring.toLowerCase(), String(process.env.USERNAME).toLowerCase());
    });
  }

  // CI creates a second local account (SSPI_TEST_*): impersonating it really changes who the thread is.
  const other = process.env.SSPI_TEST_USER;
  it('NTLM with another local account: the child impersonates that user, not the runner', { skip: other ? false : 'SSPI_TEST_USER not set' }, async () => {
    const identity = { user: other, domain: process.env.SSPI_TEST_DOMAIN ?? '', password: process.env.SSPI_TEST_PASSWORD ?? '' };
    const { serverName, res } = await handOff('NTLM', identity);
    assert.equal(serverName.split('\\').pop().toLowerCase(), other.toLowerCase());
    assert.equal(res.clientName.split('\\').pop().toLowerCase(), other.toLowerCase());
    assert.equal(res.userDuring.toLowerCase(), other.toLowerCase());
    assert.notEqual(res.userDuring.toLowerCase(), String(process.env.USERNAME).toLowerCase());
  });
});
