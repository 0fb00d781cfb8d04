// SspiTest / SspiTestNego: shared declarations of the test security provider (README.md).
#pragma once
#include <windows.h>
#include <security.h>
#include <sspi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sspitest {

// ---- the two packages -----------------------------------------------------------------
enum class Package : uint8_t { Inner = 0, Nego = 1 };
extern const wchar_t kInnerName[];  // "SspiTest"
extern const wchar_t kNegoName[];   // "SspiTestNego"
constexpr ULONG kMaxToken = 1024;

// One HeapAlloc(GetProcessHeap()) block: the struct and both strings (FreeContextBuffer frees it).
SecPkgInfoW* NewPackageInfo(Package p);
bool PackageFromName(const wchar_t* name, Package* out);

// ---- memory and logging ---------------------------------------------------------------
// Everything a caller frees with FreeContextBuffer comes from the process heap: Wine's
// FreeContextBuffer frees there and never calls the package (shared/wine/PROVIDER.md).
void* HeapZ(size_t n);
void HeapRelease(void* p);
wchar_t* HeapString(const std::wstring& s);
// Appends "pid function status" to %SSPITEST_LOG% when set; returns st.
SECURITY_STATUS Ret(const char* fn, SECURITY_STATUS st);

// ---- keyed functions (a fixture, not cryptography) -------------------------------------
uint64_t Fnv(const void* data, size_t n, uint64_t h = 1469598103934665603ULL);
void RandomBytes(unsigned char* p, size_t n);

// ---- state ----------------------------------------------------------------------------
// Message protection profile, chosen by the client's target name at handshake time.
enum class Profile : uint8_t { Ntlm = 0, Kerberos = 1 };

// Where a context stands. Nego adds a mechListMIC-like exchange after the inner handshake.
enum class Phase : uint8_t {
  ClientSentHello,     // inner: STC1 sent; nego: SNG1 sent
  ClientSentMic,       // nego only: SNGM sent, waiting for the acceptor's SNGC
  ServerAwaitingMic,   // nego only: SNGR sent, waiting for the initiator's SNGM
  Complete,
  Exported,            // ExportSecurityContext with DELETE_OLD: only DeleteSecurityContext works
};

struct Cred {
  Package package;
  ULONG use;              // SECPKG_CRED_INBOUND / OUTBOUND
  std::wstring user;      // "DOMAIN\user" of an explicit identity, else "SSPITEST\<user>"
  bool hasPassword;
  uint64_t passwordHash;  // Fnv of the UTF-16 password
};

constexpr size_t kNonceLen = 16, kKeyLen = 16;

struct Ctx {
  Package package;   // the package the handle belongs to (Nego contexts select Inner)
  bool server;
  Phase phase;
  Profile profile;
  ULONG flags;       // ISC_RET_* / ASC_RET_* granted
  bool identify;     // token at SecurityIdentification level
  unsigned char key[kKeyLen];
  uint32_t sendSeq, recvSeq;
  bool recvPoisoned; // a failed VerifySignature/DecryptMessage (SSPI-CONTRACTS §5)
  std::wstring client, target;
  unsigned char clientNonce[kNonceLen];
  HANDLE token;      // server side: the client's token (the package owns this handle)
};

bool IsComplete(const Ctx* c);

// Handle registry: state is keyed on dwLower only (secur32 overwrites dwUpper).
// Every table entry holds Lock for its whole call.
struct Lock {
  Lock();
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
};
Cred* FindCred(PCredHandle h);
Ctx* FindCtx(PCtxtHandle h);  // live contexts and Exported ones
Ctx* UsableCtx(PCtxtHandle h);  // not Exported
void PutCred(PCredHandle h, Cred* c);
void PutCtx(PCtxtHandle h, Ctx* c);
void DropCred(Cred* c);
void DropCtx(Ctx* c);  // closes the token, zeroes the key, frees

// SECPKG_ATTR_SIZES of the context's profile (message.cc).
void ProfileSizes(const Ctx* c, SecPkgContext_Sizes* z);

// ---- tokens ---------------------------------------------------------------------------
// The token a server context hands out: the process token minus one privilege, so tests can
// tell it from the process token (README.md, "Impersonation").
HANDLE NewClientToken(bool identify);
extern const wchar_t kRemovedPrivilege[];

// ---- buffers --------------------------------------------------------------------------
PSecBuffer FindBuffer(PSecBufferDesc d, ULONG type);
inline ULONG BaseType(const SecBuffer& b) { return b.BufferType & ~static_cast<ULONG>(SECBUFFER_ATTRMASK); }
inline ULONG ToULong(size_t n) { return static_cast<ULONG>(n); }

// ---- the function table entries ---------------------------------------------------------
SECURITY_STATUS SEC_ENTRY EnumeratePackages(unsigned long* count, PSecPkgInfoW* info);
SECURITY_STATUS SEC_ENTRY QueryPackageInfo(SEC_WCHAR* name, PSecPkgInfoW* info);
SECURITY_STATUS SEC_ENTRY FreeBuffer(void* p);
SECURITY_STATUS SEC_ENTRY Acquire(SEC_WCHAR*, SEC_WCHAR* pkg, unsigned long use, void*, void* auth, SEC_GET_KEY_FN,
                                  void*, PCredHandle cred, PTimeStamp expiry);
SECURITY_STATUS SEC_ENTRY FreeCred(PCredHandle cred);
SECURITY_STATUS SEC_ENTRY Initialize(PCredHandle cred, PCtxtHandle ctx, SEC_WCHAR* target, unsigned long req,
                                     unsigned long, unsigned long, PSecBufferDesc in, unsigned long,
                                     PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr, PTimeStamp expiry);
SECURITY_STATUS SEC_ENTRY Accept(PCredHandle cred, PCtxtHandle ctx, PSecBufferDesc in, unsigned long req,
                                 unsigned long, PCtxtHandle newctx, PSecBufferDesc out, unsigned long* attr,
                                 PTimeStamp expiry);
SECURITY_STATUS SEC_ENTRY DeleteCtx(PCtxtHandle ctx);
SECURITY_STATUS SEC_ENTRY QueryAttr(PCtxtHandle ctx, unsigned long attr, void* buf);
SECURITY_STATUS SEC_ENTRY Sign(PCtxtHandle ctx, unsigned long qop, PSecBufferDesc msg, unsigned long);
SECURITY_STATUS SEC_ENTRY Verify(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop);
SECURITY_STATUS SEC_ENTRY Seal(PCtxtHandle ctx, unsigned long qop, PSecBufferDesc msg, unsigned long);
SECURITY_STATUS SEC_ENTRY Unseal(PCtxtHandle ctx, PSecBufferDesc msg, unsigned long, unsigned long* qop);
SECURITY_STATUS SEC_ENTRY QueryToken(PCtxtHandle ctx, void** token);
SECURITY_STATUS SEC_ENTRY Impersonate(PCtxtHandle ctx);
SECURITY_STATUS SEC_ENTRY Revert(PCtxtHandle ctx);
SECURITY_STATUS SEC_ENTRY Export(PCtxtHandle ctx, ULONG flags, PSecBuffer packed, void** token);
SECURITY_STATUS SEC_ENTRY Import(SEC_WCHAR* pkg, PSecBuffer packed, void* token, PCtxtHandle ctx);

}  // namespace sspitest
