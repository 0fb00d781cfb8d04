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

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(ctx_->mutex);
    if (!ctx_->Usable()) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    SecBuffer packed{0, SECBUFFER_EMPTY, nullptr};
    HANDLE token = nullptr;
    status_ = ExportSecurityContext(&ctx_->handle, flags_, &packed, &token);
    // Whatever the status, take ownership of what came back.
    if (token != nullptr && token != INVALID_HANDLE_VALUE) token_ = std::make_shared<TokenOwner>(token);
    if (packed.pvBuffer != nullptr) {
      const auto* p = static_cast<const unsigned char*>(packed.pvBuffer);
      // The packed context carries session keys: copy, wipe, free.
      packed_.assign(p, p + packed.cbBuffer);
      SecureZeroMemory(packed.pvBuffer, packed.cbBuffer);
      FreeContextBuffer(packed.pvBuffer);
    }
    if (!FAILED(status_) && (flags_ & SECPKG_CONTEXT_EXPORT_DELETE_OLD) != 0) ctx_->deleted = true;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("packed", ToBuffer(env, packed_.data(), packed_.size()));
    result.Set("token", token_ ? Napi::Value(Token::Create(env, token_)) : env.Null());
    SecureZeroMemory(packed_.data(), packed_.size());
    return result;
  }

 private:
  std::shared_ptr<ContextOwner> ctx_;
  ULONG flags_;
  std::vector<unsigned char> packed_;
  std::shared_ptr<TokenOwner> token_;
};

class ImportWorker : public PromiseWorker {
 public:
  ImportWorker(Napi::Env env, std::wstring package, std::vector<unsigned char> packed,
               std::shared_ptr<TokenOwner> token)
      : PromiseWorker(env, "ImportSecurityContextW"),
        package_(std::move(package)), packed_(std::move(packed)), token_(std::move(token)) {}

  ~ImportWorker() override { SecureZeroMemory(packed_.data(), packed_.size()); }

 protected:
  void Run() override {
    auto ctx = std::make_shared<ContextOwner>();
    SecBuffer packed{ToULong(packed_.size()), SECBUFFER_EMPTY, packed_.empty() ? nullptr : packed_.data()};
    // The caller keeps its token handle (the Token object closes it); the package takes
    // what it needs from it.
    status_ = ImportSecurityContextW(package_.data(), &packed, token_ ? token_->handle : nullptr, &ctx->handle);
    if (FAILED(status_)) return;
    ctx->valid = true;
    ctx_ = std::move(ctx);
  }

  Napi::Value Result(Napi::Env env) override { return Context::Create(env, ctx_); }

 private:
  std::wstring package_;
  std::vector<unsigned char> packed_;
  std::shared_ptr<TokenOwner> token_;
  std::shared_ptr<ContextOwner> ctx_;
};

}  // namespace

// exportSecurityContext(ctx, flags) -> Promise<{ packed: Buffer, token: Token | null }>
Napi::Value ExportContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ctx = Context::Usable(env, info[0], "ExportSecurityContext");
  if (!info[1].IsNumber()) ThrowType(env, "exportSecurityContext: flags must be a number");
  return (new ExportWorker(env, ctx, info[1].As<Napi::Number>().Uint32Value()))->Start();
}

// importSecurityContext(package, packed: Buffer, token: Token | null) -> Promise<Context>
Napi::Value ImportContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::wstring package = ToWide(env, info[0], "importSecurityContext: package must be a string");
  auto packed = ReadBytes(env, info[1], "importSecurityContext: packed must be a Buffer");
  std::shared_ptr<TokenOwner> token;
  if (!info[2].IsNull() && !info[2].IsUndefined()) token = Token::From(env, info[2], "ImportSecurityContextW");
  return (new ImportWorker(env, std::move(package), std::move(packed), std::move(token)))->Start();
}

}  // namespace sspi
