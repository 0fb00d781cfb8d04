// ExportSecurityContext and ImportSecurityContextW (in workers).
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

class ExportWorker : public PromiseWorker {
 public:
  ExportWorker(Napi::Env env, std::shared_ptr<ContextOwner> ctx, ULONG flags)
      : PromiseWorker(env, "ExportSecurityContext"), ctx_(std::move(ctx)), flags_(flags) {}

  ~ExportWorker() override { SecureZeroMemory(packed_.data(), packed_.size()); }

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(ctx_->mutex);
    if (ctx_->state != ContextState::kCreated) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    SecBuffer packed{0, SECBUFFER_EMPTY, nullptr};
    HANDLE token = nullptr;
    status_ = ExportSecurityContext(&ctx_->handle, flags_, &packed, &token);
    // Whatever the status, take ownership of what came back.
    if (token != nullptr && token != INVALID_HANDLE_VALUE) token_ = std::make_shared<TokenOwner>(token);
    bufferType_ = packed.BufferType;
    if (packed.pvBuffer != nullptr) {
      const auto* p = static_cast<const unsigned char*>(packed.pvBuffer);
      // The packed context carries session keys: copy, wipe, free.
      packed_.assign(p, p + packed.cbBuffer);
      SecureZeroMemory(packed.pvBuffer, packed.cbBuffer);
      FreeContextBuffer(packed.pvBuffer);
    }
    if (!FAILED(status_) && (flags_ & SECPKG_CONTEXT_EXPORT_DELETE_OLD) != 0) ctx_->state = ContextState::kExported;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("packed", ToBuffer(env, packed_.data(), packed_.size()));
    result.Set("token", token_ ? Napi::Value(Token::Create(env, token_)) : env.Null());
    result.Set("bufferType", Napi::Number::New(env, bufferType_));
    return result;
  }

 private:
  std::shared_ptr<ContextOwner> ctx_;
  ULONG flags_;
  std::vector<unsigned char> packed_;
  ULONG bufferType_ = SECBUFFER_EMPTY;
  std::shared_ptr<TokenOwner> token_;
};

// A same-process duplicate of `token` for ImportSecurityContextW. The package may keep the
// handle it is given and close it at DeleteSecurityContext (Windows' NTLM does), so it gets
// a handle of its own, which this addon never closes after a successful import.
HANDLE DuplicateForPackage(HANDLE token) {
  HANDLE copy = nullptr;
  const HANDLE self = GetCurrentProcess();
  if (!DuplicateHandle(self, token, self, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS)) return nullptr;
  return copy;
}

// CompareObjectHandles (Windows 10+, kernelbase). Looked up at run time: mingw-w64 has no
// import for it. Without it, a failed import leaks its copy rather than risk a double close.
bool SameObject(HANDLE a, HANDLE b) {
  using Fn = BOOL(WINAPI*)(HANDLE, HANDLE);
  static const Fn fn = [] {
    for (const wchar_t* dll : {L"kernelbase.dll", L"kernel32.dll"}) {
      if (HMODULE m = GetModuleHandleW(dll)) {
        if (FARPROC p = GetProcAddress(m, "CompareObjectHandles")) return reinterpret_cast<Fn>(reinterpret_cast<void*>(p));
      }
    }
    return static_cast<Fn>(nullptr);
  }();
  return fn != nullptr && fn(a, b) != FALSE;
}

class ImportWorker : public PromiseWorker {
 public:
  ImportWorker(Napi::Env env, std::wstring package, std::vector<unsigned char> packed, ULONG bufferType,
               std::shared_ptr<TokenOwner> token)
      : PromiseWorker(env, "ImportSecurityContextW"),
        package_(std::move(package)), packed_(std::move(packed)), bufferType_(bufferType), token_(std::move(token)) {}

  ~ImportWorker() override { SecureZeroMemory(packed_.data(), packed_.size()); }

 protected:
  void Run() override {
    auto ctx = std::make_shared<ContextOwner>();
    SecBuffer packed{ToULong(packed_.size()), bufferType_, packed_.empty() ? nullptr : packed_.data()};
    HANDLE given = nullptr;
    if (token_) {
      given = DuplicateForPackage(token_->handle);
      if (given == nullptr) {
        status_ = SEC_E_INVALID_HANDLE;
        operation_ = "DuplicateHandle";
        return;
      }
    }
    status_ = ImportSecurityContextW(package_.data(), &packed, given, &ctx->handle);
    if (FAILED(status_)) {
      // Undocumented who owns the token after a failure (SSPI-CONTRACTS §2). Close our copy
      // only while it is still open and still this token, so a package that closed it on
      // failure is never closed twice.
      if (given != nullptr && SameObject(given, token_->handle)) CloseOwnedHandle(given);
      return;
    }
    std::lock_guard<std::mutex> lock(ctx->mutex);
    ctx->state = ContextState::kCreated;
    ctx_ = std::move(ctx);
  }

  Napi::Value Result(Napi::Env env) override { return Context::Create(env, ctx_); }

 private:
  std::wstring package_;
  std::vector<unsigned char> packed_;
  ULONG bufferType_;
  std::shared_ptr<TokenOwner> token_;
  std::shared_ptr<ContextOwner> ctx_;
};

}  // namespace

// exportSecurityContext(ctx, flags) -> Promise<{ packed: Buffer, token: Token | null, bufferType }>
Napi::Value ExportContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ContextOwner> ctx;
  {
    LockedContext locked = Context::Lock(env, info[0], "ExportSecurityContext");
    ctx = locked.owner;
  }
  if (!info[1].IsNumber()) ThrowType(env, "exportSecurityContext: flags must be a number");
  return (new ExportWorker(env, ctx, info[1].As<Napi::Number>().Uint32Value()))->Start();
}

// importSecurityContext(package, packed: Buffer, token: Token | null, bufferType?) -> Promise<Context>
Napi::Value ImportContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::wstring package = ToWide(env, info[0], "importSecurityContext: package must be a string");
  auto packed = ReadBytes(env, info[1], "importSecurityContext: packed must be a Buffer");
  std::shared_ptr<TokenOwner> token;
  if (!info[2].IsNull() && !info[2].IsUndefined()) token = Token::From(env, info[2], "ImportSecurityContextW");
  ULONG bufferType = SECBUFFER_EMPTY;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!info[3].IsNumber()) ThrowType(env, "importSecurityContext: bufferType must be a number");
    bufferType = info[3].As<Napi::Number>().Uint32Value();
  }
  return (new ImportWorker(env, std::move(package), std::move(packed), bufferType, std::move(token)))->Start();
}

}  // namespace sspi
