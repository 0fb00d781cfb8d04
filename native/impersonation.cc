// ImpersonateSecurityContext / RevertSecurityContext (the calling thread),
// RevertToSelf, and QuerySecurityContextToken.
#include "calls.h"
#include "handles.h"
#include "wrappers.h"

namespace sspi {

namespace {

// One SSPI call on a usable context, under its lock; a failure throws.
template <typename Call>
Napi::Value OnContext(const Napi::CallbackInfo& info, const char* operation, Call call) {
  Napi::Env env = info.Env();
  SECURITY_STATUS status;
  {
    LockedContext ctx = Context::Lock(env, info[0], operation);
    status = call(&ctx->handle);
  }
  Check(env, status, operation);
  return env.Undefined();
}

}  // namespace

Napi::Value Impersonate(const Napi::CallbackInfo& info) {
  return OnContext(info, "ImpersonateSecurityContext", [](CtxtHandle* h) { return ImpersonateSecurityContext(h); });
}

Napi::Value Revert(const Napi::CallbackInfo& info) {
  return OnContext(info, "RevertSecurityContext", [](CtxtHandle* h) { return RevertSecurityContext(h); });
}

// revertToSelf(): drops the calling thread's token when RevertSecurityContext cannot run
// (the context was closed or deleted while impersonating). RevertToSelf ends any
// impersonation of the thread (ImpersonateLoggedOnUser / RevertToSelf docs).
Napi::Value RevertSelf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RevertToSelf()) ThrowSspi(env, SEC_E_INTERNAL_ERROR, "RevertToSelf", "the thread could not drop its token");
  return env.Undefined();
}

// querySecurityContextToken(ctx) -> Token (a new handle, closed by the Token)
Napi::Value QueryToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HANDLE token = nullptr;
  SECURITY_STATUS status;
  {
    LockedContext ctx = Context::Lock(env, info[0], "QuerySecurityContextToken");
    status = QuerySecurityContextToken(&ctx->handle, &token);
  }
  Check(env, status, "QuerySecurityContextToken");
  return Token::Create(env, std::make_shared<TokenOwner>(token));
}

}  // namespace sspi
