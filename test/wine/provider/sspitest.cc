// SspiTest: a user-mode security support provider for the Wine tests (see README.md).
#include <windows.h>
#include <security.h>
#include <sspi.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <string>

namespace {

const wchar_t kName[] = L"SspiTest";
const wchar_t kComment[] = L"sspi-context test provider (fixture)";
const char kMagic[8] = {'S', 'S', 'P', 'T', 'C', 'T', 'X', '1'};
constexpr ULONG kMaxToken = 1024, kSigLen = 16, kNonceLen = 16;
constexpr DWORD kCredMagic = 0x43524544, kCtxMagic = 0x43545854, kDeadMagic = 0xdeaddead;

// ---- logging (optional) -------------------------------------------------------------

void Log(const char* fn, SECURITY_STATUS st) {
  wchar_t path[MAX_PATH];
  DWORD n = GetEnvironmentVariableW(L"SSPITEST_LOG", path, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return;
  char line[160];
  int len = snprintf(line, sizeof line, "%lu %s 0x%08lx\n", GetCurrentProcessId(), fn, static_cast<unsigned long>(st));
  HANDLE f = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) return;
  DWORD written = 0;
  WriteFile(f, line, static_cast<DWORD>(len), &written, nullptr);
  CloseHandle(f);
}

SECURITY_STATUS Ret(const char* fn, SECURITY_STATUS st) {
  Log(fn, st);
  return st;
}

// ---- memory: everything a caller frees with FreeContextBuffer is on the process heap ----

void* HeapZ(size_t n) { return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, n); }
void HeapRelease(void* p) {
  if (p != nullptr) HeapFree(GetProcessHeap(), 0, p);
}
wchar_t* HeapString(const std::wstring& s) {
  auto* p = static_cast<wchar_t*>(HeapZ((s.size() + 1) * sizeof(wchar_t)));
  if (p != nullptr) memcpy(p, s.c_str(), (s.size() + 1) * sizeof(wchar_t));
  return p;
}

// ---- toy keyed hash (fixture only) ------------------------------------------------

uint64_t Fnv(const void* data, size_t n, uint64_t h = 1469598103934665603ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

struct Cred {
  DWORD magic;
  ULONG use;
  wchar_t user[128];  // "DOMAIN\user" of an explicit identity, or empty (current user)
  bool hasPassword;
  uint64_t passwordHash;
};

// The one password the server side accepts for an explicit identity: SSPITEST_PASSWORD,
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

struct Ctx {
  DWORD magic;
  bool server;
  bool complete;
  ULONG flags;  // ISC_RET_* / ASC_RET_* granted (the requested bits)
  unsigned char key[16];
  uint32_t sendSeq, recvSeq;
  wchar_t client[128];  // NAMES / NATIVE_NAMES client
  wchar_t target[128];  // NATIVE_NAMES server
  unsigned char clientNonce[kNonceLen];
  HANDLE token;  // server side: impersonation token
};

void Mac(const Ctx* c, bool fromClient, uint32_t seq, const unsigned char* data, size_t n, unsigned char out[12]) {
  uint64_t h = Fnv(c->key, sizeof c->key);
  const unsigned char dir = fromClient ? 1 : 2;
  h = Fnv(&dir, 1, h);
  h = Fnv(&seq, 4, h);
  h = Fnv(data, n, h);
  uint64_t h2 = Fnv(&h, 8, h ^ 0x5bd1e995ULL);
  memcpy(out, &h, 8);
  memcpy(out + 8, &h2, 4);
}

void Keystream(const Ctx* c, bool fromClient, uint32_t seq, unsigned char* data, size_t n) {
  uint64_t s = Fnv(c->key, sizeof c->key, 0xcbf29ce484222325ULL ^ (fromClient ? 0x11 : 0x22)) ^ seq;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    data[i] ^= static_cast<unsigned char>(s);
  }
}

Cred* GetCred(PCredHandle h) {
  if (h == nullptr) return nullptr;
  auto* c = reinterpret_cast<Cred*>(h->dwLower);
  return (c != nullptr && c->magic == kCredMagic) ? c : nullptr;
}
// Live contexts only; a context exported with DELETE_OLD has kDeadMagic until deleted.
Ctx* GetCtx(PCtxtHandle h, bool allowDead = false) {
  if (h == nullptr) return nullptr;
  auto* c = reinterpret_cast<Ctx*>(h->dwLower);
  if (c == nullptr) return nullptr;
  return (c->magic == kCtxMagic || (allowDead && c->magic == kDeadMagic)) ? c : nullptr;
}
void SetHandle(PSecHandle h, void* p) {
  h->dwLower = reinterpret_cast<ULONG_PTR>(p);
  h->dwUpper = 0;  // secur32 overwrites it with its own value
}

PSecBuffer Find(PSecBufferDesc d, ULONG type) {
  if (d == nullptr) return nullptr;
  for (ULONG i = 0; i < d->cBuffers; i++)
    if ((d->pBuffers[i].BufferType & ~SECBUFFER_ATTRMASK) == type) return &d->pBuffers[i];
  return nullptr;
}

void Random(unsigned char* p, size_t n) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  uint64_t s = Fnv(&t, sizeof t, GetCurrentThreadId() * 0x9E3779B97F4A7C15ULL) | 1;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    p[i] = static_cast<unsigned char>(s >> 24);
  }
}

HANDLE ImpersonationToken(HANDLE source) {
  HANDLE imp = nullptr;
  if (!DuplicateTokenEx(source, TOKEN_ALL_ACCESS, nullptr, SecurityImpersonation, TokenImpersonation, &imp)) return nullptr;
  return imp;
}
HANDLE ProcessImpersonationToken() {
  HANDLE p = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &p)) return nullptr;
  HANDLE imp = ImpersonationToken(p);
  CloseHandle(p);
  return imp;
}

std::wstring CurrentUser() {
  wchar_t name[128];
  DWORD n = 128;
  if (!GetUserNameW(name, &n)) return L"SSPITEST\\unknown";
  return std::wstring(L"SSPITEST\\") + name;
}

// Writes an output token; honours ISC/ASC_REQ_ALLOCATE_MEMORY.
SECURITY_STATUS PutToken(PSecBufferDesc out, ULONG req, const std::string& bytes) {
  PSecBuffer b = Find(out, SECBUFFER_TOKEN);
  if (b == nullptr) return SEC_E_INVALID_TOKEN;
  const auto n = static_cast<ULONG>(bytes.size());
  if (req & ISC_REQ_ALLOCATE_MEMORY) {
    b->pvBuffer = HeapZ(n);
    if (b->pvBuffer == nullptr) return SEC_E_INSUFFICIENT_MEMORY;
  } else if (b->pvBuffer == nullptr || b->cbBuffer < n) {
    return SEC_E_BUFFER_TOO_SMALL;
  }
  memcpy(b->pvBuffer, bytes.data(), n);
  b->cbBuffer = n;
  return SEC_E_OK;
}

SecPkgInfoW* NewPackageInfo() {
  const size_t name = sizeof kName, comment = sizeof kComment;
  auto* info = static_cast<SecPkgInfoW*>(HeapZ(sizeof(SecPkgInfoW) + name + comment));
  if (info == nullptr) return nullptr;
  info->fCapabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
                        SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME;
  info->wVersion = 1;
  info->wRPCID = SECPKG_ID_NONE;
  info->cbMaxToken = kMaxToken;
  info->Name = reinterpret_cast<SEC_WCHAR*>(info + 1);
  memcpy(info->Name, kName, name);
  info->Comment = reinterpret_cast<SEC_WCHAR*>(reinterpret_cast<char*>(info->Name) + name);
  memcpy(info->Comment, kComment, comment);
  return info;
}

void Forever(PTimeStamp t) {
  if (t != nullptr) t->QuadPart = 0x7fffffffffffffffLL;
}

// ---- the function table ---------------------------------------------------------------

SECURITY_STATUS SEC_ENTRY FreeBuffer(PVOID p) {
  HeapRelease(p);
  return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY EnumeratePackages(unsigned long* count, PSecPkgInfoW* info) {
  *info = NewPackageInfo();
  *count = *info != nullptr ? 1 : 0;
  return *info != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

SECURITY_STATUS SEC_ENTRY QueryPackageInfo(SEC_WCHAR* name, PSecPkgInfoW* info) {
  if (name == nullptr || _wcsicmp(name, kName) != 0) return SEC_E_SECPKG_NOT_FOUND;
  *info = NewPackageInfo();
  return *info != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

SECURITY_STATUS SEC_ENTRY Acquire(SEC_WCHAR*, SEC_WCHAR*, unsigned long use, void*, void* auth, SEC_GET_KEY_FN, void*,
                                  PCredHandle cred, PTimeStamp expiry) {
  auto* c = static_cast<Cred*>(HeapZ(sizeof(Cred)));
  if (c == nullptr) return Ret("AcquireCredentialsHandleW", SEC_E_INSUFFICIENT_MEMORY);
  c->magic = kCredMagic;
  c->use = use;
  if (auto* id = static_cast<SEC_WINNT_AUTH_IDENTITY_W*>(auth)) {
    if (!(id->Flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) || id->UserLength + id->DomainLength + 2 > 128) {
      HeapRelease(c);
      return Ret("AcquireCredentialsHandleW", SEC_E_UNKNOWN_CREDENTIALS);
    }
    // The password is checked by the server side (ExpectedPasswordHash), as NTLM would.
    c->hasPassword = true;
    c->passwordHash = Fnv(id->Password, id->PasswordLength * sizeof(wchar_t));
    std::wstring u(reinterpret_cast<wchar_t*>(id->Domain), id->DomainLength);
    u += L'\\';
    u.append(reinterpret_cast<wchar_t*>(id->User), id->UserLength);
    wcscpy(c->user, u.c_str());
  }
  SetHandle(cred, c);
  Forever(expiry);
  return Ret("AcquireCredentialsHandleW", SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY FreeCred(PCredHandle cred) {
  Cred* c = GetCred(cred);
  if (c == nullptr) return Ret("FreeCredentialsHandle", SEC_E_INVALID_HANDLE);
  c->magic = 0;
  HeapRelease(c);
  return Ret("FreeCredentialsHandle", SEC_E_OK);
}

// Token layout: "STC1" nonce(16) hasPassword(1) passwordHash(8) user-length(2) user
//               target-length(2) target (UTF-16).
SECURITY_STATUS SEC_ENTRY Initialize(PCredHandle cred, PCtxtHandle ctx, SEC_WCHAR* target, unsigned long req,
                                     unsigned long, unsigned long, PSecBufferDesc in, unsigned long,
                                     PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr, PTimeStamp expiry) {
  const char* fn = "InitializeSecurityContextW";
  Forever(expiry);
  if (attr != nullptr) *attr = 0;
  Cred* cr = GetCred(cred);
  if (cr == nullptr || !(cr->use & SECPKG_CRED_OUTBOUND)) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (ctx == nullptr) {
    auto* c = static_cast<Ctx*>(HeapZ(sizeof(Ctx)));
    if (c == nullptr) return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
    c->magic = kCtxMagic;
    c->flags = req & ~static_cast<ULONG>(ISC_REQ_ALLOCATE_MEMORY);
    Random(c->clientNonce, kNonceLen);
    std::wstring user = cr->user[0] != 0 ? std::wstring(cr->user) : CurrentUser();
    std::wstring tgt = target != nullptr ? std::wstring(target) : std::wstring();
    if (user.size() > 120 || tgt.size() > 120) {
      HeapRelease(c);
      return Ret(fn, SEC_E_TARGET_UNKNOWN);
    }
    wcscpy(c->client, user.c_str());
    wcscpy(c->target, tgt.c_str());
    std::string t("STC1");
    t.append(reinterpret_cast<const char*>(c->clientNonce), kNonceLen);
    t.push_back(cr->hasPassword ? 1 : 0);
    t.append(reinterpret_cast<const char*>(&cr->passwordHash), 8);
    for (const std::wstring* s : {&user, &tgt}) {
      const auto n = static_cast<uint16_t>(s->size());
      t.append(reinterpret_cast<const char*>(&n), 2);
      t.append(reinterpret_cast<const char*>(s->data()), s->size() * 2);
    }
    SECURITY_STATUS st = PutToken(out, req, t);
    if (st != SEC_E_OK) {
      HeapRelease(c);
      return Ret(fn, st);
    }
    SetHandle(newctx, c);
    if (attr != nullptr) *attr = c->flags | ((req & ISC_REQ_ALLOCATE_MEMORY) ? ISC_RET_ALLOCATED_MEMORY : 0);
    return Ret(fn, SEC_I_CONTINUE_NEEDED);
  }
  Ctx* c = GetCtx(ctx);
  if (c == nullptr || c->server) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (c->complete) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
  PSecBuffer b = Find(in, SECBUFFER_TOKEN);
  if (b == nullptr || b->pvBuffer == nullptr || b->cbBuffer != 4 + kNonceLen || memcmp(b->pvBuffer, "STS1", 4) != 0) {
    return Ret(fn, SEC_E_INVALID_TOKEN);
  }
  unsigned char both[2 * kNonceLen];
  memcpy(both, c->clientNonce, kNonceLen);
  memcpy(both + kNonceLen, static_cast<unsigned char*>(b->pvBuffer) + 4, kNonceLen);
  uint64_t k1 = Fnv(both, sizeof both), k2 = Fnv(both, sizeof both, k1);
  memcpy(c->key, &k1, 8);
  memcpy(c->key + 8, &k2, 8);
  c->complete = true;
  if (PSecBuffer o = Find(out, SECBUFFER_TOKEN)) o->cbBuffer = 0;
  if (newctx != nullptr && newctx != ctx) *newctx = *ctx;
  if (attr != nullptr) *attr = c->flags;
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Accept(PCredHandle cred, PCtxtHandle ctx, PSecBufferDesc in, unsigned long req,
                                 unsigned long, PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr,
                                 PTimeStamp expiry) {
  const char* fn = "AcceptSecurityContext";
  Forever(expiry);
  if (attr != nullptr) *attr = 0;
  Cred* cr = GetCred(cred);
  if (cr == nullptr || !(cr->use & SECPKG_CRED_INBOUND)) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (ctx != nullptr) return Ret(fn, GetCtx(ctx) != nullptr ? SEC_E_OUT_OF_SEQUENCE : SEC_E_INVALID_HANDLE);
  PSecBuffer b = Find(in, SECBUFFER_TOKEN);
  const auto* p = b != nullptr ? static_cast<const unsigned char*>(b->pvBuffer) : nullptr;
  const size_t n = b != nullptr ? b->cbBuffer : 0;
  if (p == nullptr || n < 4 + kNonceLen + 9 + 4 || memcmp(p, "STC1", 4) != 0 || p[4 + kNonceLen] > 1) {
    return Ret(fn, SEC_E_INVALID_TOKEN);
  }
  // Parse the two length-prefixed strings; more bytes than that are SECBUFFER_EXTRA.
  size_t off = 4 + kNonceLen + 9;
  std::wstring strs[2];
  for (std::wstring& s : strs) {
    if (off + 2 > n) return Ret(fn, SEC_E_INVALID_TOKEN);
    uint16_t len;
    memcpy(&len, p + off, 2);
    off += 2;
    if (len > 120 || off + len * 2u > n) return Ret(fn, SEC_E_INVALID_TOKEN);
    s.assign(reinterpret_cast<const wchar_t*>(p + off), len);
    off += len * 2u;
  }
  if (p[4 + kNonceLen] == 1) {
    uint64_t hash;
    memcpy(&hash, p + 4 + kNonceLen + 1, 8);
    if (hash != ExpectedPasswordHash()) return Ret(fn, SEC_E_LOGON_DENIED);
  }
  auto* c = static_cast<Ctx*>(HeapZ(sizeof(Ctx)));
  if (c == nullptr) return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
  c->magic = kCtxMagic;
  c->server = true;
  c->complete = true;
  c->flags = req & ~static_cast<ULONG>(ASC_REQ_ALLOCATE_MEMORY);
  wcscpy(c->client, strs[0].c_str());
  wcscpy(c->target, strs[1].c_str());
  unsigned char both[2 * kNonceLen];
  memcpy(both, p + 4, kNonceLen);
  Random(both + kNonceLen, kNonceLen);
  uint64_t k1 = Fnv(both, sizeof both), k2 = Fnv(both, sizeof both, k1);
  memcpy(c->key, &k1, 8);
  memcpy(c->key + 8, &k2, 8);
  std::string t("STS1");
  t.append(reinterpret_cast<const char*>(both + kNonceLen), kNonceLen);
  SECURITY_STATUS st = PutToken(out, req, t);
  if (st != SEC_E_OK) {
    HeapRelease(c);
    return Ret(fn, st);
  }
  if (off < n) {
    // Report unconsumed input bytes the way Schannel and Kerberos do.
    for (ULONG i = 0; in != nullptr && i < in->cBuffers; i++) {
      if (in->pBuffers[i].BufferType == SECBUFFER_EMPTY) {
        in->pBuffers[i].BufferType = SECBUFFER_EXTRA;
        in->pBuffers[i].cbBuffer = static_cast<ULONG>(n - off);
        break;
      }
    }
  }
  c->token = ProcessImpersonationToken();
  SetHandle(newctx, c);
  if (attr != nullptr) *attr = c->flags | ((req & ASC_REQ_ALLOCATE_MEMORY) ? ASC_RET_ALLOCATED_MEMORY : 0);
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY DeleteCtx(PCtxtHandle ctx) {
  Ctx* c = GetCtx(ctx, true);
  if (c == nullptr) return Ret("DeleteSecurityContext", SEC_E_INVALID_HANDLE);
  if (c->token != nullptr) CloseHandle(c->token);
  SecureZeroMemory(c, sizeof *c);
  HeapRelease(c);
  return Ret("DeleteSecurityContext", SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY QueryAttr(PCtxtHandle ctx, unsigned long attr, void* buf) {
  const char* fn = "QueryContextAttributesW";
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  switch (attr) {
    case SECPKG_ATTR_SIZES: {
      auto* z = static_cast<SecPkgContext_Sizes*>(buf);
      z->cbMaxToken = kMaxToken;
      z->cbMaxSignature = kSigLen;
      z->cbBlockSize = 0;
      z->cbSecurityTrailer = kSigLen;
      return Ret(fn, SEC_E_OK);
    }
    case SECPKG_ATTR_NAMES:
      if (!c->complete) return Ret(fn, SEC_E_INVALID_HANDLE);
      static_cast<SecPkgContext_NamesW*>(buf)->sUserName = HeapString(c->client);
      return Ret(fn, SEC_E_OK);
    case SECPKG_ATTR_NATIVE_NAMES: {
      if (!c->complete) return Ret(fn, SEC_E_INVALID_HANDLE);
      auto* n = static_cast<SecPkgContext_NativeNamesW*>(buf);
      n->sClientName = HeapString(c->client);
      n->sServerName = HeapString(c->target);
      return Ret(fn, SEC_E_OK);
    }
    case SECPKG_ATTR_FLAGS:
      static_cast<SecPkgContext_Flags*>(buf)->Flags = c->flags;
      return Ret(fn, SEC_E_OK);
    case SECPKG_ATTR_LIFESPAN: {
      auto* l = static_cast<SecPkgContext_Lifespan*>(buf);
      l->tsStart.QuadPart = 0;
      l->tsExpiry.QuadPart = 0x7fffffffffffffffLL;
      return Ret(fn, SEC_E_OK);
    }
    case SECPKG_ATTR_PACKAGE_INFO:
      static_cast<SecPkgContext_PackageInfoW*>(buf)->PackageInfo = NewPackageInfo();
      return Ret(fn, SEC_E_OK);
    default:
      return Ret(fn, SEC_E_UNSUPPORTED_FUNCTION);
  }
}

// ---- message protection ---------------------------------------------------------------

SECURITY_STATUS Protect(PCtxtHandle ctx, PSecBufferDesc msg, bool seal, const char* fn) {
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (!c->complete) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
  PSecBuffer data = Find(msg, SECBUFFER_DATA), tok = Find(msg, SECBUFFER_TOKEN);
  if (data == nullptr || tok == nullptr || tok->cbBuffer < kSigLen || tok->pvBuffer == nullptr) {
    return Ret(fn, SEC_E_BUFFER_TOO_SMALL);
  }
  auto* d = static_cast<unsigned char*>(data->pvBuffer);
  auto* t = static_cast<unsigned char*>(tok->pvBuffer);
  const uint32_t seq = c->sendSeq++;
  memcpy(t, &seq, 4);
  Mac(c, !c->server, seq, d, data->cbBuffer, t + 4);
  if (seal) Keystream(c, !c->server, seq, d, data->cbBuffer);
  tok->cbBuffer = kSigLen;
  if (PSecBuffer pad = Find(msg, SECBUFFER_PADDING)) pad->cbBuffer = 0;
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS Unprotect(PCtxtHandle ctx, PSecBufferDesc msg, bool seal, const char* fn, unsigned long* qop) {
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (!c->complete) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
  if (qop != nullptr) *qop = 0;
  PSecBuffer data = Find(msg, SECBUFFER_DATA), tok = Find(msg, SECBUFFER_TOKEN);
  if (data == nullptr || tok == nullptr || tok->pvBuffer == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  if (tok->cbBuffer != kSigLen) return Ret(fn, SEC_E_INVALID_TOKEN);
  auto* d = static_cast<unsigned char*>(data->pvBuffer);
  const auto* t = static_cast<const unsigned char*>(tok->pvBuffer);
  uint32_t seq;
  memcpy(&seq, t, 4);
  if (seq != c->recvSeq) return Ret(fn, SEC_E_OUT_OF_SEQUENCE);
  if (seal) Keystream(c, c->server, seq, d, data->cbBuffer);
  unsigned char mac[12];
  Mac(c, c->server, seq, d, data->cbBuffer, mac);
  if (memcmp(mac, t + 4, 12) != 0) {
    if (seal) Keystream(c, c->server, seq, d, data->cbBuffer);  // leave the input as it was
    return Ret(fn, SEC_E_MESSAGE_ALTERED);
  }
  c->recvSeq++;
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Sign(PCtxtHandle ctx, unsigned long, PSecBufferDesc msg, unsigned long) {
  return Protect(ctx, msg, false, "MakeSignature");
}
SECURITY_STATUS SEC_ENTRY Verify(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop) {
  return Unprotect(ctx, msg, false, "VerifySignature", qop);
}
SECURITY_STATUS SEC_ENTRY Seal(PCtxtHandle ctx, unsigned long, PSecBufferDesc msg, unsigned long) {
  return Protect(ctx, msg, true, "EncryptMessage");
}
SECURITY_STATUS SEC_ENTRY Unseal(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop) {
  return Unprotect(ctx, msg, true, "DecryptMessage", qop);
}

// ---- tokens and impersonation ---------------------------------------------------------

SECURITY_STATUS SEC_ENTRY QueryToken(PCtxtHandle ctx, void** token) {
  const char* fn = "QuerySecurityContextToken";
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (c->token == nullptr) return Ret(fn, SEC_E_NO_IMPERSONATION);
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), c->token, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    return Ret(fn, SEC_E_INTERNAL_ERROR);
  }
  *token = dup;  // the caller closes it
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Impersonate(PCtxtHandle ctx) {
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret("ImpersonateSecurityContext", SEC_E_INVALID_HANDLE);
  if (c->token == nullptr) return Ret("ImpersonateSecurityContext", SEC_E_NO_IMPERSONATION);
  return Ret("ImpersonateSecurityContext", SetThreadToken(nullptr, c->token) ? SEC_E_OK : SEC_E_NO_IMPERSONATION);
}

SECURITY_STATUS SEC_ENTRY Revert(PCtxtHandle ctx) {
  if (GetCtx(ctx) == nullptr) return Ret("RevertSecurityContext", SEC_E_INVALID_HANDLE);
  return Ret("RevertSecurityContext", RevertToSelf() ? SEC_E_OK : SEC_E_INTERNAL_ERROR);
}

// ---- export / import ----------------------------------------------------------------
// Packed: magic(8) version(1) server(1) complete(1) pad(1) flags(4) key(16) sendSeq(4)
//         recvSeq(4) clientLen(2) client targetLen(2) target checksum(8)

constexpr uint8_t kPackVersion = 1;

SECURITY_STATUS SEC_ENTRY Export(PCtxtHandle ctx, ULONG flags, PSecBuffer packed, void** token) {
  const char* fn = "ExportSecurityContext";
  if (token != nullptr) *token = nullptr;
  Ctx* c = GetCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (!c->complete) return Ret(fn, SEC_E_CANNOT_PACK);
  if (packed == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  const bool reset = (flags & SECPKG_CONTEXT_EXPORT_RESET_NEW) != 0;
  std::string s(kMagic, 8);
  const unsigned char head[4] = {kPackVersion, static_cast<unsigned char>(c->server), 1, 0};
  s.append(reinterpret_cast<const char*>(head), 4);
  s.append(reinterpret_cast<const char*>(&c->flags), 4);
  s.append(reinterpret_cast<const char*>(c->key), 16);
  const uint32_t send = reset ? 0 : c->sendSeq, recv = reset ? 0 : c->recvSeq;
  s.append(reinterpret_cast<const char*>(&send), 4);
  s.append(reinterpret_cast<const char*>(&recv), 4);
  for (const wchar_t* w : {c->client, c->target}) {
    const auto n = static_cast<uint16_t>(wcslen(w));
    s.append(reinterpret_cast<const char*>(&n), 2);
    s.append(reinterpret_cast<const char*>(w), n * 2u);
  }
  const uint64_t sum = Fnv(s.data(), s.size(), 0x1234567887654321ULL);
  s.append(reinterpret_cast<const char*>(&sum), 8);
  packed->pvBuffer = HeapZ(s.size());
  if (packed->pvBuffer == nullptr) return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
  memcpy(packed->pvBuffer, s.data(), s.size());
  packed->cbBuffer = static_cast<ULONG>(s.size());
  packed->BufferType = SECBUFFER_EMPTY;
  if (c->server && token != nullptr) {
    HANDLE t = nullptr;
    if (OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &t)) *token = t;  // the caller closes it
  }
  if (flags & SECPKG_CONTEXT_EXPORT_DELETE_OLD) c->magic = kDeadMagic;  // freed by DeleteSecurityContext
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Import(SEC_WCHAR* pkg, PSecBuffer packed, void* token, PCtxtHandle ctx) {
  const char* fn = "ImportSecurityContextW";
  if (pkg == nullptr || _wcsicmp(pkg, kName) != 0) return Ret(fn, SEC_E_SECPKG_NOT_FOUND);
  if (packed == nullptr || packed->pvBuffer == nullptr || ctx == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  const auto* p = static_cast<const unsigned char*>(packed->pvBuffer);
  const size_t n = packed->cbBuffer;
  constexpr size_t kFixed = 8 + 4 + 4 + 16 + 4 + 4;
  if (n < kFixed + 2 + 2 + 8 || memcmp(p, kMagic, 8) != 0 || p[8] != kPackVersion || p[10] != 1 || p[9] > 1) {
    return Ret(fn, SEC_E_INVALID_TOKEN);
  }
  uint64_t sum;
  memcpy(&sum, p + n - 8, 8);
  if (sum != Fnv(p, n - 8, 0x1234567887654321ULL)) return Ret(fn, SEC_E_INVALID_TOKEN);
  size_t off = kFixed;
  std::wstring strs[2];
  for (std::wstring& s : strs) {
    if (off + 2 > n - 8) return Ret(fn, SEC_E_INVALID_TOKEN);
    uint16_t len;
    memcpy(&len, p + off, 2);
    off += 2;
    if (len > 120 || off + len * 2u > n - 8) return Ret(fn, SEC_E_INVALID_TOKEN);
    s.assign(reinterpret_cast<const wchar_t*>(p + off), len);
    off += len * 2u;
  }
  if (off != n - 8) return Ret(fn, SEC_E_INVALID_TOKEN);
  auto* c = static_cast<Ctx*>(HeapZ(sizeof(Ctx)));
  if (c == nullptr) return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
  c->magic = kCtxMagic;
  c->server = p[9] != 0;
  c->complete = true;
  memcpy(&c->flags, p + 12, 4);
  memcpy(c->key, p + 16, 16);
  memcpy(&c->sendSeq, p + 32, 4);
  memcpy(&c->recvSeq, p + 36, 4);
  wcscpy(c->client, strs[0].c_str());
  wcscpy(c->target, strs[1].c_str());
  // The caller keeps its token handle; the context holds its own impersonation copy.
  if (token != nullptr) {
    c->token = ImpersonationToken(token);
    if (c->token == nullptr) {
      HeapRelease(c);
      return Ret(fn, SEC_E_INVALID_HANDLE);
    }
  }
  SetHandle(ctx, c);
  return Ret(fn, SEC_E_OK);
}

SecurityFunctionTableW MakeTable() {
  SecurityFunctionTableW t;
  memset(&t, 0, sizeof t);  // every entry not set here is NULL: secur32 answers UNSUPPORTED
  t.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION;
  t.EnumerateSecurityPackagesW = EnumeratePackages;
  t.AcquireCredentialsHandleW = Acquire;
  t.FreeCredentialsHandle = FreeCred;
  t.InitializeSecurityContextW = Initialize;
  t.AcceptSecurityContext = Accept;
  t.DeleteSecurityContext = DeleteCtx;
  t.QueryContextAttributesW = QueryAttr;
  t.ImpersonateSecurityContext = Impersonate;
  t.RevertSecurityContext = Revert;
  t.MakeSignature = Sign;
  t.VerifySignature = Verify;
  t.FreeContextBuffer = FreeBuffer;
  t.QuerySecurityPackageInfoW = QueryPackageInfo;
  t.ExportSecurityContext = Export;
  t.ImportSecurityContextW = Import;
  t.QuerySecurityContextToken = QueryToken;
  t.EncryptMessage = Seal;
  t.DecryptMessage = Unseal;
  return t;
}

}  // namespace

// Runs while secur32 initialises: no SSPI calls, no threads.
// Exported as InitSecurityInterfaceW by sspitest.def (sspi.h declares that name dllimport).
extern "C" PSecurityFunctionTableW SEC_ENTRY SspiTestInitSecurityInterfaceW(void) {
  static SecurityFunctionTableW table = MakeTable();
  return &table;
}
