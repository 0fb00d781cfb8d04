#include "errors.h"

#include "addon.h"

namespace sspi {

Napi::Value MakeSspiError(Napi::Env env, SECURITY_STATUS status, const char* operation, const char* detail) {
  const double value = static_cast<double>(static_cast<uint32_t>(status));
  Addon& addon = Addon::Of(env);
  if (!addon.errorClass.IsEmpty()) {
    std::vector<napi_value> args{Napi::Number::New(env, value), Napi::String::New(env, operation)};
    if (detail != nullptr) args.push_back(Napi::String::New(env, detail));
    return addon.errorClass.New(args);
  }
  // No class registered (the addon used on its own): a plain Error with the same fields.
  char text[160];
  snprintf(text, sizeof text, "%s failed: 0x%08lX%s%s", operation, static_cast<unsigned long>(static_cast<uint32_t>(status)),
           detail != nullptr ? ": " : "", detail != nullptr ? detail : "");
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("status", Napi::Number::New(env, value));
  error.Set("operation", Napi::String::New(env, operation));
  return error.Value();
}

void ThrowSspi(Napi::Env env, SECURITY_STATUS status, const char* operation, const char* detail) {
  throw Napi::Error(env, MakeSspiError(env, status, operation, detail));
}

void ThrowType(Napi::Env env, const char* message) { throw Napi::TypeError::New(env, message); }

}  // namespace sspi
