// ImpersonateSecurityContext / RevertSecurityContext (the calling thread) and
// QuerySecurityContextToken.
#include "calls.h"
#include "wrappers.h"

namespace sspi {

Napi::Value Impersonate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ctx = Context::Usable(env, info[0], "ImpersonateSecurityContext");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  Check(env, ImpersonateSecurityContext(&ctx->handle), "ImpersonateSecurityContext");
  return env.Undefined();
}

Napi::Value Revert(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ctx = Context::Usable(env, info[0], "RevertSecurityContext");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  Check(env, RevertSecurityContext(&ctx->handle), "RevertSecurityContext");
  return env.Undefined();
}

// querySecurityContextToken(ctx) -> Token (a new handle, closed by the Token)
Napi::Value QueryToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ctx = Context::Usable(env, info[0], "QuerySecurityContextToken");
  HANDLE token = nullptr;
  SECURITY_STATUS status;
  {
    std::lock_guard<std::mutex> lock(ctx->mutex);
    status = QuerySecurityContextToken(&ctx->handle, &token);
  }
  auto owner = std::make_shared<TokenOwner>(FAILED(status) ? nullptr : token);
  Check(env, status, "QuerySecurityContextToken");
  return Token::Create(env, owner);
}

}  // namespace sspi
