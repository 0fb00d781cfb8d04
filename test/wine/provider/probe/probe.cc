// probe.exe: drives sspitest.dll through the real secur32 (no addon), one line per check:
//   "ok <name>" or "not ok <name> -- <detail>"; the exit code is the number of failures.
// provider.test.mjs runs it; README.md lists what each check stands for.
#include <windows.h>
#include <security.h>
#include <sspi.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int failures = 0;

void Check(bool ok, const char* name, const std::string& detail = std::string()) {
  if (ok) {
    printf("ok %s\n", name);
  } else {
    failures++;
    printf("not ok %s -- %s\n", name, detail.c_str());
  }
}

std::string Hex(SECURITY_STATUS st) {
  char b[16];
  snprintf(b, sizeof b, "0x%08lx", static_cast<unsigned long>(st));
  return b;
}

void Status(SECURITY_STATUS got, SECURITY_STATUS want, const char* name) {
  Check(got == want, name, "got " + Hex(got) + ", want " + Hex(want));
}

const wchar_t* const kInner = L"SspiTest";
const wchar_t* const kNego = L"SspiTestNego";
constexpr ULONG kIsc = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT |
                       ISC_REQ_CONNECTION;
constexpr ULONG kAsc = ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT |
                       ASC_REQ_CONNECTION;

struct Pair {
  CredHandle cc{}, sc{};
  CtxtHandle c{}, s{};
  bool hasC = false, hasS = false;
  std::vector<SECURITY_STATUS> statuses;
  std::vector<ULONG> negoStates;  // client NEGOTIATION_INFO state after each client step
  std::wstring packageBefore;     // client PACKAGE_INFO name before completion
  ~Pair() {
    if (hasC) DeleteSecurityContext(&c);
    if (hasS) DeleteSecurityContext(&s);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);
  }
};

ULONG NegoState(CtxtHandle* h, std::wstring* name) {
  SecPkgContext_NegotiationInfoW n{};
  if (QueryContextAttributesW(h, SECPKG_ATTR_NEGOTIATION_INFO, &n) != SEC_E_OK) return 0xffffffff;
  if (name != nullptr) *name = n.PackageInfo->Name;
  FreeContextBuffer(n.PackageInfo);
  return n.NegotiationState;
}

std::wstring PackageName(CtxtHandle* h) {
  SecPkgContext_PackageInfoW p{};
  if (QueryContextAttributesW(h, SECPKG_ATTR_PACKAGE_INFO, &p) != SEC_E_OK) return L"?";
  std::wstring n = p.PackageInfo->Name;
  FreeContextBuffer(p.PackageInfo);
  return n;
}

// A loopback handshake; password and target as given.
bool Handshake(Pair& p, const wchar_t* pkg, const wchar_t* target, const wchar_t* password = L"Passw0rd!",
               ULONG iflags = kIsc) {
  SEC_WINNT_AUTH_IDENTITY_W id{};
  id.User = reinterpret_cast<unsigned short*>(const_cast<wchar_t*>(L"alice"));
  id.UserLength = 5;
  id.Domain = reinterpret_cast<unsigned short*>(const_cast<wchar_t*>(L"TESTDOM"));
  id.DomainLength = 7;
  id.Password = reinterpret_cast<unsigned short*>(const_cast<wchar_t*>(password));
  id.PasswordLength = static_cast<ULONG>(wcslen(password));
  id.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
  TimeStamp ts;
  if (AcquireCredentialsHandleW(nullptr, const_cast<wchar_t*>(pkg), SECPKG_CRED_OUTBOUND, nullptr, &id, nullptr,
                                nullptr, &p.cc, &ts) != SEC_E_OK ||
      AcquireCredentialsHandleW(nullptr, const_cast<wchar_t*>(pkg), SECPKG_CRED_INBOUND, nullptr, nullptr, nullptr,
                                nullptr, &p.sc, &ts) != SEC_E_OK) {
    return false;
  }
  std::vector<unsigned char> in;
  for (int i = 0; i < 4; i++) {
    unsigned char out[1024];
    SecBuffer ib{static_cast<ULONG>(in.size()), SECBUFFER_TOKEN, in.empty() ? nullptr : in.data()};
    SecBufferDesc id1{SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob{sizeof out, SECBUFFER_TOKEN, out};
    SecBufferDesc od{SECBUFFER_VERSION, 1, &ob};
    ULONG attr = 0;
    SECURITY_STATUS st = InitializeSecurityContextW(&p.cc, p.hasC ? &p.c : nullptr, const_cast<wchar_t*>(target), iflags,
                                                    0, 0, p.hasC ? &id1 : nullptr, 0, &p.c, &od, &attr, &ts);
    p.statuses.push_back(st);
    if (FAILED(st)) return false;
    if (!p.hasC) p.packageBefore = PackageName(&p.c);
    p.hasC = true;
    p.negoStates.push_back(NegoState(&p.c, nullptr));
    if (ob.cbBuffer == 0) return st == SEC_E_OK;
    SecBuffer sb{ob.cbBuffer, SECBUFFER_TOKEN, out};
    SecBufferDesc sd{SECBUFFER_VERSION, 1, &sb};
    unsigned char back[1024];
    SecBuffer rb{sizeof back, SECBUFFER_TOKEN, back};
    SecBufferDesc rd{SECBUFFER_VERSION, 1, &rb};
    st = AcceptSecurityContext(&p.sc, p.hasS ? &p.s : nullptr, &sd, kAsc, 0, &p.s, &rd, &attr, &ts);
    p.statuses.push_back(st);
    if (FAILED(st)) return false;
    p.hasS = true;
    if (rb.cbBuffer == 0) return st == SEC_E_OK;
    in.assign(back, back + rb.cbBuffer);
  }
  return false;
}

std::wstring Names(CtxtHandle* h) {
  SecPkgContext_NamesW n{};
  if (QueryContextAttributesW(h, SECPKG_ATTR_NAMES, &n) != SEC_E_OK) return L"?";
  std::wstring s = n.sUserName;
  FreeContextBuffer(n.sUserName);
  return s;
}

SecPkgContext_Sizes Sizes(CtxtHandle* h) {
  SecPkgContext_Sizes z{};
  QueryContextAttributesW(h, SECPKG_ATTR_SIZES, &z);
  return z;
}

bool HandleOpen(HANDLE h) {
  DWORD f;
  return GetHandleInformation(h, &f) != 0;
}

// Privilege names of a token ("" when it cannot be read).
std::string Privileges(HANDLE t) {
  DWORD n = 0;
  GetTokenInformation(t, TokenPrivileges, nullptr, 0, &n);
  std::vector<unsigned char> b(n ? n : 1);
  if (!GetTokenInformation(t, TokenPrivileges, b.data(), n, &n)) return "";
  auto* p = reinterpret_cast<TOKEN_PRIVILEGES*>(b.data());
  std::string s;
  for (DWORD i = 0; i < p->PrivilegeCount; i++) {
    char name[64];
    DWORD l = sizeof name;
    if (LookupPrivilegeNameA(nullptr, &p->Privileges[i].Luid, name, &l)) s += std::string(name) + " ";
  }
  return s;
}

struct Exported {
  SECURITY_STATUS status;
  std::vector<unsigned char> blob;
  ULONG type = 0;
  HANDLE token = nullptr;
};

Exported Export(CtxtHandle* h, ULONG flags) {
  Exported e;
  SecBuffer packed{0, SECBUFFER_EMPTY, nullptr};
  void* token = nullptr;
  e.status = ExportSecurityContext(h, flags, &packed, &token);
  if (e.status == SEC_E_OK) {
    e.blob.assign(static_cast<unsigned char*>(packed.pvBuffer), static_cast<unsigned char*>(packed.pvBuffer) + packed.cbBuffer);
    e.type = packed.BufferType;
    e.token = token;
    FreeContextBuffer(packed.pvBuffer);
  }
  return e;
}

SECURITY_STATUS Import(const wchar_t* pkg, std::vector<unsigned char>& blob, ULONG type, HANDLE token, CtxtHandle* out) {
  SecBuffer packed{static_cast<ULONG>(blob.size()), type, blob.data()};
  return ImportSecurityContextW(const_cast<wchar_t*>(pkg), &packed, token, out);
}

std::vector<unsigned char> Sign(CtxtHandle* h, const std::string& m, SECURITY_STATUS* st) {
  std::vector<unsigned char> data(m.begin(), m.end()), sig(Sizes(h).cbMaxSignature);
  SecBuffer b[2] = {{static_cast<ULONG>(data.size()), SECBUFFER_DATA, data.data()},
                    {static_cast<ULONG>(sig.size()), SECBUFFER_TOKEN, sig.data()}};
  SecBufferDesc d{SECBUFFER_VERSION, 2, b};
  *st = MakeSignature(h, 0, &d, 0);
  sig.resize(b[1].cbBuffer);
  return sig;
}

SECURITY_STATUS Verify(CtxtHandle* h, const std::string& m, std::vector<unsigned char> sig) {
  std::vector<unsigned char> data(m.begin(), m.end());
  SecBuffer b[2] = {{static_cast<ULONG>(data.size()), SECBUFFER_DATA, data.data()},
                    {static_cast<ULONG>(sig.size()), SECBUFFER_TOKEN, sig.data()}};
  SecBufferDesc d{SECBUFFER_VERSION, 2, b};
  ULONG qop = 0;
  return VerifySignature(h, &d, 0, &qop);
}

// TOKEN(cbSecurityTrailer) DATA PADDING(cbBlockSize), compacted by the returned lengths.
struct Sealed {
  SECURITY_STATUS status;
  std::vector<unsigned char> token, data, pad;
  std::vector<unsigned char> wire() const {
    std::vector<unsigned char> w(token);
    w.insert(w.end(), data.begin(), data.end());
    w.insert(w.end(), pad.begin(), pad.end());
    return w;
  }
};

Sealed Seal(CtxtHandle* h, const std::string& m, ULONG qop = 0) {
  const SecPkgContext_Sizes z = Sizes(h);
  Sealed s;
  s.token.resize(z.cbSecurityTrailer);
  s.data.assign(m.begin(), m.end());
  s.pad.resize(z.cbBlockSize);
  SecBuffer b[3] = {{static_cast<ULONG>(s.token.size()), SECBUFFER_TOKEN, s.token.data()},
                    {static_cast<ULONG>(s.data.size()), SECBUFFER_DATA, s.data.data()},
                    {static_cast<ULONG>(s.pad.size()), SECBUFFER_PADDING, s.pad.empty() ? nullptr : s.pad.data()}};
  SecBufferDesc d{SECBUFFER_VERSION, 3, b};
  s.status = EncryptMessage(h, qop, &d, 0);
  s.token.resize(b[0].cbBuffer);
  s.pad.resize(b[2].cbBuffer);
  return s;
}

// SECBUFFER_STREAM + empty SECBUFFER_DATA; plaintext from where DATA points afterwards.
SECURITY_STATUS UnsealStream(CtxtHandle* h, std::vector<unsigned char> wire, std::string* plain, ULONG* qop,
                             bool* inside) {
  SecBuffer b[2] = {{static_cast<ULONG>(wire.size()), SECBUFFER_STREAM, wire.data()}, {0, SECBUFFER_DATA, nullptr}};
  SecBufferDesc d{SECBUFFER_VERSION, 2, b};
  const SECURITY_STATUS st = DecryptMessage(h, &d, 0, qop);
  const auto* p = static_cast<const unsigned char*>(b[1].pvBuffer);
  if (inside != nullptr) *inside = p >= wire.data() && p + b[1].cbBuffer <= wire.data() + wire.size();
  if (st == SEC_E_OK && p != nullptr) plain->assign(reinterpret_cast<const char*>(p), b[1].cbBuffer);
  return st;
}

SECURITY_STATUS UnsealParts(CtxtHandle* h, Sealed s, std::string* plain) {
  SecBuffer b[3] = {{static_cast<ULONG>(s.token.size()), SECBUFFER_TOKEN, s.token.data()},
                    {static_cast<ULONG>(s.data.size()), SECBUFFER_DATA, s.data.data()},
                    {static_cast<ULONG>(s.pad.size()), SECBUFFER_PADDING, s.pad.empty() ? nullptr : s.pad.data()}};
  SecBufferDesc d{SECBUFFER_VERSION, s.pad.empty() ? 2u : 3u, b};
  ULONG qop = 0;
  const SECURITY_STATUS st = DecryptMessage(h, &d, 0, &qop);
  if (st == SEC_E_OK) plain->assign(s.data.begin(), s.data.end());
  return st;
}

void Packages() {
  ULONG n = 0;
  PSecPkgInfoW all = nullptr;
  bool inner = false, nego = false;
  if (EnumerateSecurityPackagesW(&n, &all) == SEC_E_OK) {
    for (ULONG i = 0; i < n; i++) {
      inner = inner || wcscmp(all[i].Name, kInner) == 0;
      nego = nego || wcscmp(all[i].Name, kNego) == 0;
    }
    FreeContextBuffer(all);
  }
  Check(inner && nego, "packages: SspiTest and SspiTestNego are listed");
}

void Negotiation() {
  Pair p;
  const bool done = Handshake(p, kNego, L"HOST/localhost");
  Check(done, "nego: handshake completes");
  const std::vector<SECURITY_STATUS> want = {SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED,
                                             SEC_E_OK, SEC_E_OK};
  Check(p.statuses == want, "nego: ISC/ASC statuses CONTINUE x3, OK (with a token), OK");
  Check(p.negoStates.size() == 3 && p.negoStates[0] == SECPKG_NEGOTIATION_IN_PROGRESS &&
            p.negoStates[1] == SECPKG_NEGOTIATION_IN_PROGRESS && p.negoStates[2] == SECPKG_NEGOTIATION_COMPLETE,
        "nego: NEGOTIATION_INFO state IN_PROGRESS until complete, then COMPLETE");
  Check(p.packageBefore == kNego, "nego: PACKAGE_INFO of an unfinished context names SspiTestNego");
  if (!done) return;
  std::wstring name;
  NegoState(&p.s, &name);
  Check(name == kInner, "nego: NEGOTIATION_INFO names SspiTest");
  Check(PackageName(&p.c) == kInner && PackageName(&p.s) == kInner, "nego: PACKAGE_INFO of a complete context names SspiTest");
  // One process-heap block: the struct and its strings (what FreeContextBuffer frees).
  SecPkgContext_NegotiationInfoW n{};
  QueryContextAttributesW(&p.s, SECPKG_ATTR_NEGOTIATION_INFO, &n);
  const auto* base = reinterpret_cast<const char*>(n.PackageInfo);
  const SIZE_T size = HeapSize(GetProcessHeap(), 0, n.PackageInfo);
  const auto* nm = reinterpret_cast<const char*>(n.PackageInfo->Name);
  const auto* cm = reinterpret_cast<const char*>(n.PackageInfo->Comment);
  Check(size != static_cast<SIZE_T>(-1) && nm > base && nm < base + size && cm > base && cm < base + size,
        "nego: NEGOTIATION_INFO PackageInfo is one process-heap block with its strings");
  Status(FreeContextBuffer(n.PackageInfo), SEC_E_OK, "nego: FreeContextBuffer(PackageInfo)");
  Exported e = Export(&p.s, SECPKG_CONTEXT_EXPORT_DELETE_OLD);
  Status(e.status, SEC_E_OK, "nego: export with DELETE_OLD");
  CtxtHandle imp{};
  Status(Import(kNego, e.blob, e.type, e.token, &imp), SEC_E_UNSUPPORTED_FUNCTION,
         "nego: ImportSecurityContextW(SspiTestNego) refuses");
  Check(HandleOpen(e.token), "nego: a refused import leaves the token open");
  Status(Import(kInner, e.blob, e.type, e.token, &imp), SEC_E_OK, "nego: the export imports under SspiTest");
  Check(Names(&imp) == L"TESTDOM\\alice" && PackageName(&imp) == kInner, "nego: imported context is SspiTest, TESTDOM\\alice");
  DeleteSecurityContext(&imp);
}

void Transfer() {
  Pair p;
  if (!Handshake(p, kInner, L"HOST/localhost")) {
    Check(false, "transfer: handshake");
    return;
  }
  const std::vector<SECURITY_STATUS> want = {SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK};
  Check(p.statuses == want, "inner: ISC/ASC statuses CONTINUE, OK, OK");
  Check(Names(&p.c) == L"TESTDOM\\alice" && Names(&p.s) == L"TESTDOM\\alice", "names: client and server TESTDOM\\alice");
  std::wstring name;
  Check(NegoState(&p.s, &name) == SECPKG_NEGOTIATION_COMPLETE && name == kInner && PackageName(&p.s) == kInner,
        "inner: NEGOTIATION_INFO and PACKAGE_INFO name SspiTest");
  Status(Export(&p.s, 0x4).status, SEC_E_UNSUPPORTED_FUNCTION, "export: TO_KERNEL refused");
  Exported client = Export(&p.c, 0);
  Check(client.status == SEC_E_OK && client.token == nullptr, "export: a client context gives no token");
  Exported e = Export(&p.s, 0);
  Check(e.status == SEC_E_OK && e.token != nullptr && e.type == SECBUFFER_TOKEN,
        "export: server context gives a token, BufferType SECBUFFER_TOKEN");
  CtxtHandle imp{};
  Status(Import(kInner, e.blob, SECBUFFER_EMPTY, e.token, &imp), SEC_E_INVALID_TOKEN,
         "import: a BufferType other than SECBUFFER_TOKEN is refused");
  std::vector<unsigned char> garbage(64, 7);
  Status(Import(kInner, garbage, SECBUFFER_TOKEN, e.token, &imp), SEC_E_INVALID_TOKEN, "import: garbage refused");
  Check(HandleOpen(e.token), "import: a failed import leaves the caller's token open");
  Status(Import(kInner, e.blob, SECBUFFER_TOKEN, e.token, &imp), SEC_E_OK, "import: succeeds");
  Check(HandleOpen(e.token), "import: the package keeps the token it was given open");
  Check(Names(&imp) == L"TESTDOM\\alice", "names: imported context TESTDOM\\alice");
  Status(DeleteSecurityContext(&imp), SEC_E_OK, "import: DeleteSecurityContext");
  Check(!HandleOpen(e.token), "import: DeleteSecurityContext closed the token the package was given");
  {
    // RESET_NEW: "the new context is reset to its initial state" ([M1]); without it the copy
    // continues the sequence.
    SECURITY_STATUS st;
    Verify(&p.s, "seq0", Sign(&p.c, "seq0", &st));
    Exported same = Export(&p.s, 0), reset = Export(&p.s, SECPKG_CONTEXT_EXPORT_RESET_NEW);
    CtxtHandle k{}, r{};
    Import(kInner, same.blob, same.type, same.token, &k);
    Import(kInner, reset.blob, reset.type, reset.token, &r);
    const std::vector<unsigned char> s1 = Sign(&p.c, "seq1", &st);
    Status(Verify(&k, "seq1", s1), SEC_E_OK, "export: a copy continues the sequence");
    Status(Verify(&r, "seq1", s1), SEC_E_MESSAGE_ALTERED, "export: a RESET_NEW copy starts at sequence 0");
    DeleteSecurityContext(&k);
    DeleteSecurityContext(&r);
  }
  Exported old = Export(&p.s, SECPKG_CONTEXT_EXPORT_DELETE_OLD);
  Status(old.status, SEC_E_OK, "export: DELETE_OLD");
  SECURITY_STATUS st;
  Sign(&p.s, "x", &st);
  Status(st, SEC_E_INVALID_HANDLE, "export: after DELETE_OLD the source is gone");
  Status(DeleteSecurityContext(&p.s), SEC_E_OK, "export: deleting the DELETE_OLD source gives SEC_E_OK");
  p.hasS = false;
  if (old.token != nullptr) CloseHandle(old.token);
  CtxtHandle pending{};
  CredHandle cred{};
  TimeStamp ts;
  AcquireCredentialsHandleW(nullptr, const_cast<wchar_t*>(kInner), SECPKG_CRED_OUTBOUND, nullptr, nullptr, nullptr, nullptr, &cred, &ts);
  unsigned char out[1024];
  SecBuffer ob{sizeof out, SECBUFFER_TOKEN, out};
  SecBufferDesc od{SECBUFFER_VERSION, 1, &ob};
  ULONG attr;
  InitializeSecurityContextW(&cred, nullptr, nullptr, kIsc, 0, 0, nullptr, 0, &pending, &od, &attr, &ts);
  Check(FAILED(Export(&pending, 0).status), "export: an unfinished context is refused");
  DeleteSecurityContext(&pending);
  FreeCredentialsHandle(&cred);
}

void Messages(const wchar_t* target, bool kerberos) {
  const char* tag = kerberos ? "krb" : "ntlm";
  Pair p;
  if (!Handshake(p, kInner, target)) {
    Check(false, "messages: handshake");
    return;
  }
  const SecPkgContext_Sizes z = Sizes(&p.c);
  char name[160];
  snprintf(name, sizeof name, "%s: SIZES %lu/%lu/%lu", tag, z.cbMaxSignature, z.cbSecurityTrailer, z.cbBlockSize);
  Check(kerberos ? (z.cbMaxSignature > 16 && z.cbSecurityTrailer > 16 && z.cbBlockSize == 8)
                 : (z.cbMaxSignature == 16 && z.cbSecurityTrailer == 16 && z.cbBlockSize == 0),
        name);
  SECURITY_STATUS st;
  std::vector<unsigned char> s1 = Sign(&p.c, "one", &st), s2 = Sign(&p.c, "two", &st);
  snprintf(name, sizeof name, "%s: signature length written back (%zu)", tag, s1.size());
  Check(kerberos ? s1.size() < z.cbMaxSignature : s1.size() == 16, name);
  const SECURITY_STATUS order = kerberos ? SEC_E_OUT_OF_SEQUENCE : SEC_E_MESSAGE_ALTERED;
  snprintf(name, sizeof name, "%s: reordered signature", tag);
  Status(Verify(&p.s, "two", s2), order, name);
  snprintf(name, sizeof name, "%s: a failed context stays failed (poisoned)", tag);
  Status(Verify(&p.s, "one", s1), kerberos ? SEC_E_OUT_OF_SEQUENCE : SEC_E_MESSAGE_ALTERED, name);
  {
    Pair q;
    Handshake(q, kInner, target);
    std::vector<unsigned char> a = Sign(&q.c, "one", &st);
    snprintf(name, sizeof name, "%s: verify", tag);
    Status(Verify(&q.s, "one", a), SEC_E_OK, name);
    snprintf(name, sizeof name, "%s: replayed signature", tag);
    Status(Verify(&q.s, "one", a), order, name);
  }
  {
    Pair q;
    Handshake(q, kInner, target);
    std::vector<unsigned char> a = Sign(&q.c, "one", &st);
    snprintf(name, sizeof name, "%s: tampered signature", tag);
    Status(Verify(&q.s, "onf", a), SEC_E_MESSAGE_ALTERED, name);
    std::vector<unsigned char> data(3, 'x');
    SecBuffer b[1] = {{3, SECBUFFER_DATA, data.data()}};
    SecBufferDesc d{SECBUFFER_VERSION, 1, b};
    snprintf(name, sizeof name, "%s: MakeSignature without a TOKEN buffer", tag);
    Status(MakeSignature(&q.c, 0, &d, 0), SEC_E_INVALID_TOKEN, name);
  }
  Pair q;
  Handshake(q, kInner, target);
  bool shorter = false, padded = false, allRoundTrip = true, allInside = true;
  for (const char* text : {"the quick brown fox", "sixteen bytes!!!", "a"}) {
    const std::string m(text);
    Sealed s = Seal(&q.c, m);
    shorter = shorter || s.token.size() < z.cbSecurityTrailer;
    padded = padded || !s.pad.empty();
    std::string plain;
    ULONG qop = 1;
    bool inside = false;
    const SECURITY_STATUS un = UnsealStream(&q.s, s.wire(), &plain, &qop, &inside);
    allRoundTrip = allRoundTrip && s.status == SEC_E_OK && un == SEC_E_OK && plain == m && qop == 0 &&
                   std::string(s.data.begin(), s.data.end()) != m;
    allInside = allInside && inside;
  }
  snprintf(name, sizeof name, "%s: seal, unseal with STREAM+DATA (DATA inside the stream, qop 0)", tag);
  Check(allRoundTrip && allInside, name);
  snprintf(name, sizeof name, "%s: some tokens shorter than cbSecurityTrailer, some padding", tag);
  Check(kerberos ? (shorter && padded) : (!shorter && !padded), name);
  Sealed plainWrap = Seal(&q.c, "in the clear", SECQOP_WRAP_NO_ENCRYPT);
  std::string out;
  ULONG qop = 0;
  Status(UnsealStream(&q.s, plainWrap.wire(), &out, &qop, nullptr), SEC_E_OK, kerberos ? "krb: unwrap WRAP_NO_ENCRYPT" : "ntlm: unwrap WRAP_NO_ENCRYPT");
  snprintf(name, sizeof name, "%s: SECQOP_WRAP_NO_ENCRYPT: data in the clear, pfQOP says so", tag);
  Check(std::string(plainWrap.data.begin(), plainWrap.data.end()) == "in the clear" && out == "in the clear" &&
            qop == SECQOP_WRAP_NO_ENCRYPT,
        name);
  Sealed parts = Seal(&q.c, "token and data");
  snprintf(name, sizeof name, "%s: unseal with TOKEN+DATA(+PADDING) of exact sizes", tag);
  Status(UnsealParts(&q.s, parts, &out), SEC_E_OK, name);
  if (kerberos) {
    // Split at cbSecurityTrailer instead of the returned token length: refused.
    Sealed odd = Seal(&q.c, "odd");
    std::vector<unsigned char> w = odd.wire();
    Sealed wrong;
    const size_t t = std::min<size_t>(z.cbSecurityTrailer, w.size());
    wrong.token.assign(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(t));
    wrong.data.assign(w.begin() + static_cast<std::ptrdiff_t>(t), w.end());
    Check(FAILED(UnsealParts(&q.s, wrong, &out)), "krb: a message split at cbSecurityTrailer is refused");
  }
  Pair r;
  Handshake(r, kInner, target);
  Sealed t = Seal(&r.c, "tamper me");
  std::vector<unsigned char> w = t.wire();
  w[w.size() - 1] ^= 1;
  snprintf(name, sizeof name, "%s: tampered sealed message", tag);
  Status(UnsealStream(&r.s, w, &out, &qop, nullptr), SEC_E_MESSAGE_ALTERED, name);
}

void Impersonation() {
  Pair p;
  if (!Handshake(p, kInner, L"HOST/localhost")) {
    Check(false, "impersonation: handshake");
    return;
  }
  HANDLE process = nullptr, thread = nullptr;
  OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &process);
  const std::string processPrivs = Privileges(process);
  CloseHandle(process);
  Check(processPrivs.find("SeUndockPrivilege") != std::string::npos, "impersonation: the process token has SeUndockPrivilege");
  void* t1 = nullptr;
  void* t2 = nullptr;
  QuerySecurityContextToken(&p.s, &t1);
  QuerySecurityContextToken(&p.s, &t2);
  Check(t1 != nullptr && t2 != nullptr && t1 != t2 && HandleOpen(t1) && HandleOpen(t2),
        "QuerySecurityContextToken: a fresh handle per query");
  if (t1 != nullptr) CloseHandle(t1);
  if (t2 != nullptr) CloseHandle(t2);
  Check(!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &thread), "impersonation: no thread token before");
  Status(ImpersonateSecurityContext(&p.s), SEC_E_OK, "impersonation: ImpersonateSecurityContext");
  std::string threadPrivs;
  if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &thread)) {
    threadPrivs = Privileges(thread);
    CloseHandle(thread);
  }
  Check(!threadPrivs.empty() && threadPrivs.find("SeUndockPrivilege") == std::string::npos,
        "impersonation: the thread carries the context token (SeUndockPrivilege removed)", threadPrivs);
  Status(RevertSecurityContext(&p.s), SEC_E_OK, "impersonation: RevertSecurityContext");
  Check(!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &thread), "impersonation: no thread token after revert");
  ImpersonateSecurityContext(&p.s);
  DeleteSecurityContext(&p.s);
  p.hasS = false;
  const bool still = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &thread) != 0;
  if (still) CloseHandle(thread);
  Check(still, "impersonation: DeleteSecurityContext does not revert the thread");
  RevertToSelf();
  Status(ImpersonateSecurityContext(&p.c), SEC_E_NO_IMPERSONATION, "impersonation: a client context has no token");
  // ISC_REQ_IDENTIFY: the context impersonates at Identification level (SSPI-CONTRACTS §6).
  Pair idp;
  Handshake(idp, kInner, L"HOST/localhost", L"Passw0rd!", kIsc | ISC_REQ_IDENTIFY);
  SecPkgContext_Flags cf{}, sf{};
  QueryContextAttributesW(&idp.c, SECPKG_ATTR_FLAGS, &cf);
  QueryContextAttributesW(&idp.s, SECPKG_ATTR_FLAGS, &sf);
  Check((cf.Flags & ISC_RET_IDENTIFY) != 0 && (sf.Flags & ASC_RET_IDENTIFY) != 0, "identify: FLAGS report IDENTIFY");
  Status(ImpersonateSecurityContext(&idp.s), SEC_E_OK, "identify: ImpersonateSecurityContext");
  SECURITY_IMPERSONATION_LEVEL level = SecurityAnonymous;
  if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &thread)) {
    DWORD r = 0;
    GetTokenInformation(thread, TokenImpersonationLevel, &level, sizeof level, &r);
    CloseHandle(thread);
  }
  RevertSecurityContext(&idp.s);
  Check(level == SecurityIdentification, "identify: the thread token is at Identification level");
}

void Flags() {
  Pair p;
  Handshake(p, kInner, L"HOST/localhost");
  SecPkgContext_Flags c{}, s{};
  QueryContextAttributesW(&p.c, SECPKG_ATTR_FLAGS, &c);
  QueryContextAttributesW(&p.s, SECPKG_ATTR_FLAGS, &s);
  Check(c.Flags == kIsc && s.Flags == kAsc, "flags: the granted request bits");
  Pair q;
  Check(!Handshake(q, kInner, L"HOST/localhost", L"wrong") && q.statuses.back() == SEC_E_LOGON_DENIED,
        "handshake: a wrong password gives SEC_E_LOGON_DENIED");
}

}  // namespace

int main() {
  Packages();
  Negotiation();
  Transfer();
  Messages(L"HOST/localhost", false);
  Messages(L"KRB/server.example", true);
  Impersonation();
  Flags();
  printf("# %d failed\n", failures);
  return failures;
}
