// Setup for README blocks that start an HTTP server (<!-- readme-test: run setup=http -->).
// The block's listen() is moved to an ephemeral port; once it listens, a Negotiate client
// (this library's ClientContext over one keep-alive connection, RFC 4559 section 4) requests
// /, prints the final status and body, and closes the server so the block's process ends.
import http from 'node:http';
import { ClientContext, Credentials } from 'sspi-context';
import './peer.mjs';

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  const server = this;
  const port = typeof args[0] === 'number' ? 1 : 0;
  args.splice(0, port, 0);
  server.once('listening', () => {
    authenticate(server.address().port).then(
      (r) => console.log(`${r.status} ${r.body}`),
      (e) => console.log(`client failed: ${e.message}`),
    ).finally(() => server.close());
  });
  return listen.apply(server, args);
};

function get(agent, port, authorization) {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, port, host: '127.0.0.1', path: '/', headers: authorization ? { authorization } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, www: res.headers['www-authenticate'], body }));
    });
    req.on('error', reject);
  });
}

async function authenticate(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const identity = { domain: 'CONTOSO', user: 'alice', password: 'Readme-Passw0rd!' };
    const cred = await Credentials.acquire({ package: 'Negotiate', use: 'outbound', ...(process.platform === 'win32' ? {} : { identity }) });
    const client = new ClientContext(cred, { target: 'HTTP/localhost' });
    let res = await get(agent, port);
    let serverToken;
    for (let leg = 0; res.status === 401 && leg < 4; leg++) {
      const www = [res.www ?? []].flat().find((h) => h.startsWith('Negotiate'));
      if (www && www.length > 'Negotiate '.length) serverToken = Buffer.from(www.slice('Negotiate '.length), 'base64');
      const r = await client.step(serverToken);
      if (!r.token) break;
      res = await get(agent, port, `Negotiate ${r.token.toString('base64')}`);
    }
    return res;
  } finally {
    agent.destroy();
  }
}
