/** The acceptor: CHALLENGE in answer to NEGOTIATE, then verification of AUTHENTICATE (MS-NLMP 3.2.5.1). */
import { timingSafeEqual } from 'node:crypto';
import { SspiError } from '../errors.js';
import { AUTH_MIC_OFFSET, AvId, filetimeNow, MSV_AV_FLAG_MIC_PRESENT, NegFlag, OFFERED_FLAGS } from './constants.js';
import { decodeUtf16, invalidToken, utf16 } from './bytes.js';
import { encodeAvPairs, findAv, parseAvPairs } from './av-pairs.js';
import { checkMicRoom, encodeChallenge, parseAuthenticate, parseNegotiate } from './messages.js';
import { computeMic, ntowfv2, ntProofStr, sessionBaseKey } from './ntlmv2.js';
import { rc4Once } from './rc4.js';
import { random } from './random.js';
import { SessionSecurity } from './session-security.js';
import { FallbackContext, type FallbackCredential } from './handles.js';
import { candidates, logonNameProblem } from './users.js';
import { belowKeyFloor, keyBits, MAX_SKEW_MS, type NtlmPolicy } from './server-config.js';
import { recordChallengeIssued, reflectionOf } from './reflection.js';
import { contextAttributes, NEVER_EXPIRES } from './attributes.js';

const OP = 'AcceptSecurityContext';
const SKEW_TICKS = BigInt(MAX_SKEW_MS) * 10000n;

function denied(detail: string): SspiError {
  return new SspiError('SEC_E_LOGON_DENIED', OP, detail);
}

function tooWeak(flags: number, policy: NtlmPolicy, what: string): SspiError {
  return new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, `${what} only ${keyBits(flags)}-bit session keys; ${policy.minimumKeyBits}-bit is required (NTLMMinServerSec, minimumSecurity)`);
}

/** `into`: an SPNEGO context that selected NTLM before the NEGOTIATE arrived. */
/** `negotiateToken`: the token object that carried the NEGOTIATE (an SPNEGO wrapper), for the reflection check. */
export function serverStart(cred: FallbackCredential, reqFlags: number, negotiateMsg: Buffer, policy: NtlmPolicy, into?: FallbackContext, negotiateToken?: Buffer): { ctx: FallbackContext; token: Buffer } {
  const names = cred.names!;
  const neg = parseNegotiate(negotiateMsg, OP);
  if (!(neg.flags & NegFlag.EXTENDED_SESSIONSECURITY)) {
    throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, 'the client did not offer NTLMv2 extended session security; NTLMv1 and LM are refused as insecure');
  }
  if (belowKeyFloor(neg.flags, policy.minimumKeyBits)) throw tooWeak(neg.flags, policy, 'the NEGOTIATE_MESSAGE offers');
  // An OEM-only NEGOTIATE (curl sends one) is answered in Unicode, as Windows
  // does; the AUTHENTICATE must then follow the CHALLENGE's Unicode flag.
  // Only what both sides offer, plus what this server always sets. VERSION is
  // forced, as Windows Server 2022 does, so the MIC offset is unambiguous.
  const flags =
    ((neg.flags & OFFERED_FLAGS) | NegFlag.UNICODE | NegFlag.NTLM | NegFlag.EXTENDED_SESSIONSECURITY | NegFlag.TARGET_INFO | NegFlag.TARGET_TYPE_SERVER | NegFlag.VERSION) >>> 0;

  const ts = Buffer.allocUnsafe(8);
  ts.writeBigUInt64LE(filetimeNow(), 0);
  const targetInfo = encodeAvPairs([
    { id: AvId.NbDomainName, value: utf16(names.nbDomain) },
    { id: AvId.NbComputerName, value: utf16(names.nbComputer) },
    { id: AvId.DnsDomainName, value: utf16(names.dnsDomain) },
    { id: AvId.DnsComputerName, value: utf16(names.dnsComputer) },
    { id: AvId.Timestamp, value: ts },
  ]);
  const serverChallenge = random(8);
  recordChallengeIssued(serverChallenge, negotiateToken ?? negotiateMsg);
  const challenge = encodeChallenge(flags, serverChallenge, utf16(names.nbComputer), targetInfo);

  const ctx = into ?? new FallbackContext('server', cred.packageName, 'challenge-sent');
  ctx.state = 'challenge-sent';
  ctx.reqFlags = reqFlags;
  ctx.negFlags = flags;
  // Kept for the MIC; the caller may reuse its input buffer.
  ctx.negotiateMsg = Buffer.from(negotiateMsg);
  ctx.challengeMsg = challenge;
  ctx.serverChallenge = serverChallenge;
  ctx.challengeIssuedAt = Date.now();
  ctx.serverName = names.dnsComputer;
  ctx.attributes = contextAttributes('server', reqFlags, 0);
  return { ctx, token: challenge };
}

/** Constant-time equality for two 16-byte values. */
function same16(a: Buffer, b: Buffer): boolean {
  return a.length === 16 && b.length === 16 && timingSafeEqual(a, b);
}

function badBindings(detail: string): SspiError {
  return new SspiError('SEC_E_BAD_BINDINGS', OP, detail);
}

/** Extended Protection (MS-NLMP 3.2.5.1.2): compare MsvAvChannelBindings with the server's own channel. */
function checkBindings(clientValue: Buffer | undefined, policy: NtlmPolicy): void {
  if (!policy.bindingsHash) return; // no SECBUFFER_CHANNEL_BINDINGS: not checked (tokenChecking None)
  if (clientValue && clientValue.length !== 16) throw invalidToken(OP, 'MsvAvChannelBindings is not 16 bytes');
  const missing = !clientValue || clientValue.every((b) => b === 0);
  if (missing) {
    if (!policy.allowMissingBindings) throw badBindings('the client sent no channel bindings and this server requires them');
    return;
  }
  if (!same16(clientValue, policy.bindingsHash)) throw badBindings('the channel bindings do not match this connection (a relayed handshake, or a TLS-terminating proxy)');
}

/** Returns whether the AUTHENTICATE carried an NTLM MIC (SPNEGO then requires a mechListMIC, MS-SPNG 3.3.5.1). */
export function serverFinish(ctx: FallbackContext, cred: FallbackCredential, authMsg: Buffer, policy: NtlmPolicy): { micPresent: boolean } {
  const auth = parseAuthenticate(authMsg, OP);
  const flags = (auth.flags & ctx.negFlags) >>> 0;
  const now = Date.now();

  if (auth.user.length === 0 && auth.ntResponse.length === 0) throw denied('anonymous NTLM logons are not accepted');
  if (auth.ntResponse.length === 24) throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, 'the client sent an NTLMv1 response; NTLMv1 and LM are refused as insecure');
  if (!(flags & NegFlag.EXTENDED_SESSIONSECURITY)) throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', OP, 'the AUTHENTICATE_MESSAGE dropped extended session security; NTLMv1 session security is refused');
  // NTProofStr (16) + NTLMv2_CLIENT_CHALLENGE header (28) + MsvAvEOL (4).
  if (auth.ntResponse.length < 48) throw invalidToken(OP, 'the NTLMv2 response is truncated');
  if (belowKeyFloor(flags, policy.minimumKeyBits)) throw tooWeak(flags, policy, 'the AUTHENTICATE_MESSAGE keeps');

  const proof = auth.ntResponse.subarray(0, 16);
  const blob = auth.ntResponse.subarray(16);
  if (blob[0] !== 1 || blob[1] !== 1) throw invalidToken(OP, 'the NTLMv2 client challenge has an unknown version');
  const pairs = parseAvPairs(blob.subarray(28), OP);
  const avFlagsValue = findAv(pairs, AvId.Flags);
  if (avFlagsValue && avFlagsValue.length !== 4) throw invalidToken(OP, 'MsvAvFlags is not 4 bytes');
  const avFlags = avFlagsValue ? avFlagsValue.readUInt32LE(0) : 0;
  const micPresent = (avFlags & MSV_AV_FLAG_MIC_PRESENT) !== 0;
  if (micPresent) checkMicRoom(authMsg, OP);
  if (flags & NegFlag.KEY_EXCH && auth.encryptedRandomSessionKey.length !== 16) {
    throw invalidToken(OP, 'EncryptedRandomSessionKey is not 16 bytes');
  }
  const targetValue = findAv(pairs, AvId.TargetName);
  const targetName = targetValue ? decodeUtf16(targetValue, OP, 'MsvAvTargetName') : '';
  const user = decodeUtf16(auth.user, OP, 'UserName');
  const domain = decodeUtf16(auth.domain, OP, 'DomainName');
  const nameProblem = logonNameProblem(user, domain);
  if (nameProblem) throw denied(nameProblem);

  if (now - ctx.challengeIssuedAt > MAX_SKEW_MS) throw denied('the CHALLENGE_MESSAGE expired before the AUTHENTICATE_MESSAGE arrived');
  const ts = blob.readBigUInt64LE(8);
  const nowTicks = filetimeNow(now);
  const skew = ts > nowTicks ? ts - nowTicks : nowTicks - ts;
  if (skew > SKEW_TICKS) throw denied('the NTLMv2 response timestamp is outside the allowed clock skew');

  let responseKeyNT: Buffer | null = null;
  let matched: { domain: string; user: string } | null = null;
  for (const entry of candidates(cred.userIndex, user, domain)) {
    const key = ntowfv2(entry.ntHash, user, domain);
    if (timingSafeEqual(ntProofStr(key, ctx.serverChallenge!, blob), proof)) {
      responseKeyNT = key;
      matched = entry;
      break;
    }
    key.fill(0);
  }
  // One message for both, so the error does not tell which user names exist.
  if (!responseKeyNT || !matched) throw denied('unknown user or wrong password');

  // Checked once the response is proven, so a stranger learns nothing from which check failed.
  const reflection = reflectionOf(ctx.serverChallenge!, policy, cred.names!, now);
  if (reflection) {
    responseKeyNT.fill(0);
    throw denied(`reflection refused (MS08-068): ${reflection}`);
  }
  if (policy.targetNames && !policy.targetNames.some((t) => t.toLowerCase() === targetName.toLowerCase())) {
    responseKeyNT.fill(0);
    // Quoted and cut: the name is the peer's text and the message goes to logs.
    throw denied(targetName ? `the client meant another service: MsvAvTargetName ${JSON.stringify(targetName.slice(0, 256))} is not one of targetNames` : 'the client named no target (MsvAvTargetName) and this server has targetNames');
  }
  try {
    checkBindings(findAv(pairs, AvId.ChannelBindings), policy);
  } catch (e) {
    responseKeyNT.fill(0);
    throw e;
  }

  const proofKey = proof.toString('latin1');
  if (cred.replay!.has(proofKey, now)) {
    responseKeyNT.fill(0);
    throw denied('this NTLMv2 response was already used (replay)');
  }

  const keyExchangeKey = sessionBaseKey(responseKeyNT, proof);
  responseKeyNT.fill(0);
  let exportedSessionKey: Buffer;
  if (flags & NegFlag.KEY_EXCH) {
    exportedSessionKey = rc4Once(keyExchangeKey, auth.encryptedRandomSessionKey);
    keyExchangeKey.fill(0);
  } else {
    exportedSessionKey = keyExchangeKey;
  }

  if (micPresent) {
    const zeroMic = Buffer.from(authMsg);
    zeroMic.fill(0, AUTH_MIC_OFFSET, AUTH_MIC_OFFSET + 16);
    const expected = computeMic(exportedSessionKey, ctx.negotiateMsg!, ctx.challengeMsg!, zeroMic);
    if (!timingSafeEqual(expected, authMsg.subarray(AUTH_MIC_OFFSET, AUTH_MIC_OFFSET + 16))) {
      exportedSessionKey.fill(0);
      throw denied('the AUTHENTICATE_MESSAGE MIC does not verify (tampered handshake)');
    }
  }

  cred.replay!.add(proofKey, now);
  ctx.negFlags = flags;
  ctx.session = SessionSecurity.derive(exportedSessionKey, flags, 'server');
  ctx.clientName = `${matched.domain || domain || cred.names!.nbDomain}\\${matched.user}`;
  ctx.attributes = contextAttributes('server', ctx.reqFlags, flags);
  ctx.negotiateMsg = null;
  ctx.challengeMsg = null;
  ctx.serverChallenge!.fill(0);
  ctx.serverChallenge = null;
  ctx.start = now;
  ctx.expiry = NEVER_EXPIRES;
  ctx.state = 'established';
  return { micPresent };
}
