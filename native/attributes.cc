// QueryContextAttributesW for NAMES, NATIVE_NAMES, SIZES, FLAGS, PACKAGE_INFO,
// NEGOTIATION_INFO, LIFESPAN.
// Buffers the package returns are freed with FreeContextBuffer.
#include "buffers.h"
#include "calls.h"
#include "strings.h"
#include "wrappers.h"

namespace sspi {
namespace {

// Frees a package-allocated pointer when it goes out of scope.
struct ContextBuffer {
  void* p = nullptr;
  ~ContextBuffer() {
    if (p != nullptr) FreeContextBuffer(p);
  }
};

}  // namespace

// queryContextAttributes(ctx, attribute: number) -> object (shape depends on attribute)
Napi::Value QueryAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "QueryContextAttributesW";
  if (!info[1].IsNumber()) ThrowType(env, "queryContextAttributes: attribute must be a number");
  const ULONG attribute = info[1].As<Napi::Number>().Uint32Value();
  LockedContext ctx = Context::Lock(env, info[0], op);
  Napi::Object result = Napi::Object::New(env);
  switch (attribute) {
    case SECPKG_ATTR_NAMES: {
      SecPkgContext_NamesW names{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &names), op);
      ContextBuffer free1{names.sUserName};
      result.Set("clientName", FromWide(env, names.sUserName != nullptr ? names.sUserName : L""));
      return result;
    }
    case SECPKG_ATTR_NATIVE_NAMES: {
      SecPkgContext_NativeNamesW names{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &names), op);
      ContextBuffer free1{names.sClientName}, free2{names.sServerName};
      result.Set("clientName", FromWide(env, names.sClientName != nullptr ? names.sClientName : L""));
      result.Set("serverName", FromWide(env, names.sServerName != nullptr ? names.sServerName : L""));
      return result;
    }
    case SECPKG_ATTR_SIZES: {
      SecPkgContext_Sizes sizes{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &sizes), op);
      result.Set("cbMaxToken", Napi::Number::New(env, sizes.cbMaxToken));
      result.Set("cbMaxSignature", Napi::Number::New(env, sizes.cbMaxSignature));
      result.Set("cbBlockSize", Napi::Number::New(env, sizes.cbBlockSize));
      result.Set("cbSecurityTrailer", Napi::Number::New(env, sizes.cbSecurityTrailer));
      return result;
    }
    case SECPKG_ATTR_FLAGS: {
      SecPkgContext_Flags flags{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &flags), op);
      return Napi::Number::New(env, flags.Flags);
    }
    case SECPKG_ATTR_PACKAGE_INFO: {
      SecPkgContext_PackageInfoW package{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &package), op);
      ContextBuffer free1{package.PackageInfo};
      if (package.PackageInfo == nullptr) ThrowSspi(env, SEC_E_INTERNAL_ERROR, op, "no package info returned");
      return PackageInfoObject(env, *package.PackageInfo);
    }
    case SECPKG_ATTR_NEGOTIATION_INFO: {
      // The package Negotiate selected (SecPkgContext_NegotiationInfoW); the struct is
      // ours, PackageInfo is the package's and goes back through FreeContextBuffer.
      SecPkgContext_NegotiationInfoW negotiation{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &negotiation), op);
      ContextBuffer free1{negotiation.PackageInfo};
      if (negotiation.PackageInfo == nullptr || negotiation.PackageInfo->Name == nullptr) {
        ThrowSspi(env, SEC_E_INTERNAL_ERROR, op, "no package info returned");
      }
      result.Set("packageName", FromWide(env, negotiation.PackageInfo->Name));
      result.Set("state", Napi::Number::New(env, negotiation.NegotiationState));
      return result;
    }
    case SECPKG_ATTR_LIFESPAN: {
      SecPkgContext_Lifespan life{};
      Check(env, QueryContextAttributesW(&ctx->handle, attribute, &life), op);
      result.Set("start", Napi::Number::New(env, TimeStampToMs(life.tsStart)));
      result.Set("expiry", Napi::Number::New(env, TimeStampToMs(life.tsExpiry)));
      return result;
    }
    default:
      ThrowType(env, "queryContextAttributes: unsupported attribute");
  }
}

}  // namespace sspi
