// The two packages one DLL provides, and the package-level table entries.
#include <cwchar>

#include "provider.h"

namespace sspitest {

const wchar_t kInnerName[] = L"SspiTest";
const wchar_t kNegoName[] = L"SspiTestNego";

namespace {

const wchar_t kInnerComment[] = L"sspi-context test provider (fixture)";
const wchar_t kNegoComment[] = L"sspi-context test negotiating provider (fixture), selects SspiTest";

struct Description {
  const wchar_t* name;
  const wchar_t* comment;
  ULONG capabilities;
};

Description Describe(Package p) {
  const ULONG common = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
                       SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME;
  if (p == Package::Nego) return {kNegoName, kNegoComment, common | SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_GSS_COMPATIBLE};
  return {kInnerName, kInnerComment, common};
}

size_t Bytes(const wchar_t* s) { return (wcslen(s) + 1) * sizeof(wchar_t); }

// Writes count SecPkgInfoW followed by their strings into one block.
SecPkgInfoW* NewInfoBlock(const Package* packages, size_t count) {
  size_t total = count * sizeof(SecPkgInfoW);
  for (size_t i = 0; i < count; i++) {
    const Description d = Describe(packages[i]);
    total += Bytes(d.name) + Bytes(d.comment);
  }
  auto* info = static_cast<SecPkgInfoW*>(HeapZ(total));
  if (info == nullptr) return nullptr;
  auto* strings = reinterpret_cast<char*>(info + count);
  for (size_t i = 0; i < count; i++) {
    const Description d = Describe(packages[i]);
    SecPkgInfoW& e = info[i];
    e.fCapabilities = d.capabilities;
    e.wVersion = 1;
    e.wRPCID = SECPKG_ID_NONE;
    e.cbMaxToken = kMaxToken;
    e.Name = reinterpret_cast<SEC_WCHAR*>(strings);
    memcpy(strings, d.name, Bytes(d.name));
    strings += Bytes(d.name);
    e.Comment = reinterpret_cast<SEC_WCHAR*>(strings);
    memcpy(strings, d.comment, Bytes(d.comment));
    strings += Bytes(d.comment);
  }
  return info;
}

}  // namespace

SecPkgInfoW* NewPackageInfo(Package p) { return NewInfoBlock(&p, 1); }

bool PackageFromName(const wchar_t* name, Package* out) {
  if (name == nullptr) return false;
  if (_wcsicmp(name, kInnerName) == 0) {
    *out = Package::Inner;
    return true;
  }
  if (_wcsicmp(name, kNegoName) == 0) {
    *out = Package::Nego;
    return true;
  }
  return false;
}

// Runs while secur32 initialises (PROVIDER.md: keep it trivial).
SECURITY_STATUS SEC_ENTRY EnumeratePackages(unsigned long* count, PSecPkgInfoW* info) {
  const Package all[2] = {Package::Inner, Package::Nego};
  *info = NewInfoBlock(all, 2);
  if (*info == nullptr) return SEC_E_INSUFFICIENT_MEMORY;
  *count = 2;
  return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY QueryPackageInfo(SEC_WCHAR* name, PSecPkgInfoW* info) {
  Package p;
  if (!PackageFromName(name, &p)) return Ret("QuerySecurityPackageInfoW", SEC_E_SECPKG_NOT_FOUND);
  *info = NewPackageInfo(p);
  return Ret("QuerySecurityPackageInfoW", *info != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY);
}

// secur32 calls this only for the EnumerateSecurityPackagesW array; it frees everything else
// itself from the process heap.
SECURITY_STATUS SEC_ENTRY FreeBuffer(void* p) {
  HeapRelease(p);
  return SEC_E_OK;
}

}  // namespace sspitest
