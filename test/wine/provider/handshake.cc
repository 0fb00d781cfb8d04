// Credentials and the handshake of both packages.
//
// SspiTest (2 legs):   ISC -> STC1; ASC(STC1) -> STS1, server complete; ISC(STS1) -> client complete.
// SspiTestNego wraps it like SPNEGO wraps NTLM (SSPI-CONTRACTS §7): ISC -> SNG1 {mechs, STC1};
// ASC -> SNGR {accept-incomplete, SspiTest, STS1}; ISC -> SNGM {initiator MIC}; ASC -> SEC_E_OK
// with SNGC {accept-complete, acceptor MIC}; ISC(SNGC) -> SEC_E_OK without a token.
#include <cwchar>

#include "provider.h"
#include "wire.h"

namespace sspitest {
namespace {

// Request bits the package grants when asked (ISC_REQ_* / ASC_REQ_* of the same value give
// the ISC_RET_* / ASC_RET_* of the same value). Confidentiality is the initiator's choice.
constexpr ULONG kIscSupported = ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT |
                                ISC_REQ_CONFIDENTIALITY | ISC_REQ_CONNECTION | ISC_REQ_INTEGRITY | ISC_REQ_IDENTIFY;
constexpr ULONG kAscSupported = ASC_REQ_MUTUAL_AUTH | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT |
                                ASC_REQ_CONNECTION | ASC_REQ_INTEGRITY | ASC_REQ_IDENTIFY;
constexpr size_t kMaxName = 120;

void Forever(PTimeStamp t) {
  if (t != nullptr) t->QuadPart = 0x7fffffffffffffffLL;
}

// The one password the acceptor takes for an explicit identity: %SSPITEST_PASSWORD%,
// default "Passw0rd!". Credentials of the current user (no identity) carry none.
uint64_t ExpectedPasswordHash() {
  wchar_t pw[128];
  DWORD n = GetEnvironmentVariableW(L"SSPITEST_PASSWORD", pw, 128);
  if (n == 0 || n >= 128) {
    wcscpy(pw, L"Passw0rd!");
    n = static_cast<DWORD>(wcslen(pw));
  }
  return Fnv(pw, n * sizeof(wchar_t));
}

std::wstring CurrentUser() {
  wchar_t name[128];
  DWORD n = 128;
  if (!GetUserNameW(name, &n)) return L"SSPITEST\\unknown";
  return std::wstring(L"SSPITEST\\") + name;
}

// "krb/..." (any case) selects the Kerberos-like message profile (README.md).
Profile ProfileFor(const std::wstring& target) {
  return target.size() >= 4 && _wcsnicmp(target.c_str(), L"krb/", 4) == 0 ? Profile::Kerberos : Profile::Ntlm;
}

void DeriveKey(Ctx* c, const unsigned char* serverNonce) {
  unsigned char both[2 * kNonceLen];
  memcpy(both, c->clientNonce, kNonceLen);
  memcpy(both + kNonceLen, serverNonce, kNonceLen);
  const uint64_t k1 = Fnv(both, sizeof both), k2 = Fnv(both, sizeof both, k1);
  memcpy(c->key, &k1, 8);
  memcpy(c->key + 8, &k2, 8);
  SecureZeroMemory(both, sizeof both);
}

// Keyed values of the handshake: the acceptor's proof in STS1 and the two Nego MICs.
uint64_t KeyedTag(const Ctx* c, const char* label) {
  return Fnv(label, strlen(label), Fnv(c->key, sizeof c->key));
}

// Writes an output token; honours ISC/ASC_REQ_ALLOCATE_MEMORY (one process-heap block).
SECURITY_STATUS PutToken(PSecBufferDesc out, bool allocate, const std::string& bytes) {
  PSecBuffer b = FindBuffer(out, SECBUFFER_TOKEN);
  if (b == nullptr) return SEC_E_INVALID_TOKEN;
  const ULONG n = ToULong(bytes.size());
  if (allocate) {
    b->pvBuffer = HeapZ(n);
    if (b->pvBuffer == nullptr) return SEC_E_INSUFFICIENT_MEMORY;
  } else if (b->pvBuffer == nullptr || b->cbBuffer < n) {
    return SEC_E_BUFFER_TOO_SMALL;
  }
  memcpy(b->pvBuffer, bytes.data(), n);
  b->cbBuffer = n;
  return SEC_E_OK;
}

void NoToken(PSecBufferDesc out) {
  if (PSecBuffer o = FindBuffer(out, SECBUFFER_TOKEN)) o->cbBuffer = 0;
}

PSecBuffer InputToken(PSecBufferDesc in) {
  PSecBuffer b = FindBuffer(in, SECBUFFER_TOKEN);
  return b != nullptr && b->pvBuffer != nullptr ? b : nullptr;
}

// STC1 nonce(16) hasPassword(1) passwordHash(8) profile(1) iscFlags(4) user target
std::string ClientHello(const Cred* cr, const Ctx* c, ULONG req) {
  Writer w;
  w.Bytes("STC1", 4);
  w.Bytes(c->clientNonce, kNonceLen);
  w.U8(cr->hasPassword ? 1 : 0);
  w.U64(cr->passwordHash);
  w.U8(static_cast<uint8_t>(c->profile));
  w.U32(req);
  w.Str(c->client);
  w.Str(c->target);
  return w.str();
}

// Parses STC1 and builds a complete server context; consumed = bytes of the hello.
SECURITY_STATUS ServerAccept(Package pkg, const unsigned char* p, size_t n, ULONG req, Ctx** out, size_t* consumed) {
  Reader r(p, n);
  unsigned char nonce[kNonceLen];
  const bool magic = r.Magic("STC1");
  r.Bytes(nonce, kNonceLen);
  const uint8_t hasPassword = r.U8();
  const uint64_t passwordHash = r.U64();
  const uint8_t profile = r.U8();
  const ULONG iscReq = r.U32();
  std::wstring client = r.Str(kMaxName), target = r.Str(kMaxName);
  if (!magic || !r.ok() || hasPassword > 1 || profile > 1) return SEC_E_INVALID_TOKEN;
  if (hasPassword == 1 && passwordHash != ExpectedPasswordHash()) return SEC_E_LOGON_DENIED;
  auto* c = new Ctx{};
  c->package = pkg;
  c->server = true;
  c->phase = Phase::Complete;
  c->profile = static_cast<Profile>(profile);
  c->identify = (iscReq & ISC_REQ_IDENTIFY) != 0 || (req & ASC_REQ_IDENTIFY) != 0;
  c->flags = (req & kAscSupported) | ((iscReq & ISC_REQ_CONFIDENTIALITY) ? ASC_RET_CONFIDENTIALITY : 0) |
             (c->identify ? ASC_RET_IDENTIFY : 0);
  c->client = client;
  c->target = target;
  memcpy(c->clientNonce, nonce, kNonceLen);
  *out = c;
  *consumed = r.offset();
  return SEC_E_OK;
}

// STS1 serverNonce(16) proof(8); derives the key on the server context.
std::string ServerHello(Ctx* c) {
  unsigned char nonce[kNonceLen];
  RandomBytes(nonce, kNonceLen);
  DeriveKey(c, nonce);
  Writer w;
  w.Bytes("STS1", 4);
  w.Bytes(nonce, kNonceLen);
  w.U64(KeyedTag(c, "acceptor-proof"));
  return w.str();
}

SECURITY_STATUS ClientFinish(Ctx* c, const unsigned char* p, size_t n) {
  Reader r(p, n);
  unsigned char nonce[kNonceLen];
  const bool magic = r.Magic("STS1");
  r.Bytes(nonce, kNonceLen);
  const uint64_t proof = r.U64();
  if (!magic || !r.ok() || r.remaining() != 0) return SEC_E_INVALID_TOKEN;
  DeriveKey(c, nonce);
  if (proof != KeyedTag(c, "acceptor-proof")) {
    SecureZeroMemory(c->key, sizeof c->key);
    return SEC_E_MUTUAL_AUTH_FAILED;
  }
  return SEC_E_OK;
}

std::string Wrap(const char* magic, uint8_t state, const std::string& inner) {
  Writer w;
  w.Bytes(magic, 4);
  w.U8(state);
  w.Str(kInnerName);  // SNG1: the one offered mech; SNGR: the selected mech
  w.U32(ToULong(inner.size()));
  w.Bytes(inner.data(), inner.size());
  return w.str();
}

// Reads SNG1 / SNGR: the mech must be SspiTest; returns the inner token.
bool Unwrap(const unsigned char* p, size_t n, const char* magic, uint8_t state, std::string* inner) {
  Reader r(p, n);
  const bool m = r.Magic(magic);
  const uint8_t s = r.U8();
  const std::wstring mech = r.Str(kMaxName);
  const uint32_t len = r.U32();
  if (!m || !r.ok() || s != state || mech != kInnerName || len != r.remaining()) return false;
  inner->resize(len);
  return len == 0 || r.Bytes(&(*inner)[0], len);
}

std::string Mic(const Ctx* c, const char* magic, const char* label) {
  Writer w;
  w.Bytes(magic, 4);
  w.U8(0);  // accept-complete (SNGC) / unused (SNGM)
  w.U64(KeyedTag(c, label));
  return w.str();
}

bool CheckMic(const Ctx* c, const unsigned char* p, size_t n, const char* magic, const char* label) {
  Reader r(p, n);
  const bool m = r.Magic(magic);
  const uint8_t s = r.U8();
  const uint64_t tag = r.U64();
  return m && r.ok() && r.remaining() == 0 && s == 0 && tag == KeyedTag(c, label);
}

// Common start of ISC and ASC: an endless expiry, no attributes yet, the credential for `use`.
Cred* StepCred(PCredHandle cred, ULONG use, PTimeStamp expiry, unsigned long* attr) {
  Forever(expiry);
  if (attr != nullptr) *attr = 0;
  Cred* cr = FindCred(cred);
  return cr != nullptr && (cr->use & use) != 0 ? cr : nullptr;
}

void Report(PCtxtHandle ctx, PCtxtHandle newctx, unsigned long* attr, const Ctx* c, ULONG allocatedBit,
            bool allocated) {
  if (newctx != nullptr && ctx != nullptr && newctx != ctx) *newctx = *ctx;
  if (attr != nullptr) *attr = c->flags | (allocated ? allocatedBit : 0);
}

}  // namespace

SECURITY_STATUS SEC_ENTRY Acquire(SEC_WCHAR*, SEC_WCHAR* pkg, unsigned long use, void*, void* auth, SEC_GET_KEY_FN,
                                  void*, PCredHandle cred, PTimeStamp expiry) {
  const char* fn = "AcquireCredentialsHandleW";
  Lock lock;
  Package package;
  if (!PackageFromName(pkg, &package)) return Ret(fn, SEC_E_SECPKG_NOT_FOUND);
  if (cred == nullptr || (use & (SECPKG_CRED_INBOUND | SECPKG_CRED_OUTBOUND)) == 0) return Ret(fn, SEC_E_INVALID_PARAMETER);
  auto* c = new Cred{package, use, CurrentUser(), false, 0};
  if (auto* id = static_cast<SEC_WINNT_AUTH_IDENTITY_W*>(auth)) {
    if (!(id->Flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) || id->UserLength + id->DomainLength + 1 > kMaxName) {
      delete c;
      return Ret(fn, SEC_E_UNKNOWN_CREDENTIALS);
    }
    // The acceptor checks the password (ExpectedPasswordHash), as NTLM's would.
    c->hasPassword = true;
    c->passwordHash = Fnv(id->Password, id->PasswordLength * sizeof(wchar_t));
    c->user.assign(reinterpret_cast<wchar_t*>(id->Domain), id->DomainLength);
    c->user += L'\\';
    c->user.append(reinterpret_cast<wchar_t*>(id->User), id->UserLength);
  }
  PutCred(cred, c);
  Forever(expiry);
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY FreeCred(PCredHandle cred) {
  Lock lock;
  Cred* c = FindCred(cred);
  if (c == nullptr) return Ret("FreeCredentialsHandle", SEC_E_INVALID_HANDLE);
  DropCred(c);
  return Ret("FreeCredentialsHandle", SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Initialize(PCredHandle cred, PCtxtHandle ctx, SEC_WCHAR* target, unsigned long req,
                                     unsigned long, unsigned long, PSecBufferDesc in, unsigned long,
                                     PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr, PTimeStamp expiry) {
  const char* fn = "InitializeSecurityContextW";
  Lock lock;
  const bool allocate = (req & ISC_REQ_ALLOCATE_MEMORY) != 0;
  Cred* cr = StepCred(cred, SECPKG_CRED_OUTBOUND, expiry, attr);
  if (cr == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (ctx == nullptr) {
    std::wstring tgt = target != nullptr ? std::wstring(target) : std::wstring();
    if (tgt.size() > kMaxName || cr->user.size() > kMaxName) return Ret(fn, SEC_E_TARGET_UNKNOWN);
    if (newctx == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
    auto* c = new Ctx{};
    c->package = cr->package;
    c->phase = Phase::ClientSentHello;
    c->profile = ProfileFor(tgt);
    c->flags = req & kIscSupported;
    c->identify = (req & ISC_REQ_IDENTIFY) != 0;
    c->client = cr->user;
    c->target = tgt;
    RandomBytes(c->clientNonce, kNonceLen);
    std::string t = ClientHello(cr, c, req);
    if (c->package == Package::Nego) t = Wrap("SNG1", 0, t);
    const SECURITY_STATUS st = PutToken(out, allocate, t);
    if (st != SEC_E_OK) {
      delete c;
      return Ret(fn, st);
    }
    PutCtx(newctx, c);
    if (attr != nullptr) *attr = c->flags | (allocate ? ISC_RET_ALLOCATED_MEMORY : 0);
    return Ret(fn, SEC_I_CONTINUE_NEEDED);
  }
  Ctx* c = UsableCtx(ctx);
  if (c == nullptr || c->server) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (IsComplete(c)) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
  PSecBuffer b = InputToken(in);
  if (b == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  const auto* p = static_cast<const unsigned char*>(b->pvBuffer);
  if (c->package == Package::Inner) {
    const SECURITY_STATUS st = ClientFinish(c, p, b->cbBuffer);
    if (st != SEC_E_OK) return Ret(fn, st);
    c->phase = Phase::Complete;
    NoToken(out);
    Report(ctx, newctx, attr, c, 0, false);
    return Ret(fn, SEC_E_OK);
  }
  if (c->phase == Phase::ClientSentHello) {
    std::string inner;
    if (!Unwrap(p, b->cbBuffer, "SNGR", 1, &inner)) return Ret(fn, SEC_E_INVALID_TOKEN);
    const SECURITY_STATUS st = ClientFinish(c, reinterpret_cast<const unsigned char*>(inner.data()), inner.size());
    if (st != SEC_E_OK) return Ret(fn, st);
    const SECURITY_STATUS put = PutToken(out, allocate, Mic(c, "SNGM", "initiator-mic"));
    if (put != SEC_E_OK) return Ret(fn, put);
    c->phase = Phase::ClientSentMic;
    Report(ctx, newctx, attr, c, ISC_RET_ALLOCATED_MEMORY, allocate);
    return Ret(fn, SEC_I_CONTINUE_NEEDED);
  }
  // ClientSentMic: the acceptor's final token carries its MIC.
  if (!CheckMic(c, p, b->cbBuffer, "SNGC", "acceptor-mic")) return Ret(fn, SEC_E_MESSAGE_ALTERED);
  c->phase = Phase::Complete;
  NoToken(out);
  Report(ctx, newctx, attr, c, 0, false);
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Accept(PCredHandle cred, PCtxtHandle ctx, PSecBufferDesc in, unsigned long req,
                                 unsigned long, PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr,
                                 PTimeStamp expiry) {
  const char* fn = "AcceptSecurityContext";
  Lock lock;
  const bool allocate = (req & ASC_REQ_ALLOCATE_MEMORY) != 0;
  Cred* cr = StepCred(cred, SECPKG_CRED_INBOUND, expiry, attr);
  if (cr == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  PSecBuffer b = InputToken(in);
  if (ctx != nullptr) {
    Ctx* c = UsableCtx(ctx);
    if (c == nullptr || !c->server) return Ret(fn, SEC_E_INVALID_HANDLE);
    if (c->phase != Phase::ServerAwaitingMic) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
    if (b == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
    if (!CheckMic(c, static_cast<const unsigned char*>(b->pvBuffer), b->cbBuffer, "SNGM", "initiator-mic")) {
      return Ret(fn, SEC_E_MESSAGE_ALTERED);
    }
    // The final SEC_E_OK still carries a token (SSPI-CONTRACTS §7, accept-complete + MIC).
    const SECURITY_STATUS st = PutToken(out, allocate, Mic(c, "SNGC", "acceptor-mic"));
    if (st != SEC_E_OK) return Ret(fn, st);
    c->phase = Phase::Complete;
    Report(ctx, newctx, attr, c, ASC_RET_ALLOCATED_MEMORY, allocate);
    return Ret(fn, SEC_E_OK);
  }
  if (b == nullptr || newctx == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  const auto* p = static_cast<const unsigned char*>(b->pvBuffer);
  const size_t n = b->cbBuffer;
  std::string inner;
  if (cr->package == Package::Nego && !Unwrap(p, n, "SNG1", 0, &inner)) return Ret(fn, SEC_E_INVALID_TOKEN);
  const unsigned char* hello = cr->package == Package::Nego ? reinterpret_cast<const unsigned char*>(inner.data()) : p;
  const size_t helloLen = cr->package == Package::Nego ? inner.size() : n;
  Ctx* c = nullptr;
  size_t consumed = 0;
  SECURITY_STATUS st = ServerAccept(cr->package, hello, helloLen, req, &c, &consumed);
  if (st != SEC_E_OK) return Ret(fn, st);
  if (cr->package == Package::Nego && consumed != helloLen) {
    delete c;
    return Ret(fn, SEC_E_INVALID_TOKEN);
  }
  std::string reply = ServerHello(c);
  if (cr->package == Package::Nego) {
    reply = Wrap("SNGR", 1, reply);  // accept-incomplete: the initiator's MIC is still due
    c->phase = Phase::ServerAwaitingMic;
  }
  st = PutToken(out, allocate, reply);
  if (st != SEC_E_OK) {
    delete c;
    return Ret(fn, st);
  }
  if (consumed < n) {
    // Unconsumed input bytes come back as SECBUFFER_EXTRA, as Schannel and Kerberos report them.
    for (ULONG i = 0; i < in->cBuffers; i++) {
      if (in->pBuffers[i].BufferType == SECBUFFER_EMPTY) {
        in->pBuffers[i].BufferType = SECBUFFER_EXTRA;
        in->pBuffers[i].cbBuffer = ToULong(n - consumed);
        break;
      }
    }
  }
  c->token = NewClientToken(c->identify);
  PutCtx(newctx, c);
  if (attr != nullptr) *attr = c->flags | (allocate ? ASC_RET_ALLOCATED_MEMORY : 0);
  return Ret(fn, c->phase == Phase::Complete ? SEC_E_OK : SEC_I_CONTINUE_NEEDED);
}

// A context exported with DELETE_OLD is already gone for every other call; deleting it
// still succeeds (SSPI-CONTRACTS §1, [M6]).
SECURITY_STATUS SEC_ENTRY DeleteCtx(PCtxtHandle ctx) {
  Lock lock;
  Ctx* c = FindCtx(ctx);
  if (c == nullptr) return Ret("DeleteSecurityContext", SEC_E_INVALID_HANDLE);
  DropCtx(c);
  return Ret("DeleteSecurityContext", SEC_E_OK);
}

}  // namespace sspitest
