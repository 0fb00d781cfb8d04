// The functions the addon exports (see lib/native/native.d.ts for their JS shapes).
#pragma once
#include <napi.h>

#include "win.h"

namespace sspi {

Napi::Value AcquireCredentials(const Napi::CallbackInfo& info);
Napi::Value EnumeratePackages(const Napi::CallbackInfo& info);
Napi::Object PackageInfoObject(Napi::Env env, const SecPkgInfoW& p);

Napi::Value InitializeContext(const Napi::CallbackInfo& info);
Napi::Value AcceptContext(const Napi::CallbackInfo& info);
Napi::Value CompleteToken(const Napi::CallbackInfo& info);

Napi::Value ExportContext(const Napi::CallbackInfo& info);
Napi::Value ImportContext(const Napi::CallbackInfo& info);

Napi::Value QueryAttributes(const Napi::CallbackInfo& info);

Napi::Value MakeSignatureCall(const Napi::CallbackInfo& info);
Napi::Value VerifySignatureCall(const Napi::CallbackInfo& info);
Napi::Value EncryptCall(const Napi::CallbackInfo& info);
Napi::Value DecryptCall(const Napi::CallbackInfo& info);

Napi::Value Impersonate(const Napi::CallbackInfo& info);
Napi::Value Revert(const Napi::CallbackInfo& info);
Napi::Value RevertSelf(const Napi::CallbackInfo& info);
Napi::Value QueryToken(const Napi::CallbackInfo& info);

}  // namespace sspi
