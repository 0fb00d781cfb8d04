#include "wrappers.h"

#include "strings.h"
#include "tokens.h"

namespace sspi {

Napi::Function Credential::Init(Napi::Env env) { return Define(env, "Credential"); }

Napi::Function Context::Init(Napi::Env env) { return Define(env, "Context"); }

LockedContext Context::Lock(Napi::Env env, const Napi::Value& value, const char* operation) {
  std::shared_ptr<ContextOwner> owner = From(env, value, operation);
  std::unique_lock<std::mutex> lock(owner->mutex);
  if (owner->state == ContextState::kEmpty) ThrowSspi(env, SEC_E_INVALID_HANDLE, operation, "the context has not been created");
  if (owner->state == ContextState::kExported) ThrowSspi(env, SEC_E_INVALID_HANDLE, operation, "the context was exported with DELETE_OLD");
  return LockedContext{std::move(owner), std::move(lock)};
}

Napi::Function Token::Init(Napi::Env env) {
  return Define(env, "Token",
                {InstanceAccessor("value", &Token::GetValue, nullptr),
                 InstanceMethod("duplicateTo", &Token::DuplicateTo),
                 InstanceMethod("userSid", &Token::UserSid)});
}

Napi::Value Token::GetValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!owner_) ThrowSspi(env, SEC_E_INVALID_HANDLE, "Token.value", "the handle is closed");
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(owner_->handle)));
}

Napi::Value Token::DuplicateTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!owner_) ThrowSspi(env, SEC_E_INVALID_HANDLE, "DuplicateHandle", "the handle is closed");
  if (!info[0].IsNumber()) ThrowType(env, "duplicateTo(pid): pid must be a number");
  const double pid = info[0].As<Napi::Number>().DoubleValue();
  if (!(pid > 0 && pid <= 4294967295.0) || pid != static_cast<double>(static_cast<DWORD>(pid))) {
    ThrowType(env, "duplicateTo(pid): pid must be a positive 32-bit integer");
  }
  return Napi::BigInt::New(env, DuplicateTokenInto(env, owner_->handle, static_cast<DWORD>(pid)));
}

Napi::Value Token::UserSid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!owner_) ThrowSspi(env, SEC_E_INVALID_HANDLE, "GetTokenInformation", "the handle is closed");
  return TokenUserSid(env, owner_->handle);
}

}  // namespace sspi
