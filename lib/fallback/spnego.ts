/**
 * The fallback's Negotiate package: SPNEGO (RFC 4178, MS-SPNG) around the NTLM
 * package, the only mechanism it has.
 *
 * Initiator: NegTokenInit { mechTypes [NTLM], mechToken NEGOTIATE }, then
 * NegTokenResp { AUTHENTICATE, mechListMIC }, then the acceptor's
 * accept-completed with its mechListMIC.
 * Acceptor: raw NTLMSSP as Windows accepts it, or NegTokenInit. When NTLM is
 * not the client's first mechanism (browsers list Kerberos first with an
 * AP-REQ), the optimistic token is dropped and NTLM selected with no response
 * token (RFC 4178 §5, request-mic).
 *
 * mechListMIC (RFC 4178 §5): an NTLM signature over the DER MechTypeList, at
 * sequence number 0 of its direction. After producing or checking it, the
 * sealing RC4 handle of that direction returns to its pre-MIC state while the
 * sequence number stays advanced, so the first application message uses
 * SeqNum 1 (gss-ntlmssp and Windows do this; SSPI-CONTRACTS §7).
 */
import { SspiError } from '../errors.js';
import { NegFlag, NTLMSSP_SIGNATURE } from './constants.js';
import { invalidToken } from './bytes.js';
import { clientFinish, clientStart } from './client.js';
import { serverFinish, serverStart } from './server.js';
import { FallbackContext, type FallbackCredential } from './handles.js';
import { Rc4 } from './rc4.js';
import type { SessionSecurity } from './session-security.js';
import type { NtlmPolicy } from './server-config.js';
import { markNegotiate } from './reflection.js';
import { decodeNegotiationToken, encodeInitialToken, encodeMechTypes, encodeNegTokenResp, NegState, OID_NTLMSSP, type NegTokenResp } from './spnego-der.js';

export type SpnegoPhase =
  /** Initiator: NegTokenInit with the NEGOTIATE sent; the CHALLENGE is next. */
  | 'init-sent'
  /** Initiator: AUTHENTICATE and mechListMIC sent; the acceptor's accept-completed is next. */
  | 'mic-sent'
  /** Acceptor: NTLM selected without a NEGOTIATE; the client's NEGOTIATE is next. */
  | 'mech-selected'
  /** Acceptor: CHALLENGE sent; the AUTHENTICATE is next. */
  | 'challenge-sent'
  | 'complete';

export interface SpnegoState {
  phase: SpnegoPhase;
  /** The MechTypeList DER the MICs cover: ours as initiator, the client's bytes as acceptor. */
  mechTypesDer: Buffer;
  /** RFC 4178 §5: NTLM was not the initiator's first choice, so the MIC exchange is mandatory. */
  micRequired: boolean;
  /** Initiator: whether it sent a mechListMIC (then it insists on the acceptor's). */
  micSent: boolean;
}

export interface SpnegoStep {
  ctx: FallbackContext;
  token: Buffer | undefined;
  done: boolean;
}

const OUR_MECH_TYPES = encodeMechTypes([OID_NTLMSSP]);

function isRawNtlmssp(token: Buffer): boolean {
  return token.length >= 8 && token.subarray(0, 8).equals(NTLMSSP_SIGNATURE);
}

function canSign(session: SessionSecurity): boolean {
  return (session.flags & (NegFlag.SIGN | NegFlag.SEAL)) !== 0;
}

/** Run `fn` and put `rc4` back as it was: the mechListMIC must not move the sealing handle. */
function keepingRc4<T>(rc4: Rc4, fn: () => T): T {
  const saved = new Rc4();
  rc4.copyTo(saved);
  try {
    return fn();
  } finally {
    saved.copyTo(rc4);
    saved.wipe();
  }
}

function makeMechListMic(session: SessionSecurity, mechTypesDer: Buffer, op: string): Buffer {
  return keepingRc4(session.sendRc4, () => session.makeSignature(mechTypesDer, op));
}

function verifyMechListMic(session: SessionSecurity, mechTypesDer: Buffer, mic: Buffer, op: string): void {
  try {
    keepingRc4(session.recvRc4, () => session.verifySignature(mechTypesDer, mic, op));
  } catch (e) {
    if (e instanceof SspiError && e.code === 'SEC_E_INVALID_TOKEN') throw e;
    throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the mechListMIC does not verify: the mechanism list was tampered with (RFC 4178 §5)');
  }
}

function expectResp(token: Buffer, op: string): NegTokenResp {
  const t = decodeNegotiationToken(token, op);
  if (t.kind !== 'resp') throw invalidToken(op, 'expected an SPNEGO NegTokenResp');
  if (t.resp.negState === NegState.REJECT) throw new SspiError('SEC_E_LOGON_DENIED', op, 'the peer rejected the negotiation (negState reject)');
  return t.resp;
}

// ---------------------------------------------------------------- initiator

export function spnegoInitialize(cred: FallbackCredential, ctx: FallbackContext | null, reqFlags: number, target: string | undefined, input: Buffer | undefined, policy: NtlmPolicy): SpnegoStep {
  const op = 'InitializeSecurityContextW';
  if (!ctx) {
    const start = clientStart(cred, reqFlags, target);
    start.ctx.spnego = { phase: 'init-sent', mechTypesDer: OUR_MECH_TYPES, micRequired: false, micSent: false };
    const token = encodeInitialToken(OUR_MECH_TYPES, start.token);
    markNegotiate(token, start.ctx);
    return { ctx: start.ctx, token, done: false };
  }
  const sp = ctx.spnego;
  if (!sp) throw new SspiError('SEC_E_INVALID_HANDLE', op, 'the context is not a Negotiate context');
  if (!input) throw invalidToken(op, 'no SECBUFFER_TOKEN input was given');
  const resp = expectResp(input, op);

  if (sp.phase === 'init-sent') {
    if (resp.supportedMech !== OID_NTLMSSP) throw invalidToken(op, resp.supportedMech ? `the acceptor selected ${resp.supportedMech}, which was not offered` : 'the first NegTokenResp has no supportedMech');
    if (resp.negState !== NegState.ACCEPT_INCOMPLETE && resp.negState !== NegState.REQUEST_MIC) throw invalidToken(op, 'the first NegTokenResp does not continue the negotiation');
    if (!resp.responseToken) throw invalidToken(op, 'the acceptor sent no CHALLENGE for the optimistic NEGOTIATE');
    sp.micRequired = resp.negState === NegState.REQUEST_MIC;
    const auth = clientFinish(ctx, cred, resp.responseToken, policy);
    const session = ctx.session!;
    const out: NegTokenResp = { responseToken: auth };
    if (canSign(session)) {
      out.mechListMIC = makeMechListMic(session, sp.mechTypesDer, op);
      sp.micSent = true;
    } else if (sp.micRequired) {
      throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the acceptor requires a mechListMIC but no integrity was negotiated');
    }
    sp.phase = 'mic-sent';
    return { ctx, token: encodeNegTokenResp(out), done: false };
  }

  if (sp.phase === 'mic-sent') {
    if (resp.negState !== NegState.ACCEPT_COMPLETED) throw invalidToken(op, 'the acceptor did not complete the negotiation after the AUTHENTICATE');
    if (resp.responseToken) throw invalidToken(op, 'NTLM has no token after the AUTHENTICATE');
    if (resp.mechListMIC) verifyMechListMic(ctx.session!, sp.mechTypesDer, resp.mechListMIC, op);
    else if (sp.micSent || sp.micRequired) throw new SspiError('SEC_E_MESSAGE_ALTERED', op, 'the acceptor sent no mechListMIC (MS-SPNG 3.2.5.1: required once an NTLM MIC was exchanged)');
    sp.phase = 'complete';
    return { ctx, token: undefined, done: true };
  }
  throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the Negotiate context is already established');
}

// ---------------------------------------------------------------- acceptor

export function spnegoAccept(cred: FallbackCredential, ctx: FallbackContext | null, reqFlags: number, input: Buffer, policy: NtlmPolicy): SpnegoStep {
  const op = 'AcceptSecurityContext';
  if (!ctx) {
    // Windows' Negotiate takes a bare NTLMSSP NEGOTIATE and answers in kind (SSPI-CONTRACTS §7).
    if (isRawNtlmssp(input)) {
      const start = serverStart(cred, reqFlags, input, policy);
      return { ctx: start.ctx, token: start.token, done: false };
    }
    const t = decodeNegotiationToken(input, op);
    if (t.kind !== 'init') throw invalidToken(op, 'the first Negotiate token is not a NegTokenInit');
    const at = t.init.mechTypes.indexOf(OID_NTLMSSP);
    // At most 8 OIDs: a 64 KiB token lists thousands, and the message goes to logs.
    const offered = t.init.mechTypes.slice(0, 8).join(', ') + (t.init.mechTypes.length > 8 ? ', …' : '');
    if (at < 0) throw new SspiError('SEC_E_LOGON_DENIED', op, `no mechanism in common: the client offers ${offered} and this package has only NTLM`);
    const micRequired = at !== 0;
    // A copy: the caller may reuse its buffer, and the MICs cover these bytes.
    const state: SpnegoState = { phase: 'mech-selected', mechTypesDer: Buffer.from(t.init.mechTypesDer), micRequired, micSent: false };
    const first: NegTokenResp = { negState: micRequired ? NegState.REQUEST_MIC : NegState.ACCEPT_INCOMPLETE, supportedMech: OID_NTLMSSP };
    if (at === 0 && t.init.mechToken) {
      const start = serverStart(cred, reqFlags, t.init.mechToken, policy, undefined, input);
      start.ctx.spnego = { ...state, phase: 'challenge-sent' };
      return { ctx: start.ctx, token: encodeNegTokenResp({ ...first, responseToken: start.token }), done: false };
    }
    // The optimistic token belongs to another mechanism: select NTLM and ask for its NEGOTIATE.
    const selected = new FallbackContext('server', cred.packageName, 'mech-selected');
    selected.reqFlags = reqFlags;
    selected.spnego = state;
    return { ctx: selected, token: encodeNegTokenResp(first), done: false };
  }

  const sp = ctx.spnego;
  if (!sp) {
    // Raw NTLMSSP under Negotiate: plain NTLM from here on.
    if (ctx.state !== 'challenge-sent') throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the context is already established; NTLM has no further legs');
    serverFinish(ctx, cred, input, policy);
    return { ctx, token: undefined, done: true };
  }
  const resp = expectResp(input, op);
  if (sp.phase === 'mech-selected') {
    if (!resp.responseToken) throw invalidToken(op, 'the NegTokenResp carries no NTLM NEGOTIATE');
    const start = serverStart(cred, reqFlags, resp.responseToken, policy, ctx, input);
    sp.phase = 'challenge-sent';
    return { ctx, token: encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: start.token }), done: false };
  }
  if (sp.phase === 'challenge-sent') {
    if (!resp.responseToken) throw invalidToken(op, 'the NegTokenResp carries no NTLM AUTHENTICATE');
    const { micPresent } = serverFinish(ctx, cred, resp.responseToken, policy);
    const session = ctx.session!;
    const out: NegTokenResp = { negState: NegState.ACCEPT_COMPLETED };
    if (resp.mechListMIC) {
      if (!canSign(session)) throw invalidToken(op, 'a mechListMIC arrived but no integrity was negotiated');
      verifyMechListMic(session, sp.mechTypesDer, resp.mechListMIC, op);
      out.mechListMIC = makeMechListMic(session, sp.mechTypesDer, op);
    } else if (sp.micRequired || micPresent) {
      // Microsoft's rule (MS-SPNG 3.3.5.1): an AUTHENTICATE with a MIC comes with a mechListMIC.
      throw new SspiError('SEC_E_MESSAGE_ALTERED', op, sp.micRequired ? 'NTLM was not the first mechanism and the client sent no mechListMIC (RFC 4178 §5)' : 'the client sent an NTLM MIC but no mechListMIC (MS-SPNG)');
    }
    sp.phase = 'complete';
    return { ctx, token: encodeNegTokenResp(out), done: true };
  }
  throw new SspiError('SEC_E_UNSUPPORTED_FUNCTION', op, 'the Negotiate context is already established');
}
