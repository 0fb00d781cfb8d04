// Module entry: one Addon instance per environment (NODE_API_ADDON is context-aware).
#include "addon.h"

#include "calls.h"
#include "errors.h"
#include "tokens.h"
#include "wrappers.h"

namespace sspi {

Addon::Addon(Napi::Env env, Napi::Object exports) {
  Napi::Function credential = Credential::Init(env);
  Napi::Function context = Context::Init(env);
  Napi::Function token = Token::Init(env);
  credentialClass = Napi::Persistent(credential);
  contextClass = Napi::Persistent(context);
  tokenClass = Napi::Persistent(token);

  DefineAddon(exports, {
    InstanceMethod("setErrorClass", &Addon::SetErrorClass),
  });
  exports.Set("Credential", credential);
  exports.Set("Context", context);
  exports.Set("Token", token);

  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  const Entry entries[] = {
      {"enumerateSecurityPackages", EnumeratePackages},
      {"acquireCredentialsHandle", AcquireCredentials},
      {"initializeSecurityContext", InitializeContext},
      {"acceptSecurityContext", AcceptContext},
      {"completeAuthToken", CompleteToken},
      {"exportSecurityContext", ExportContext},
      {"importSecurityContext", ImportContext},
      {"queryContextAttributes", QueryAttributes},
      {"makeSignature", MakeSignatureCall},
      {"verifySignature", VerifySignatureCall},
      {"encryptMessage", EncryptCall},
      {"decryptMessage", DecryptCall},
      {"impersonateSecurityContext", Impersonate},
      {"revertSecurityContext", Revert},
      {"revertToSelf", RevertSelf},
      {"querySecurityContextToken", QueryToken},
      {"adoptToken", AdoptToken},
      {"processHandleCount", ProcessHandleCount},
      {"probedHandleCount", ProbedHandleCount},
      {"threadTokenSid", ThreadTokenSid},
      {"processUserSid", ProcessUserSid},
      {"userName", UserName},
      {"threadTokenInfo", ThreadTokenInfo},
      {"processPrivileges", ProcessPrivileges},
      {"closeHandleFailures", CloseFailures},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

Napi::Value Addon::SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowType(info.Env(), "setErrorClass: expected a constructor");
  errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace sspi

using SspiContextAddon = sspi::Addon;
NODE_API_ADDON(SspiContextAddon)
