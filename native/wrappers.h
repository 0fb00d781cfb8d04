// The JS classes Credential, Context and Token. Each holds a shared_ptr to its owner.
// close() drops that reference (idempotent); the handle is freed when the last user
// (this wrapper or a running AsyncWorker) lets go. A closed wrapper gives
// SEC_E_INVALID_HANDLE. The GC finalizer drops the reference of a forgotten wrapper.
// Objects are type-tagged, so a look-alike object is never unwrapped.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "handles.h"

namespace sspi {

template <typename Self, typename Owner>
class HandleWrap : public Napi::ObjectWrap<Self> {
 public:
  explicit HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {
    Napi::Env env = info.Env();
    if (info.Length() == 1 && info[0].IsExternal() &&
        info[0].As<Napi::External<std::shared_ptr<Owner>>>().CheckTypeTag(&CreateTag())) {
      owner_ = *info[0].As<Napi::External<std::shared_ptr<Owner>>>().Data();
    } else if constexpr (Self::kConstructibleFromJs) {
      owner_ = std::make_shared<Owner>();
    } else {
      ThrowType(env, "this object is created by the sspi-context addon only");
    }
    info.This().As<Napi::Object>().TypeTag(&Self::kTag);
  }

  // Wraps an owner in a new JS object of this class.
  static Napi::Object Create(Napi::Env env, std::shared_ptr<Owner> owner) {
    auto external = Napi::External<std::shared_ptr<Owner>>::New(env, &owner);
    external.TypeTag(&CreateTag());
    return Self::Class(Addon::Of(env)).New({external});
  }

  // The owner behind a JS value: TypeError if it is not one of ours, SEC_E_INVALID_HANDLE
  // if it was closed.
  static std::shared_ptr<Owner> From(Napi::Env env, const Napi::Value& value, const char* operation) {
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&Self::kTag)) {
      ThrowSspi(env, SEC_E_INVALID_HANDLE, operation, Self::kWrongType);
    }
    std::shared_ptr<Owner> owner = Self::Unwrap(value.As<Napi::Object>())->owner_;
    if (!owner) ThrowSspi(env, SEC_E_INVALID_HANDLE, operation, "the handle is closed");
    return owner;
  }

  using Property = typename Napi::ObjectWrap<Self>::PropertyDescriptor;

  // Defines the class with close() and closed, plus the subclass's own members.
  static Napi::Function Define(Napi::Env env, const char* name, std::vector<Property> members = {}) {
    using W = Napi::ObjectWrap<Self>;
    members.push_back(W::InstanceMethod("close", static_cast<typename W::InstanceMethodCallback>(&HandleWrap::Close)));
    members.push_back(W::InstanceAccessor("closed", static_cast<typename W::InstanceGetterCallback>(&HandleWrap::Closed), nullptr));
    return W::DefineClass(env, name, members);
  }

 protected:
  Napi::Value Close(const Napi::CallbackInfo& info) {
    owner_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !owner_); }

  std::shared_ptr<Owner> owner_;

 private:
  // A function, not a static data member: a member initialised from Self would need Self
  // complete while the base is instantiated, which MSVC rejects (C2027).
  static const napi_type_tag& CreateTag() { return Self::kCreateTagValue; }
};

// A usable context and its held lock (see Context::Lock).
struct LockedContext {
  std::shared_ptr<ContextOwner> owner;
  std::unique_lock<std::mutex> lock;
  ContextOwner* operator->() const { return owner.get(); }
};

class Credential : public HandleWrap<Credential, CredentialOwner> {
 public:
  using HandleWrap::HandleWrap;
  static constexpr bool kConstructibleFromJs = false;
  static constexpr const char* kWrongType = "not a credential handle";
  static constexpr napi_type_tag kTag = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a01ULL};
  static constexpr napi_type_tag kCreateTagValue = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a81ULL};
  static Napi::FunctionReference& Class(Addon& a) { return a.credentialClass; }
  static Napi::Function Init(Napi::Env env);
};

// new Context() from JS makes an empty context: the first InitializeSecurityContextW or
// AcceptSecurityContext fills it (phNewContext), later calls continue it (phContext).
class Context : public HandleWrap<Context, ContextOwner> {
 public:
  using HandleWrap::HandleWrap;
  static constexpr bool kConstructibleFromJs = true;
  static constexpr const char* kWrongType = "not a context handle";
  static constexpr napi_type_tag kTag = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a02ULL};
  static constexpr napi_type_tag kCreateTagValue = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a82ULL};
  static Napi::FunctionReference& Class(Addon& a) { return a.contextClass; }
  static Napi::Function Init(Napi::Env env);

  // The owner of a context the package has created and that is still usable, locked: the
  // state is checked under the same mutex an export takes, and stays locked for the call.
  static LockedContext Lock(Napi::Env env, const Napi::Value& value, const char* operation);
};

class Token : public HandleWrap<Token, TokenOwner> {
 public:
  using HandleWrap::HandleWrap;
  static constexpr bool kConstructibleFromJs = false;
  static constexpr const char* kWrongType = "not a token handle";
  static constexpr napi_type_tag kTag = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a03ULL};
  static constexpr napi_type_tag kCreateTagValue = {0x5b1c0a4e2f3d4c11ULL, 0x9e3a7d6b8c2f1a83ULL};
  static Napi::FunctionReference& Class(Addon& a) { return a.tokenClass; }
  static Napi::Function Init(Napi::Env env);

 private:
  Napi::Value GetValue(const Napi::CallbackInfo& info);
  Napi::Value DuplicateTo(const Napi::CallbackInfo& info);
  Napi::Value UserSid(const Napi::CallbackInfo& info);
};

}  // namespace sspi
