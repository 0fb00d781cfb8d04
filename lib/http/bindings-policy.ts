/**
 * Extended Protection for negotiateHandler: on TLS connections the server's
 * own tls-server-end-point (RFC 5929) is what the client must have bound its
 * NTLM AUTHENTICATE to; a TLS-terminating relay with another certificate
 * yields other bindings. Policy after IIS's tokenChecking; the default is
 * `allow` on TLS and `none` on plain HTTP, where there is no channel.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerContextOptions } from '../context.js';
import { tlsChannelBindings, type ChannelBindingPolicy } from '../channel-bindings.js';
import { SspiError } from '../errors.js';

const POLICIES: readonly ChannelBindingPolicy[] = ['none', 'allow', 'require'];
const bySocket = new WeakMap<Socket, Buffer | null>();

export function checkChannelBindingPolicy(policy: unknown, op: string): ChannelBindingPolicy | undefined {
  if (policy === undefined) return undefined;
  if (!POLICIES.includes(policy as ChannelBindingPolicy)) throw new SspiError('SEC_E_INVALID_PARAMETER', op, "channelBindings must be 'none', 'allow' or 'require'");
  return policy as ChannelBindingPolicy;
}

/** The connection's bindings, computed once; null when it is not TLS or its certificate has no defined hash. */
function socketBindings(socket: Socket): Buffer | null {
  let b = bySocket.get(socket);
  if (b === undefined) {
    b = null;
    if ((socket as TLSSocket).encrypted) {
      try {
        b = tlsChannelBindings(socket as TLSSocket);
      } catch {
        // e.g. an Ed25519 certificate: RFC 5929 defines no hash; under `require` every client is refused.
      }
    }
    bySocket.set(socket, b);
  }
  return b;
}

/** ServerContext options for a handshake on `socket`: the application's, plus the channel's bindings and policy. */
export function serverContextOptions(socket: Socket, policy: ChannelBindingPolicy | undefined, base: ServerContextOptions | undefined): ServerContextOptions | undefined {
  if (base?.channelBindings !== undefined || base?.channelBindingPolicy !== undefined) return base;
  const tls = (socket as TLSSocket).encrypted === true;
  const effective = policy ?? (tls ? 'allow' : 'none');
  if (effective === 'none') return base;
  const bindings = socketBindings(socket);
  return { ...base, ...(bindings ? { channelBindings: bindings } : {}), channelBindingPolicy: effective };
}
