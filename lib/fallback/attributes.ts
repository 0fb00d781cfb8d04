/** The ISC_RET_* / ASC_RET_* bits a context reports, from what was asked and what was negotiated. */
import { AscRet, IscRet } from '../flags.js';
import { NegFlag } from './constants.js';
import type { Role } from './session-security.js';

// Request bits whose *_RET_* twin has the same value and that need nothing negotiated.
// Protection bits are never passed through: they report only what NegotiateFlags
// grant (no CONFIDENTIALITY without SEAL, no INTEGRITY without SIGN).
const ISC_PASSTHROUGH = IscRet.ALLOCATED_MEMORY | IscRet.CONNECTION | IscRet.EXTENDED_ERROR | IscRet.IDENTIFY;
const ASC_PASSTHROUGH = AscRet.ALLOCATED_MEMORY | AscRet.CONNECTION | AscRet.EXTENDED_ERROR | AscRet.IDENTIFY;

export function contextAttributes(role: Role, reqFlags: number, negFlags: number): number {
  const signs = (negFlags & NegFlag.SIGN) !== 0;
  const seals = (negFlags & NegFlag.SEAL) !== 0;
  if (role === 'client') {
    let r = reqFlags & ISC_PASSTHROUGH;
    // Sequence numbers travel in every signature, sealed or not.
    if (signs || seals) r |= IscRet.REPLAY_DETECT | IscRet.SEQUENCE_DETECT;
    if (signs) r |= IscRet.INTEGRITY;
    if (seals) r |= IscRet.CONFIDENTIALITY;
    return r >>> 0;
  }
  let r = reqFlags & ASC_PASSTHROUGH;
  if (signs || seals) r |= AscRet.REPLAY_DETECT | AscRet.SEQUENCE_DETECT;
  if (signs) r |= AscRet.INTEGRITY;
  if (seals) r |= AscRet.CONFIDENTIALITY;
  return r >>> 0;
}

/** Windows reports NTLM contexts as never expiring; this is the largest Date. */
export const NEVER_EXPIRES = 8.64e15;
