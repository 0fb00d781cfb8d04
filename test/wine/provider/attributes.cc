// QueryContextAttributesW ([M7]).
#include "provider.h"

namespace sspitest {
namespace {

// The package that serves the context: a Nego context names SspiTest once negotiation
// chose it (completed), itself before.
Package Serving(const Ctx* c) { return c->package == Package::Nego && !IsComplete(c) ? Package::Nego : Package::Inner; }

}  // namespace

SECURITY_STATUS SEC_ENTRY QueryAttr(PCtxtHandle ctx, unsigned long attr, void* buf) {
  const char* fn = "QueryContextAttributesW";
  Lock lock;
  Ctx* c = UsableCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (buf == nullptr) return Ret(fn, SEC_E_INVALID_PARAMETER);
  switch (attr) {
    case SECPKG_ATTR_SIZES:
      ProfileSizes(c, static_cast<SecPkgContext_Sizes*>(buf));
      return Ret(fn, SEC_E_OK);
    case SECPKG_ATTR_NAMES: {
      if (!IsComplete(c)) return Ret(fn, SEC_E_INVALID_HANDLE);
      wchar_t* name = HeapString(c->client);
      static_cast<SecPkgContext_NamesW*>(buf)->sUserName = name;
      return Ret(fn, name != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY);
    }
    case SECPKG_ATTR_NATIVE_NAMES: {
      if (!IsComplete(c)) return Ret(fn, SEC_E_INVALID_HANDLE);
      auto* n = static_cast<SecPkgContext_NativeNamesW*>(buf);
      n->sClientName = HeapString(c->client);
      n->sServerName = HeapString(c->target);
      if (n->sClientName == nullptr || n->sServerName == nullptr) {
        HeapRelease(n->sClientName);
        HeapRelease(n->sServerName);
        n->sClientName = n->sServerName = nullptr;
        return Ret(fn, SEC_E_INSUFFICIENT_MEMORY);
      }
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
    case SECPKG_ATTR_PACKAGE_INFO: {
      auto* p = static_cast<SecPkgContext_PackageInfoW*>(buf);
      p->PackageInfo = NewPackageInfo(Serving(c));
      return Ret(fn, p->PackageInfo != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY);
    }
    case SECPKG_ATTR_NEGOTIATION_INFO: {
      // "The security package chosen in the negotiate process" ([M8]): always SspiTest, the
      // only mech offered; IN_PROGRESS until the handshake completes ([M8] states).
      auto* n = static_cast<SecPkgContext_NegotiationInfoW*>(buf);
      n->PackageInfo = NewPackageInfo(Package::Inner);
      n->NegotiationState = IsComplete(c) ? SECPKG_NEGOTIATION_COMPLETE : SECPKG_NEGOTIATION_IN_PROGRESS;
      return Ret(fn, n->PackageInfo != nullptr ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY);
    }
    default:
      return Ret(fn, SEC_E_UNSUPPORTED_FUNCTION);
  }
}

}  // namespace sspitest
