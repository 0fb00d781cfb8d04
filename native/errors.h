// Every failing SSPI call becomes an SspiError(status, operation, detail?) built from the
// class the TypeScript side registered with setErrorClass.
#pragma once
#include <napi.h>

#include "win.h"

namespace sspi {

Napi::Value MakeSspiError(Napi::Env env, SECURITY_STATUS status, const char* operation,
                          const char* detail = nullptr);

[[noreturn]] void ThrowSspi(Napi::Env env, SECURITY_STATUS status, const char* operation,
                            const char* detail = nullptr);

// Throws unless status is a success or informational code.
inline void Check(Napi::Env env, SECURITY_STATUS status, const char* operation) {
  if (FAILED(status)) ThrowSspi(env, status, operation);
}

[[noreturn]] void ThrowType(Napi::Env env, const char* message);

}  // namespace sspi
