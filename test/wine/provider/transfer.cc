// ExportSecurityContext ([M1], [M2], SSPI-CONTRACTS §1) and ImportSecurityContextW ([M3], [M4], §2).
//
// Packed: "SSPTCTX2" version(1)=2 server(1) profile(1) identify(1) poisoned(1) flags(4) key(16)
//         sendSeq(4) recvSeq(4) client target checksum(8). Always an SspiTest context: an
//         export from SspiTestNego imports under the package negotiation selected.
#include "provider.h"
#include "wire.h"

namespace sspitest {
namespace {

const char kMagic[8] = {'S', 'S', 'P', 'T', 'C', 'T', 'X', '2'};
constexpr uint8_t kVersion = 2;
constexpr uint64_t kSumSeed = 0x1234567887654321ULL;
constexpr ULONG kKnownFlags = SECPKG_CONTEXT_EXPORT_RESET_NEW | SECPKG_CONTEXT_EXPORT_DELETE_OLD;
constexpr ULONG kToKernel = 0x4;  // SECPKG_CONTEXT_EXPORT_TO_KERNEL: Schannel kernel mode only ([M1])

std::string Pack(const Ctx* c, bool reset) {
  Writer w;
  w.Bytes(kMagic, 8);
  w.U8(kVersion);
  w.U8(c->server ? 1 : 0);
  w.U8(static_cast<uint8_t>(c->profile));
  w.U8(c->identify ? 1 : 0);
  // RESET_NEW: "the new context is reset to its initial state" ([M1]): counters and poison.
  w.U8(!reset && c->recvPoisoned ? 1 : 0);
  w.U32(c->flags);
  w.Bytes(c->key, kKeyLen);
  w.U32(reset ? 0 : c->sendSeq);
  w.U32(reset ? 0 : c->recvSeq);
  w.Str(c->client);
  w.Str(c->target);
  std::string s = w.str();
  const uint64_t sum = Fnv(s.data(), s.size(), kSumSeed);
  s.append(reinterpret_cast<const char*>(&sum), 8);
  return s;
}

// nullptr for anything but an intact blob of this format.
Ctx* Unpack(const unsigned char* p, size_t n) {
  if (p == nullptr || n < 8 + 8) return nullptr;
  uint64_t sum;
  memcpy(&sum, p + n - 8, 8);
  if (sum != Fnv(p, n - 8, kSumSeed)) return nullptr;
  Reader r(p, n - 8);
  char magic[8];
  r.Bytes(magic, 8);
  const uint8_t version = r.U8(), server = r.U8(), profile = r.U8(), identify = r.U8(), poisoned = r.U8();
  auto* c = new Ctx{};
  c->flags = r.U32();
  r.Bytes(c->key, kKeyLen);
  c->sendSeq = r.U32();
  c->recvSeq = r.U32();
  c->client = r.Str(120);
  c->target = r.Str(120);
  if (!r.ok() || r.remaining() != 0 || memcmp(magic, kMagic, 8) != 0 || version != kVersion || server > 1 ||
      profile > 1 || identify > 1 || poisoned > 1) {
    SecureZeroMemory(c->key, sizeof c->key);
    delete c;
    return nullptr;
  }
  c->package = Package::Inner;
  c->server = server != 0;
  c->phase = Phase::Complete;
  c->profile = static_cast<Profile>(profile);
  c->identify = identify != 0;
  c->recvPoisoned = poisoned != 0;
  return c;
}

}  // namespace

SECURITY_STATUS SEC_ENTRY Export(PCtxtHandle ctx, ULONG flags, PSecBuffer packed, void** token) {
  const char* fn = "ExportSecurityContext";
  Lock lock;
  if (token != nullptr) *token = nullptr;
  Ctx* c = UsableCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (flags & kToKernel) return Ret(fn, SEC_E_NOT_SUPPORTED);
  if (flags & ~kKnownFlags) return Ret(fn, SEC_E_INVALID_PARAMETER);
  // Windows does not document the status for an unfinished context (SSPI-CONTRACTS §1, U).
  if (!IsComplete(c)) return Ret(fn, SEC_E_CANNOT_PACK);
  if (packed == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);
  const std::string s = Pack(c, (flags & SECPKG_CONTEXT_EXPORT_RESET_NEW) != 0);
  void* blob = HeapZ(s.size());
  if (blob == nullptr) return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
  memcpy(blob, s.data(), s.size());
  // The caller's token: a fresh handle it closes ([M1]); client contexts have none.
  HANDLE dup = nullptr;
  if (c->server && token != nullptr && c->token != nullptr &&
      !DuplicateHandle(GetCurrentProcess(), c->token, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    SecureZeroMemory(blob, s.size());
    HeapRelease(blob);
    return Ret(fn, SEC_E_INTERNAL_ERROR);
  }
  packed->pvBuffer = blob;
  packed->cbBuffer = ToULong(s.size());
  // Windows does not document the type; this package marks its blob SECBUFFER_TOKEN and
  // Import insists on it, so a caller that carries the exporter's type is testable (README.md).
  packed->BufferType = SECBUFFER_TOKEN;
  if (token != nullptr) *token = dup;
  if (flags & SECPKG_CONTEXT_EXPORT_DELETE_OLD) {
    // The source is destroyed now; its handle stays deletable (SEC_E_OK) and nothing else.
    c->phase = Phase::Exported;
    if (c->token != nullptr) CloseHandle(c->token);
    c->token = nullptr;
    SecureZeroMemory(c->key, sizeof c->key);
  }
  return Ret(fn, SEC_E_OK);
}

SECURITY_STATUS SEC_ENTRY Import(SEC_WCHAR* pkg, PSecBuffer packed, void* token, PCtxtHandle ctx) {
  const char* fn = "ImportSecurityContextW";
  Lock lock;
  Package p;
  if (!PackageFromName(pkg, &p)) return Ret(fn, SEC_E_SECPKG_NOT_FOUND);
  // A negotiating package hands its contexts to the package it selected; it imports nothing.
  if (p == Package::Nego) return Ret(fn, SEC_E_UNSUPPORTED_FUNCTION);
  if (ctx == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (packed == nullptr || packed->BufferType != SECBUFFER_TOKEN) return Ret(fn, SEC_E_INVALID_TOKEN);
  Ctx* c = Unpack(static_cast<const unsigned char*>(packed->pvBuffer), packed->cbBuffer);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_TOKEN);  // the caller keeps its token
  // On success the package owns the handle it was given and closes it in
  // DeleteSecurityContext, as Windows' NTLM does (issue 10 item 2): no copy of its own.
  c->token = static_cast<HANDLE>(token);
  PutCtx(ctx, c);
  return Ret(fn, SEC_E_OK);
}

}  // namespace sspitest
