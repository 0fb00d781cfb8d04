// AcquireCredentialsHandleW (in a worker) and EnumerateSecurityPackagesW.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "buffers.h"
#include "calls.h"
#include "strings.h"
#include "worker.h"
#include "wrappers.h"

namespace sspi {
namespace {

constexpr ULONG kFallbackMaxToken = 64 * 1024;

class AcquireWorker : public PromiseWorker {
 public:
  AcquireWorker(Napi::Env env, std::wstring package, ULONG use)
      : PromiseWorker(env, "AcquireCredentialsHandleW"), package_(std::move(package)), use_(use) {}

  ~AcquireWorker() override { Wipe(); }

  void SetIdentity(std::wstring user, std::wstring domain, std::vector<wchar_t> password) {
    hasIdentity_ = true;
    user_ = std::move(user);
    domain_ = std::move(domain);
    password_ = std::move(password);
  }

 protected:
  void Run() override {
    auto owner = std::make_shared<CredentialOwner>();
    owner->package = package_;
    SEC_WINNT_AUTH_IDENTITY_W identity{};
    if (hasIdentity_) {
      identity.User = reinterpret_cast<unsigned short*>(user_.data());
      identity.UserLength = ToULong(user_.size());
      identity.Domain = reinterpret_cast<unsigned short*>(domain_.data());
      identity.DomainLength = ToULong(domain_.size());
      identity.Password = reinterpret_cast<unsigned short*>(password_.data());
      identity.PasswordLength = ToULong(password_.size());
      identity.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
    }
    status_ = AcquireCredentialsHandleW(nullptr, package_.data(), use_, nullptr, hasIdentity_ ? &identity : nullptr,
                                        nullptr, nullptr, &owner->handle, &expiry_);
    Wipe();
    if (FAILED(status_)) return;
    owner->valid = true;
    // cbMaxToken sizes every output token of the handshake.
    PSecPkgInfoW info = nullptr;
    if (QuerySecurityPackageInfoW(package_.data(), &info) == SEC_E_OK && info != nullptr) {
      owner->maxToken = std::max<ULONG>(info->cbMaxToken, 1024);
      FreeContextBuffer(info);
    } else {
      owner->maxToken = kFallbackMaxToken;
    }
    owner_ = std::move(owner);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("cred", Credential::Create(env, owner_));
    result.Set("expiry", Napi::Number::New(env, TimeStampToMs(expiry_)));
    return result;
  }

 private:
  void Wipe() {
    if (!password_.empty()) SecureZeroMemory(password_.data(), password_.size() * sizeof(wchar_t));
    password_.clear();
  }

  std::wstring package_;
  ULONG use_;
  bool hasIdentity_ = false;
  std::wstring user_, domain_;
  std::vector<wchar_t> password_;
  TimeStamp expiry_{};
  std::shared_ptr<CredentialOwner> owner_;
};

}  // namespace

// acquireCredentialsHandle(package, use, identity | null)
//   identity: { user: string, domain: string, password: Buffer (UTF-16LE) }
Napi::Value AcquireCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::wstring package = ToWide(env, info[0], "acquireCredentialsHandle: package must be a string");
  if (!info[1].IsNumber()) ThrowType(env, "acquireCredentialsHandle: use must be a number");
  const ULONG use = info[1].As<Napi::Number>().Uint32Value();
  if (use != SECPKG_CRED_INBOUND && use != SECPKG_CRED_OUTBOUND && use != SECPKG_CRED_BOTH) {
    ThrowType(env, "acquireCredentialsHandle: use must be SECPKG_CRED_INBOUND, OUTBOUND or BOTH");
  }
  auto* worker = new AcquireWorker(env, std::move(package), use);
  try {
    if (info[2].IsObject()) {
      Napi::Object id = info[2].As<Napi::Object>();
      std::wstring user = ToWide(env, id.Get("user"), "identity.user must be a string");
      std::wstring domain = ToWide(env, id.Get("domain"), "identity.domain must be a string");
      Napi::Value pw = id.Get("password");
      if (!pw.IsTypedArray() || pw.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
          pw.As<Napi::Uint8Array>().ByteLength() % 2 != 0) {
        ThrowType(env, "identity.password must be a UTF-16LE Buffer");
      }
      Napi::Uint8Array bytes = pw.As<Napi::Uint8Array>();
      std::vector<wchar_t> password(bytes.ByteLength() / 2);
      if (!password.empty()) memcpy(password.data(), bytes.Data(), bytes.ByteLength());
      worker->SetIdentity(std::move(user), std::move(domain), std::move(password));
    } else if (!info[2].IsUndefined() && !info[2].IsNull()) {
      ThrowType(env, "acquireCredentialsHandle: identity must be an object or null");
    }
  } catch (...) {
    delete worker;
    throw;
  }
  return worker->Start();
}

// enumerateSecurityPackages(): [{ name, comment, capabilities, version, rpcId, maxToken }]
Napi::Value EnumeratePackages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ULONG count = 0;
  PSecPkgInfoW packages = nullptr;
  Check(env, EnumerateSecurityPackagesW(&count, &packages), "EnumerateSecurityPackagesW");
  Napi::Array list = Napi::Array::New(env, count);
  try {
    for (ULONG i = 0; i < count; i++) list.Set(i, PackageInfoObject(env, packages[i]));
  } catch (...) {
    FreeContextBuffer(packages);
    throw;
  }
  FreeContextBuffer(packages);
  return list;
}

Napi::Object PackageInfoObject(Napi::Env env, const SecPkgInfoW& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", FromWide(env, p.Name));
  o.Set("comment", FromWide(env, p.Comment != nullptr ? p.Comment : L""));
  o.Set("capabilities", Napi::Number::New(env, p.fCapabilities));
  o.Set("version", Napi::Number::New(env, p.wVersion));
  o.Set("rpcId", Napi::Number::New(env, p.wRPCID));
  o.Set("maxToken", Napi::Number::New(env, p.cbMaxToken));
  return o;
}

}  // namespace sspi
