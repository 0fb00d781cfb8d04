/**
 * MS-NLMP 4.2.4 (NTLMv2 Authentication), reproduced bit for bit. Common values
 * of 4.2.1: User "User", UserDom "Domain", Passwd "Password", RandomSessionKey
 * 0x55 x16, Time 0, ClientChallenge 0xaa x8, ServerChallenge 0123456789abcdef.
 */
import { describe, expect, it } from 'vitest';
import { clientChallengeBlob, lmv2Response, ntowfv1, ntowfv2, ntProofStr, sealKey, sessionBaseKey, signKey } from '../../lib/fallback/ntlmv2.js';
import { rc4Once } from '../../lib/fallback/rc4.js';
import { encodeAvPairs } from '../../lib/fallback/av-pairs.js';
import { AvId } from '../../lib/fallback/constants.js';
import { SessionSecurity } from '../../lib/fallback/session-security.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const flags = hex('33828ae2').readUInt32LE(0);
const randomSessionKey = Buffer.alloc(16, 0x55);
const clientChallenge = Buffer.alloc(8, 0xaa);
const serverChallenge = hex('0123456789abcdef');
const time = 0n;
// 4.2.4: AV pair 1 NetBIOS domain "Domain", AV pair 2 NetBIOS server "Server".
const targetInfo = encodeAvPairs([
  { id: AvId.NbDomainName, value: Buffer.from('Domain', 'utf16le') },
  { id: AvId.NbComputerName, value: Buffer.from('Server', 'utf16le') },
]);
const plaintext = Buffer.from('Plaintext', 'utf16le');

describe('MS-NLMP 4.2.4 NTLMv2 worked example', () => {
  const responseKeyNT = ntowfv2(ntowfv1('Password'), 'User', 'Domain');
  const temp = clientChallengeBlob(time, clientChallenge, targetInfo);
  const proof = ntProofStr(responseKeyNT, serverChallenge, temp);
  const sbk = sessionBaseKey(responseKeyNT, proof);

  it('flags are the documented ones', () => {
    expect(flags >>> 0).toBe(0xe28a8233);
  });

  it('4.2.4.1.1 NTOWFv2 (ResponseKeyNT)', () => {
    expect(responseKeyNT.toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('4.2.4.1.3 temp', () => {
    expect(temp.toString('hex')).toBe(
      '0101000000000000' + '0000000000000000' + 'aaaaaaaaaaaaaaaa' + '00000000' +
        '02000c0044006f006d00610069006e00' + '01000c005300650072007600650072000000' + '0000' + '00000000',
    );
  });

  it('4.2.4.2.2 NTProofStr', () => {
    expect(proof.toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
  });

  it('4.2.4.2.1 LMv2 response', () => {
    expect(lmv2Response(responseKeyNT, serverChallenge, clientChallenge).toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  });

  it('4.2.4.1.2 session base key and 4.2.4.2.3 encrypted session key', () => {
    expect(sbk.toString('hex')).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
    expect(rc4Once(sbk, randomSessionKey).toString('hex')).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
  });

  it('4.2.4.4 seal and sign keys', () => {
    expect(sealKey(randomSessionKey, flags, 'client-to-server').toString('hex')).toBe('59f600973cc4960a25480a7c196e4c58');
    expect(signKey(randomSessionKey, 'client-to-server').toString('hex')).toBe('4788dc861b4782f35d43fd98fe1a2d39');
  });

  it('4.2.4.4 GSS_WrapEx: sealed "Plaintext" and its signature', () => {
    const client = SessionSecurity.derive(Buffer.from(randomSessionKey), flags, 'client');
    const wrapped = client.seal(plaintext);
    expect(wrapped.subarray(16).toString('hex')).toBe('54e50165bf1936dc996020c1811b0f06fb5f');
    expect(wrapped.subarray(0, 16).toString('hex')).toBe('010000007fb38ec5c55d497600000000');

    // And the server side unseals it.
    const server = SessionSecurity.derive(Buffer.from(randomSessionKey), flags, 'server');
    expect(server.unseal(wrapped).equals(plaintext)).toBe(true);
  });
});
