// MakeSignature / VerifySignature / EncryptMessage / DecryptMessage in two profiles.
//
// NTLM profile (MS-NLMP 2.2.2.9.2 layout): every token is 16 bytes
//   version(1)=1 flags(1) 0(2) checksum(8) seq(4); flags bit 0 = sealed.
//   A wrong sequence number breaks the checksum: tamper, replay and reorder all give
//   SEC_E_MESSAGE_ALTERED (SSPI-CONTRACTS §5, [C7]).
// Kerberos-like profile (RFC 4121 4.2.6 shapes): integrity is checked before order, so a
//   replayed or reordered message gives SEC_E_OUT_OF_SEQUENCE, a tampered one SEC_E_MESSAGE_ALTERED.
//   MIC token (28 bytes, cbMaxSignature 32): 04 04 flags ff ffffffff seq(4) checksum(16)
//   wrap token (32 or 60 bytes, cbSecurityTrailer 60): 05 04 flags tokenLen dataLen(4) padLen
//     fillerLen 0 0 seq(4) checksum(16) filler; the message is token || data || padding,
//     padding to cbBlockSize 8. Even-length messages get 28 filler bytes, odd-length ones none,
//     so the token is shorter than cbSecurityTrailer for odd lengths.
//   flags: bit 0 = sent by the acceptor, bit 1 = sealed.
#include <vector>

#include "provider.h"

namespace sspitest {
namespace {

constexpr ULONG kNtlmToken = 16;
constexpr ULONG kKrbMic = 28, kKrbMaxSignature = 32, kKrbHeader = 32, kKrbFiller = 28, kKrbTrailer = 60,
                kKrbBlock = 8;

// Running keyed checksum over a direction, a sequence number and message bytes.
class Checksum {
 public:
  Checksum(const Ctx* c, bool fromClient, uint32_t seq) {
    a_ = Fnv(c->key, sizeof c->key);
    const unsigned char dir = fromClient ? 1 : 2;
    a_ = Fnv(&dir, 1, a_);
    a_ = Fnv(&seq, 4, a_);
    b_ = Fnv(&a_, 8, a_ ^ 0x5bd1e995ULL);
  }
  void Add(const void* p, size_t n) {
    if (n == 0) return;  // an empty part changes nothing, wherever it is
    a_ = Fnv(p, n, a_);
    b_ = Fnv(p, n, b_ ^ 0x9E3779B97F4A7C15ULL);
  }
  void Write(unsigned char* out, size_t n) const {
    unsigned char both[16];
    memcpy(both, &a_, 8);
    memcpy(both + 8, &b_, 8);
    memcpy(out, both, n);
  }
  bool Matches(const unsigned char* p, size_t n) const {
    unsigned char both[16];
    Write(both, n);
    return memcmp(both, p, n) == 0;
  }

 private:
  uint64_t a_, b_;
};

// XOR keystream per direction and sequence number, continuing across buffers.
class Keystream {
 public:
  Keystream(const Ctx* c, bool fromClient, uint32_t seq)
      : s_((Fnv(c->key, sizeof c->key, 0xcbf29ce484222325ULL ^ (fromClient ? 0x11u : 0x22u)) ^ seq) | 1) {}
  void Apply(unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; i++) {
      s_ ^= s_ << 13;
      s_ ^= s_ >> 7;
      s_ ^= s_ << 17;
      p[i] ^= static_cast<unsigned char>(s_ >> 24);
    }
  }

 private:
  uint64_t s_;
};

void Put32(unsigned char* p, uint32_t v) { memcpy(p, &v, 4); }
uint32_t Get32(const unsigned char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// Every DATA buffer, in order (sign / verify cover them all).
void AddData(Checksum& sum, PSecBufferDesc msg) {
  for (ULONG i = 0; i < msg->cBuffers; i++) {
    const SecBuffer& b = msg->pBuffers[i];
    if (BaseType(b) == SECBUFFER_DATA && b.pvBuffer != nullptr) sum.Add(b.pvBuffer, b.cbBuffer);
  }
}

// A failed check poisons the receive direction (SSPI-CONTRACTS §5 model).
SECURITY_STATUS Fail(Ctx* c, SECURITY_STATUS st) {
  c->recvPoisoned = true;
  return st;
}
SECURITY_STATUS PoisonStatus(const Ctx* c) {
  return c->profile == Profile::Ntlm ? SEC_E_MESSAGE_ALTERED : SEC_E_OUT_OF_SEQUENCE;
}

Ctx* MessageCtx(PCtxtHandle ctx, PSecBufferDesc msg, SECURITY_STATUS* st) {
  Ctx* c = UsableCtx(ctx);
  *st = c == nullptr ? SEC_E_INVALID_HANDLE
        : !IsComplete(c) ? SEC_E_OUT_OF_SEQUENCE
        : msg == nullptr || msg->pBuffers == nullptr ? SEC_E_INVALID_TOKEN
                                                     : SEC_E_OK;
  return *st == SEC_E_OK ? c : nullptr;
}

// ---- signatures --------------------------------------------------------------------------

SECURITY_STATUS MakeSig(Ctx* c, PSecBufferDesc msg) {
  PSecBuffer tok = FindBuffer(msg, SECBUFFER_TOKEN);
  if (tok == nullptr || tok->pvBuffer == nullptr) return SEC_E_INVALID_TOKEN;
  const ULONG need = c->profile == Profile::Ntlm ? kNtlmToken : kKrbMic;
  if (tok->cbBuffer < need) return SEC_E_BUFFER_TOO_SMALL;
  auto* t = static_cast<unsigned char*>(tok->pvBuffer);
  const uint32_t seq = c->sendSeq++;
  Checksum sum(c, !c->server, seq);
  memset(t, 0, need);
  if (c->profile == Profile::Ntlm) {
    t[0] = 1;
    sum.Add(t, 4);
    AddData(sum, msg);
    sum.Write(t + 4, 8);
    Put32(t + 12, seq);
  } else {
    t[0] = 0x04, t[1] = 0x04, t[2] = c->server ? 1 : 0, t[3] = 0xff;
    memset(t + 4, 0xff, 4);
    Put32(t + 8, seq);
    sum.Add(t, 12);
    AddData(sum, msg);
    sum.Write(t + 12, 16);
  }
  tok->cbBuffer = need;  // the used length; callers keep it ([C1])
  return SEC_E_OK;
}

SECURITY_STATUS VerifySig(Ctx* c, PSecBufferDesc msg) {
  PSecBuffer tok = FindBuffer(msg, SECBUFFER_TOKEN);
  if (tok == nullptr || tok->pvBuffer == nullptr) return SEC_E_INVALID_TOKEN;
  const ULONG need = c->profile == Profile::Ntlm ? kNtlmToken : kKrbMic;
  if (tok->cbBuffer != need) return SEC_E_INVALID_TOKEN;
  if (c->recvPoisoned) return PoisonStatus(c);
  const auto* t = static_cast<const unsigned char*>(tok->pvBuffer);
  if (c->profile == Profile::Ntlm) {
    // The receiver's own counter goes into the checksum (MS-NLMP 3.4.4).
    Checksum sum(c, c->server, c->recvSeq);
    sum.Add(t, 4);
    AddData(sum, msg);
    if (t[0] != 1 || t[1] != 0 || Get32(t + 12) != c->recvSeq || !sum.Matches(t + 4, 8)) {
      return Fail(c, SEC_E_MESSAGE_ALTERED);
    }
  } else {
    const uint32_t seq = Get32(t + 8);
    Checksum sum(c, c->server, seq);
    sum.Add(t, 12);
    AddData(sum, msg);
    const bool fromPeer = (t[2] & 1) == (c->server ? 0 : 1);
    if (t[0] != 0x04 || t[1] != 0x04 || !fromPeer || !sum.Matches(t + 12, 16)) return Fail(c, SEC_E_MESSAGE_ALTERED);
    if (seq != c->recvSeq) return Fail(c, SEC_E_OUT_OF_SEQUENCE);
  }
  c->recvSeq++;
  return SEC_E_OK;
}

// ---- sealing -----------------------------------------------------------------------------

// Where the parts of a sealed message are, for either input layout of DecryptMessage.
struct Sealed {
  unsigned char* token = nullptr;
  ULONG tokenLen = 0;
  unsigned char* data = nullptr;
  ULONG dataLen = 0;
  unsigned char* pad = nullptr;
  ULONG padLen = 0;
};

SECURITY_STATUS SealMsg(Ctx* c, unsigned long qop, PSecBufferDesc msg) {
  PSecBuffer tok = FindBuffer(msg, SECBUFFER_TOKEN), data = FindBuffer(msg, SECBUFFER_DATA);
  if (tok == nullptr || tok->pvBuffer == nullptr || data == nullptr) return SEC_E_INVALID_TOKEN;
  if (data->pvBuffer == nullptr && data->cbBuffer != 0) return SEC_E_INVALID_TOKEN;
  // SECQOP_WRAP_NO_ENCRYPT asks for integrity only; so does a context without confidentiality.
  const ULONG conf = c->server ? ASC_RET_CONFIDENTIALITY : ISC_RET_CONFIDENTIALITY;
  const bool seal = qop != SECQOP_WRAP_NO_ENCRYPT && (c->flags & conf) != 0;
  auto* d = static_cast<unsigned char*>(data->pvBuffer);
  const ULONG n = data->cbBuffer;
  auto* t = static_cast<unsigned char*>(tok->pvBuffer);
  PSecBuffer padBuf = FindBuffer(msg, SECBUFFER_PADDING);
  if (c->profile == Profile::Ntlm) {
    if (tok->cbBuffer < kNtlmToken) return SEC_E_BUFFER_TOO_SMALL;
    const uint32_t seq = c->sendSeq++;
    Checksum sum(c, !c->server, seq);
    memset(t, 0, kNtlmToken);
    t[0] = 1;
    t[1] = seal ? 1 : 0;
    sum.Add(t, 4);
    sum.Add(d, n);
    sum.Write(t + 4, 8);
    Put32(t + 12, seq);
    if (seal) Keystream(c, !c->server, seq).Apply(d, n);
    tok->cbBuffer = kNtlmToken;
    if (padBuf != nullptr) padBuf->cbBuffer = 0;
    return SEC_E_OK;
  }
  const ULONG filler = (n % 2 == 0) ? kKrbFiller : 0;
  const ULONG tokenLen = kKrbHeader + filler, padLen = (kKrbBlock - n % kKrbBlock) % kKrbBlock;
  if (tok->cbBuffer < tokenLen) return SEC_E_BUFFER_TOO_SMALL;
  if (padLen != 0 && (padBuf == nullptr || padBuf->pvBuffer == nullptr || padBuf->cbBuffer < padLen)) {
    return SEC_E_BUFFER_TOO_SMALL;
  }
  auto* pad = padLen != 0 ? static_cast<unsigned char*>(padBuf->pvBuffer) : nullptr;
  const uint32_t seq = c->sendSeq++;
  memset(t, 0, tokenLen);
  t[0] = 0x05, t[1] = 0x04, t[2] = static_cast<unsigned char>((c->server ? 1 : 0) | (seal ? 2 : 0));
  t[3] = static_cast<unsigned char>(tokenLen);
  Put32(t + 4, n);
  t[8] = static_cast<unsigned char>(padLen);
  t[9] = static_cast<unsigned char>(filler);
  Put32(t + 12, seq);
  RandomBytes(t + kKrbHeader, filler);  // a confounder-like filler
  if (pad != nullptr) memset(pad, static_cast<int>(padLen), padLen);
  Checksum sum(c, !c->server, seq);
  sum.Add(t, 16);
  sum.Add(t + kKrbHeader, filler);
  sum.Add(d, n);
  if (pad != nullptr) sum.Add(pad, padLen);
  sum.Write(t + 16, 16);
  if (seal) {
    Keystream ks(c, !c->server, seq);
    ks.Apply(d, n);
    if (pad != nullptr) ks.Apply(pad, padLen);
  }
  tok->cbBuffer = tokenLen;  // shorter than cbSecurityTrailer for odd lengths
  if (padBuf != nullptr) padBuf->cbBuffer = padLen;
  return SEC_E_OK;
}

// Kerberos-like wrap header: the lengths the package needs to find the boundaries.
bool KrbHeader(const unsigned char* t, size_t avail, ULONG* tokenLen, ULONG* dataLen, ULONG* padLen) {
  if (avail < kKrbHeader || t[0] != 0x05 || t[1] != 0x04) return false;
  *tokenLen = t[3];
  *dataLen = Get32(t + 4);
  *padLen = t[8];
  return *tokenLen == kKrbHeader + t[9] && *tokenLen <= kKrbTrailer && *padLen < kKrbBlock;
}

// SECBUFFER_STREAM + SECBUFFER_DATA ([C1], [C10]): the whole message in the stream; on
// success DATA points at the plaintext inside it. Or TOKEN + DATA (+ PADDING), each buffer
// holding exactly its part.
SECURITY_STATUS Locate(Ctx* c, PSecBufferDesc msg, Sealed* s, PSecBuffer* dataOut, bool* stream) {
  PSecBuffer st = FindBuffer(msg, SECBUFFER_STREAM), data = FindBuffer(msg, SECBUFFER_DATA);
  if (data == nullptr) return SEC_E_INVALID_TOKEN;
  *dataOut = data;
  *stream = st != nullptr;
  if (st != nullptr) {
    if (st->pvBuffer == nullptr) return SEC_E_INVALID_TOKEN;
    auto* p = static_cast<unsigned char*>(st->pvBuffer);
    const ULONG n = st->cbBuffer;
    if (c->profile == Profile::Ntlm) {
      if (n < kNtlmToken) return SEC_E_INVALID_TOKEN;
      *s = Sealed{p, kNtlmToken, p + kNtlmToken, n - kNtlmToken, nullptr, 0};
      return SEC_E_OK;
    }
    ULONG tokenLen, dataLen, padLen;
    if (!KrbHeader(p, n, &tokenLen, &dataLen, &padLen) || n < tokenLen || dataLen > n - tokenLen ||
        n - tokenLen - dataLen != padLen) {
      return SEC_E_INVALID_TOKEN;
    }
    *s = Sealed{p, tokenLen, p + tokenLen, dataLen, padLen != 0 ? p + tokenLen + dataLen : nullptr, padLen};
    return SEC_E_OK;
  }
  PSecBuffer tok = FindBuffer(msg, SECBUFFER_TOKEN);
  if (tok == nullptr || tok->pvBuffer == nullptr || (data->pvBuffer == nullptr && data->cbBuffer != 0)) {
    return SEC_E_INVALID_TOKEN;
  }
  auto* t = static_cast<unsigned char*>(tok->pvBuffer);
  auto* d = static_cast<unsigned char*>(data->pvBuffer);
  if (c->profile == Profile::Ntlm) {
    if (tok->cbBuffer != kNtlmToken) return SEC_E_INVALID_TOKEN;
    *s = Sealed{t, kNtlmToken, d, data->cbBuffer, nullptr, 0};
    return SEC_E_OK;
  }
  ULONG tokenLen, dataLen, padLen;
  if (!KrbHeader(t, tok->cbBuffer, &tokenLen, &dataLen, &padLen) || tok->cbBuffer != tokenLen ||
      data->cbBuffer != dataLen) {
    return SEC_E_INVALID_TOKEN;
  }
  PSecBuffer padBuf = FindBuffer(msg, SECBUFFER_PADDING);
  if (padLen != 0 && (padBuf == nullptr || padBuf->pvBuffer == nullptr || padBuf->cbBuffer != padLen)) {
    return SEC_E_INVALID_TOKEN;
  }
  *s = Sealed{t, tokenLen, d, dataLen, padLen != 0 ? static_cast<unsigned char*>(padBuf->pvBuffer) : nullptr, padLen};
  return SEC_E_OK;
}

SECURITY_STATUS UnsealMsg(Ctx* c, PSecBufferDesc msg, unsigned long* qop) {
  Sealed s;
  PSecBuffer data = nullptr;
  bool stream = false;
  const SECURITY_STATUS located = Locate(c, msg, &s, &data, &stream);
  if (located != SEC_E_OK) return located;
  if (c->recvPoisoned) return PoisonStatus(c);
  const unsigned char* t = s.token;
  bool sealed;
  uint32_t seq;
  if (c->profile == Profile::Ntlm) {
    sealed = (t[1] & 1) != 0;
    seq = c->recvSeq;  // MS-NLMP 3.4.4: the receiver's own counter
  } else {
    sealed = (t[2] & 2) != 0;
    seq = Get32(t + 12);
  }
  Keystream ks(c, c->server, seq);
  if (sealed) {
    ks.Apply(s.data, s.dataLen);
    if (s.pad != nullptr) ks.Apply(s.pad, s.padLen);
  }
  bool intact;
  Checksum sum(c, c->server, seq);
  if (c->profile == Profile::Ntlm) {
    sum.Add(t, 4);
    sum.Add(s.data, s.dataLen);
    intact = t[0] == 1 && (t[1] & ~1) == 0 && Get32(t + 12) == c->recvSeq && sum.Matches(t + 4, 8);
  } else {
    sum.Add(t, 16);
    sum.Add(t + kKrbHeader, s.tokenLen - kKrbHeader);
    sum.Add(s.data, s.dataLen);
    if (s.pad != nullptr) sum.Add(s.pad, s.padLen);
    const bool fromPeer = (t[2] & 1) == (c->server ? 0 : 1);
    intact = fromPeer && sum.Matches(t + 16, 16);
  }
  if (!intact || (c->profile == Profile::Kerberos && seq != c->recvSeq)) {
    if (sealed) {  // leave the caller's bytes as they were
      Keystream undo(c, c->server, seq);
      undo.Apply(s.data, s.dataLen);
      if (s.pad != nullptr) undo.Apply(s.pad, s.padLen);
    }
    return Fail(c, intact ? SEC_E_OUT_OF_SEQUENCE : SEC_E_MESSAGE_ALTERED);
  }
  c->recvSeq++;
  if (stream) {
    data->pvBuffer = s.data;  // decrypted in place, inside the stream
    data->cbBuffer = s.dataLen;
  }
  if (qop != nullptr) *qop = sealed ? 0 : SECQOP_WRAP_NO_ENCRYPT;
  return SEC_E_OK;
}

}  // namespace

SECURITY_STATUS SEC_ENTRY Sign(PCtxtHandle ctx, unsigned long, PSecBufferDesc msg, unsigned long) {
  Lock lock;
  SECURITY_STATUS st;
  Ctx* c = MessageCtx(ctx, msg, &st);
  return Ret("MakeSignature", c != nullptr ? MakeSig(c, msg) : st);
}

SECURITY_STATUS SEC_ENTRY Verify(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop) {
  Lock lock;
  if (qop != nullptr) *qop = 0;
  SECURITY_STATUS st;
  Ctx* c = MessageCtx(ctx, msg, &st);
  return Ret("VerifySignature", c != nullptr ? VerifySig(c, msg) : st);
}

SECURITY_STATUS SEC_ENTRY Seal(PCtxtHandle ctx, unsigned long qop, PSecBufferDesc msg, unsigned long) {
  Lock lock;
  SECURITY_STATUS st;
  Ctx* c = MessageCtx(ctx, msg, &st);
  return Ret("EncryptMessage", c != nullptr ? SealMsg(c, qop, msg) : st);
}

SECURITY_STATUS SEC_ENTRY Unseal(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop) {
  Lock lock;
  if (qop != nullptr) *qop = 0;
  SECURITY_STATUS st;
  Ctx* c = MessageCtx(ctx, msg, &st);
  return Ret("DecryptMessage", c != nullptr ? UnsealMsg(c, msg, qop) : st);
}

// Sizes per profile (SSPI-CONTRACTS §4): NTLM 16/16/0 as Windows reports [W5]; Kerberos-like
// with a trailer above 16 and a block size ([C11]).
void ProfileSizes(const Ctx* c, SecPkgContext_Sizes* z) {
  z->cbMaxToken = kMaxToken;
  const bool ntlm = c->profile == Profile::Ntlm;
  z->cbMaxSignature = ntlm ? kNtlmToken : kKrbMaxSignature;
  z->cbSecurityTrailer = ntlm ? kNtlmToken : kKrbTrailer;
  z->cbBlockSize = ntlm ? 0 : kKrbBlock;
}

}  // namespace sspitest
