// Base of the calls that may block on the LSA or a KDC: Execute runs the SSPI call on a
// libuv thread, the result settles a Promise on the JS thread. A failing status rejects
// with an SspiError. Inputs are copied on the JS thread before the worker is queued.
#pragma once
#include <napi.h>

#include "errors.h"
#include "win.h"

namespace sspi {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* operation)
      : Napi::AsyncWorker(env, operation), operation_(operation), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the worker and returns its promise. The worker deletes itself when done.
  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  // Runs on the worker thread; sets status_ (and operation_ if another call failed).
  virtual void Run() = 0;
  // Runs on the JS thread when status_ is not a failure.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Optional extra fields on the rejection (e.g. SECBUFFER_MISSING of a handshake).
  virtual void Decorate(Napi::Env, Napi::Object) {}

  SECURITY_STATUS status_ = SEC_E_OK;
  const char* operation_;

 private:
  void Execute() override {
    try {
      Run();
    } catch (const std::bad_alloc&) {
      status_ = SEC_E_INSUFFICIENT_MEMORY;
    } catch (...) {
      status_ = SEC_E_INTERNAL_ERROR;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      if (FAILED(status_)) {
        Napi::Value error = MakeSspiError(env, status_, operation_);
        if (error.IsObject()) Decorate(env, error.As<Napi::Object>());
        deferred_.Reject(error);
      } else {
        deferred_.Resolve(Result(env));
      }
    } catch (const Napi::Error& e) {
      // The environment may be shutting down (worker_threads terminate): nothing to settle.
      try {
        deferred_.Reject(e.Value());
      } catch (...) {
      }
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
};

}  // namespace sspi
