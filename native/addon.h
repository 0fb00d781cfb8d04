// Per-instance state of the addon (one per Node environment: main thread, each worker
// thread, each Electron context). There are no mutable globals.
#pragma once
#include <napi.h>

namespace sspi {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);

  Napi::FunctionReference credentialClass;
  Napi::FunctionReference contextClass;
  Napi::FunctionReference tokenClass;
  Napi::FunctionReference errorClass;  // SspiError, set once by the TypeScript loader

  static Addon& Of(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

 private:
  Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
};

}  // namespace sspi
