// Shared by the hardening tests: an NTLM logon of one identity against a user store.
import { api, runLegs } from '../helpers/handshake';

export type Who = { user: string; domain: string; password: string };

/** A full handshake: the client logs on as `who` against a store (`{ users, allowBlankPassword? }`). Throws what a leg throws. */
export async function logonPair(who: Who, store: Record<string, unknown>, target = 'HOST/localhost') {
  const clientCred = await api.Credentials.acquire({ package: 'NTLM', use: 'outbound', identity: who });
  const serverCred = await api.Credentials.acquire({ package: 'NTLM', use: 'inbound', ...store });
  const client = new api.ClientContext(clientCred, { target });
  const server = new api.ServerContext(serverCred);
  const close = () => {
    client.close();
    server.close();
    clientCred.close();
    serverCred.close();
  };
  try {
    await runLegs(client, server);
  } catch (e) {
    close();
    throw e;
  }
  return { client, server, close };
}
