/** The ISC_RET_* / ASC_RET_* bits a context reports, from what was asked and what was negotiated. */
import { AscRet, IscRet } from '../flags.js';
import { NegFlag } from './constants.js';
import type { Role } from './session-security.js';

// Request bits whose *_RET_* twin has the same value and that NTLM can honour.
const ISC_PASSTHROUGH = IscRet.REPLAY_DETECT | IscRet.SEQUENCE_DETECT | IscRet.CONFIDENTIALITY | IscRet.ALLOCATED_MEMORY | IscRet.CONNECTION | IscRet.EXTENDED_ERROR | IscRet.INTEGRITY | IscRet.IDENTIFY;
const ASC_PASSTHROUGH = AscRet.REPLAY_DETECT | AscRet.SEQUENCE_DETECT | AscRet.CONFIDENTIALITY | AscRet.ALLOCATED_MEMORY | AscRet.CONNECTION | AscRet.EXTENDED_ERROR | AscRet.INTEGRITY | AscRet.IDENTIFY;

export function contextAttributes(role: Role, reqFlags: number, negFlags: number): number {
  const signs = (negFlags & (NegFlag.SIGN | NegFlag.SEAL)) !== 0;
  const seals = (negFlags & NegFlag.SEAL) !== 0;
  if (role === 'client') {
    let r = reqFlags & ISC_PASSTHROUGH;
    if (signs) r |= IscRet.INTEGRITY | IscRet.REPLAY_DETECT | IscRet.SEQUENCE_DETECT;
    if (seals) r |= IscRet.CONFIDENTIALITY;
    return r >>> 0;
  }
  let r = reqFlags & ASC_PASSTHROUGH;
  if (signs) r |= AscRet.INTEGRITY | AscRet.REPLAY_DETECT | AscRet.SEQUENCE_DETECT;
  if (seals) r |= AscRet.CONFIDENTIALITY;
  return r >>> 0;
}

/** Windows reports NTLM contexts as never expiring; this is the largest Date. */
export const NEVER_EXPIRES = 8.64e15;
