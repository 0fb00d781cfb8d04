// InitializeSecurityContextW and AcceptSecurityContext (in workers), CompleteAuthToken.
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

constexpr ULONG kAllocateMemory = ISC_REQ_ALLOCATE_MEMORY;
static_assert(ISC_REQ_ALLOCATE_MEMORY == ASC_REQ_ALLOCATE_MEMORY, "same bit on both sides");

class HandshakeWorker : public PromiseWorker {
 public:
  HandshakeWorker(Napi::Env env, bool server, std::shared_ptr<CredentialOwner> cred,
                  std::shared_ptr<ContextOwner> ctx, ULONG flags, std::vector<OwnedBuffer> input)
      : PromiseWorker(env, server ? "AcceptSecurityContext" : "InitializeSecurityContextW"),
        server_(server), cred_(std::move(cred)), ctx_(std::move(ctx)), flags_(flags), input_(std::move(input)) {}

  void SetTarget(std::wstring target) {
    hasTarget_ = true;
    target_ = std::move(target);
  }

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(ctx_->mutex);
    if (ctx_->state == ContextState::kExported) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    // Input: the caller's buffers, plus an EMPTY slot where the package reports
    // SECBUFFER_EXTRA or SECBUFFER_MISSING, unless the caller gave one.
    bool hasEmpty = false;
    for (const OwnedBuffer& b : input_) hasEmpty = hasEmpty || (b.type & ~SECBUFFER_ATTRMASK) == SECBUFFER_EMPTY;
    if (!input_.empty() && !hasEmpty) input_.push_back(OwnedBuffer{});
    std::vector<SecBuffer> in(input_.size());
    for (size_t i = 0; i < input_.size(); i++) {
      in[i].BufferType = input_[i].type;
      in[i].cbBuffer = input_[i].data.empty() ? 0 : ToULong(input_[i].data.size());
      in[i].pvBuffer = input_[i].data.empty() ? nullptr : input_[i].data.data();
    }
    SecBufferDesc inDesc{SECBUFFER_VERSION, ToULong(in.size()), in.data()};

    // Output: one token, sized from cbMaxToken or allocated by the package.
    const bool allocate = (flags_ & kAllocateMemory) != 0;
    std::vector<unsigned char> outBytes(allocate ? 0 : cred_->maxToken);
    SecBuffer out{allocate ? 0 : ToULong(outBytes.size()), SECBUFFER_TOKEN, allocate ? nullptr : outBytes.data()};
    SecBufferDesc outDesc{SECBUFFER_VERSION, 1, &out};

    CtxtHandle* existing = ctx_->state == ContextState::kCreated ? &ctx_->handle : nullptr;
    PSecBufferDesc inPtr = in.empty() ? nullptr : &inDesc;
    if (server_) {
      status_ = AcceptSecurityContext(&cred_->handle, existing, inPtr, flags_, SECURITY_NATIVE_DREP, &ctx_->handle,
                                      &outDesc, &attributes_, &expiry_);
    } else {
      status_ = InitializeSecurityContextW(&cred_->handle, existing, hasTarget_ ? target_.data() : nullptr, flags_, 0,
                                           SECURITY_NATIVE_DREP, inPtr, 0, &ctx_->handle, &outDesc, &attributes_,
                                           &expiry_);
    }
    if (!FAILED(status_)) ctx_->state = ContextState::kCreated;

    if (status_ == SEC_I_COMPLETE_NEEDED || status_ == SEC_I_COMPLETE_AND_CONTINUE) {
      // The output token is still in place: complete it before it is copied out.
      const SECURITY_STATUS completed = CompleteAuthToken(&ctx_->handle, &outDesc);
      if (FAILED(completed)) {
        status_ = completed;
        operation_ = "CompleteAuthToken";
      } else {
        completed_ = true;
      }
    }

    if (out.pvBuffer != nullptr && out.cbBuffer != 0) {
      const auto* p = static_cast<const unsigned char*>(out.pvBuffer);
      token_.assign(p, p + out.cbBuffer);
    }
    if (allocate && out.pvBuffer != nullptr) FreeContextBuffer(out.pvBuffer);

    // SECBUFFER_EXTRA: the tail of the input token that this call did not consume.
    // SECBUFFER_MISSING: how many more bytes the package needs.
    const std::vector<unsigned char>* inputToken = nullptr;
    for (const OwnedBuffer& b : input_) {
      if ((b.type & ~SECBUFFER_ATTRMASK) == SECBUFFER_TOKEN) {
        inputToken = &b.data;
        break;
      }
    }
    for (const SecBuffer& b : in) {
      if (b.BufferType == SECBUFFER_EXTRA && b.cbBuffer != 0) {
        OwnedBuffer extra;
        extra.type = SECBUFFER_EXTRA;
        if (inputToken != nullptr && b.cbBuffer <= inputToken->size()) {
          extra.data.assign(inputToken->end() - b.cbBuffer, inputToken->end());
        }
        extra.size = b.cbBuffer;
        extras_.push_back(std::move(extra));
      } else if (b.BufferType == SECBUFFER_MISSING) {
        OwnedBuffer missing;
        missing.type = SECBUFFER_MISSING;
        missing.size = b.cbBuffer;
        extras_.push_back(std::move(missing));
      }
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", Napi::Number::New(env, static_cast<uint32_t>(status_)));
    std::vector<OwnedBuffer> output;
    OwnedBuffer token;
    token.type = SECBUFFER_TOKEN;
    token.data = token_;
    token.size = ToULong(token_.size());
    output.push_back(std::move(token));
    for (const OwnedBuffer& b : extras_) output.push_back(b);
    result.Set("output", WriteBuffers(env, output));
    result.Set("contextAttributes", Napi::Number::New(env, attributes_));
    result.Set("expiry", Napi::Number::New(env, TimeStampToMs(expiry_)));
    result.Set("completed", Napi::Boolean::New(env, completed_));
    return result;
  }

  void Decorate(Napi::Env env, Napi::Object error) override {
    if (!extras_.empty()) error.Set("buffers", WriteBuffers(env, extras_));
  }

 private:
  bool server_;
  std::shared_ptr<CredentialOwner> cred_;
  std::shared_ptr<ContextOwner> ctx_;
  ULONG flags_;
  std::vector<OwnedBuffer> input_;
  bool hasTarget_ = false;
  std::wstring target_;

  ULONG attributes_ = 0;
  TimeStamp expiry_{};
  bool completed_ = false;
  std::vector<unsigned char> token_;
  std::vector<OwnedBuffer> extras_;
};

std::shared_ptr<ContextOwner> ContextForStep(Napi::Env env, const Napi::Value& value, const char* operation) {
  std::shared_ptr<ContextOwner> ctx = Context::From(env, value, operation);
  // A quick refusal on the JS thread; the worker checks again under the lock.
  bool exported = false;
  {
    std::lock_guard<std::mutex> lock(ctx->mutex);
    exported = ctx->state == ContextState::kExported;
  }
  if (exported) ThrowSspi(env, SEC_E_INVALID_HANDLE, operation, "the context was exported with DELETE_OLD");
  return ctx;
}

}  // namespace

// initializeSecurityContext(cred, ctx, target | null, flags, input[]) -> Promise<result>
Napi::Value InitializeContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "InitializeSecurityContextW";
  auto cred = Credential::From(env, info[0], op);
  auto ctx = ContextForStep(env, info[1], op);
  std::wstring target;
  const bool hasTarget = !info[2].IsNull() && !info[2].IsUndefined();
  if (hasTarget) target = ToWide(env, info[2], "initializeSecurityContext: target must be a string or null");
  if (!info[3].IsNumber()) ThrowType(env, "initializeSecurityContext: flags must be a number");
  auto input = ReadBuffers(env, info[4], "initializeSecurityContext: input must be an array of SecBuffers");
  auto* worker = new HandshakeWorker(env, false, cred, ctx, info[3].As<Napi::Number>().Uint32Value(), std::move(input));
  if (hasTarget) worker->SetTarget(std::move(target));
  return worker->Start();
}

// acceptSecurityContext(cred, ctx, flags, input[]) -> Promise<result>
Napi::Value AcceptContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "AcceptSecurityContext";
  auto cred = Credential::From(env, info[0], op);
  auto ctx = ContextForStep(env, info[1], op);
  if (!info[2].IsNumber()) ThrowType(env, "acceptSecurityContext: flags must be a number");
  auto input = ReadBuffers(env, info[3], "acceptSecurityContext: input must be an array of SecBuffers");
  return (new HandshakeWorker(env, true, cred, ctx, info[2].As<Napi::Number>().Uint32Value(), std::move(input)))->Start();
}

// completeAuthToken(ctx, buffers[]) -> buffers[] as the package left them.
Napi::Value CompleteToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "CompleteAuthToken";
  auto buffers = ReadBuffers(env, info[1], "completeAuthToken: buffers must be an array of SecBuffers");
  std::vector<SecBuffer> sb(buffers.size());
  for (size_t i = 0; i < buffers.size(); i++) {
    sb[i].BufferType = buffers[i].type;
    sb[i].cbBuffer = ToULong(buffers[i].data.size());
    sb[i].pvBuffer = buffers[i].data.empty() ? nullptr : buffers[i].data.data();
  }
  SecBufferDesc desc{SECBUFFER_VERSION, ToULong(sb.size()), sb.data()};
  SECURITY_STATUS status;
  {
    LockedContext ctx = Context::Lock(env, info[0], op);
    status = CompleteAuthToken(&ctx->handle, &desc);
  }
  Check(env, status, op);
  for (size_t i = 0; i < buffers.size(); i++) {
    if (sb[i].cbBuffer < buffers[i].data.size()) buffers[i].data.resize(sb[i].cbBuffer);
    buffers[i].size = ToULong(buffers[i].data.size());
  }
  return WriteBuffers(env, buffers);
}

}  // namespace sspi
