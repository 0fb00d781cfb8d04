/** The initiator: NEGOTIATE, then AUTHENTICATE in answer to the CHALLENGE (MS-NLMP 3.1.5.1). */
import { hostname } from 'node:os';
import { SspiError } from '../errors.js';
import { AvId, AUTH_MIC_OFFSET, filetimeNow, MSV_AV_FLAG_MIC_PRESENT, NegFlag, OFFERED_FLAGS } from './constants.js';
import { decodeUtf16, invalidToken, utf16 } from './bytes.js';
import { encodeAvPairs, findAv, parseAvPairs, type AvPair } from './av-pairs.js';
import { encodeAuthenticate, encodeNegotiate, parseChallenge } from './messages.js';
import { clientChallengeBlob, computeMic, lmv2Response, ntowfv2, ntProofStr, sessionBaseKey } from './ntlmv2.js';
import { rc4Once } from './rc4.js';
import { random } from './random.js';
import { SessionSecurity } from './session-security.js';
import { FallbackContext, type FallbackCredential } from './handles.js';
import { contextAttributes, NEVER_EXPIRES } from './attributes.js';
import { belowKeyFloor, keyBits, type NtlmPolicy } from './server-config.js';
import { markNegotiate, recordAnsweredChallenge } from './reflection.js';

const OP = 'InitializeSecurityContextW';

const WORKSTATION = utf16((hostname().split('.')[0] || '').toUpperCase().slice(0, 15));

export function clientStart(cred: FallbackCredential, reqFlags: number, target: string | undefined): { ctx: FallbackContext; token: Buffer } {
  const ctx = new FallbackContext('client', cred.packageName, 'negotiate-sent');
  ctx.reqFlags = reqFlags;
  ctx.target = target ?? '';
  ctx.negFlags = OFFERED_FLAGS;
  ctx.negotiateMsg = encodeNegotiate(OFFERED_FLAGS);
  ctx.attributes = contextAttributes('client', reqFlags, 0);
  markNegotiate(ctx.negotiateMsg, ctx);
  return { ctx, token: ctx.negotiateMsg };
}

/** Windows clients without channel bindings send 16 zero bytes (SSPI-CONTRACTS §8). */
const NO_BINDINGS = Buffer.alloc(16);

/**
 * The client's copy of the server's target info: MsvAvFlags gains MIC_PRESENT,
 * MsvAvTargetName and MsvAvChannelBindings are added (MS-NLMP 3.1.5.1.2).
 */
function clientTargetInfo(serverPairs: readonly AvPair[], target: string, bindingsHash: Buffer | undefined): Buffer {
  const pairs: AvPair[] = [];
  let avFlags = MSV_AV_FLAG_MIC_PRESENT;
  let hasTarget = false;
  for (const p of serverPairs) {
    if (p.id === AvId.Flags) {
      if (p.value.length !== 4) throw invalidToken(OP, 'MsvAvFlags is not 4 bytes');
      avFlags |= p.value.readUInt32LE(0);
      continue;
    }
    if (p.id === AvId.TargetName) hasTarget = true;
    // A server has no business sending bindings; ours replace any.
    if (p.id !== AvId.ChannelBindings) pairs.push(p);
  }
  const flagsValue = Buffer.allocUnsafe(4);
  flagsValue.writeUInt32LE(avFlags >>> 0, 0);
  pairs.push({ id: AvId.Flags, value: flagsValue });
  if (!hasTarget && target) pairs.push({ id: AvId.TargetName, value: utf16(target) });
  pairs.push({ id: AvId.ChannelBindings, value: bindingsHash ?? NO_BINDINGS });
  return encodeAvPairs(pairs);
}

export function clientFinish(ctx: FallbackContext, cred: FallbackCredential, challengeMsg: Buffer, policy: NtlmPolicy): Buffer {
  if (!cred.ntHash) throw new SspiError('SEC_E_NO_CREDENTIALS', OP, 'the credential has no outbound identity');
  const chal = parseChallenge(challengeMsg, OP);
  if (!(chal.flags & NegFlag.EXTENDED_SESSIONSECURITY)) {
    throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, 'the server did not agree to NTLMv2 extended session security; NTLMv1 and LM are refused as insecure');
  }
  if (!(chal.flags & NegFlag.UNICODE)) {
    throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, 'the server did not agree to Unicode strings; OEM-only NTLM is not supported');
  }
  const negFlags = (chal.flags & OFFERED_FLAGS) >>> 0;
  // NTLMMinClientSec: a CHALLENGE that drops NEG_128 (a downgrade, or an old server) gets no answer.
  if (belowKeyFloor(negFlags, policy.minimumKeyBits)) {
    throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, `the server agreed only to ${keyBits(negFlags)}-bit session keys; ${policy.minimumKeyBits}-bit is required (minimumSecurity)`);
  }
  const serverPairs = chal.targetInfo.length ? parseAvPairs(chal.targetInfo, OP) : [];
  const tsValue = findAv(serverPairs, AvId.Timestamp);
  if (tsValue && tsValue.length !== 8) throw invalidToken(OP, 'MsvAvTimestamp is not 8 bytes');
  const timestamp = tsValue ? tsValue.readBigUInt64LE(0) : filetimeNow();

  const clientChallenge = random(8);
  const responseKeyNT = ntowfv2(cred.ntHash, cred.user, cred.domain);
  const blob = clientChallengeBlob(timestamp, clientChallenge, clientTargetInfo(serverPairs, ctx.target, policy.bindingsHash));
  const proof = ntProofStr(responseKeyNT, chal.serverChallenge, blob);
  // With a server timestamp, MS-NLMP 3.1.5.1.2 sends Z(24) as the LM response.
  const lmResponse = tsValue ? Buffer.alloc(24) : lmv2Response(responseKeyNT, chal.serverChallenge, clientChallenge);
  const keyExchangeKey = sessionBaseKey(responseKeyNT, proof);
  responseKeyNT.fill(0);

  let exportedSessionKey: Buffer;
  let encryptedRandomSessionKey: Buffer;
  if (negFlags & NegFlag.KEY_EXCH) {
    exportedSessionKey = random(16);
    encryptedRandomSessionKey = rc4Once(keyExchangeKey, exportedSessionKey);
    keyExchangeKey.fill(0);
  } else {
    exportedSessionKey = keyExchangeKey;
    encryptedRandomSessionKey = Buffer.alloc(0);
  }

  const auth = encodeAuthenticate({
    flags: negFlags,
    lmResponse,
    ntResponse: Buffer.concat([proof, blob]),
    domain: utf16(cred.domain),
    user: utf16(cred.user),
    workstation: WORKSTATION,
    encryptedRandomSessionKey,
  });
  computeMic(exportedSessionKey, ctx.negotiateMsg!, challengeMsg, auth).copy(auth, AUTH_MIC_OFFSET);
  recordAnsweredChallenge(chal.serverChallenge, ctx, ctx.target);

  ctx.negFlags = negFlags;
  ctx.session = SessionSecurity.derive(exportedSessionKey, negFlags, 'client');
  ctx.clientName = cred.domain ? `${cred.domain}\\${cred.user}` : cred.user;
  const dnsName = findAv(serverPairs, AvId.DnsComputerName);
  const nbName = findAv(serverPairs, AvId.NbComputerName);
  ctx.serverName =
    ctx.target ||
    (dnsName ? decodeUtf16(dnsName, OP, 'MsvAvDnsComputerName') : nbName ? decodeUtf16(nbName, OP, 'MsvAvNbComputerName') : decodeUtf16(chal.targetName, OP, 'TargetName'));
  ctx.attributes = contextAttributes('client', ctx.reqFlags, negFlags);
  ctx.negotiateMsg = null;
  ctx.start = Date.now();
  ctx.expiry = NEVER_EXPIRES;
  ctx.state = 'established';
  return auth;
}
