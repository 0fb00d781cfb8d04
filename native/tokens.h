// Token handles across processes, and the token facts tests assert.
#pragma once
#include <napi.h>

#include <cstdint>

#include "win.h"

namespace sspi {

// OpenProcess(PROCESS_DUP_HANDLE) + DuplicateHandle: the value of the copy in process pid.
uint64_t DuplicateTokenInto(Napi::Env env, HANDLE token, DWORD pid);
// String SID of the token's user ("S-1-5-21-...").
Napi::Value TokenUserSid(Napi::Env env, HANDLE token);

Napi::Value AdoptToken(const Napi::CallbackInfo& info);
Napi::Value ProcessHandleCount(const Napi::CallbackInfo& info);
Napi::Value ProbedHandleCount(const Napi::CallbackInfo& info);
Napi::Value ThreadTokenSid(const Napi::CallbackInfo& info);
Napi::Value ProcessUserSid(const Napi::CallbackInfo& info);
Napi::Value UserName(const Napi::CallbackInfo& info);
Napi::Value ThreadTokenInfo(const Napi::CallbackInfo& info);
Napi::Value ProcessPrivileges(const Napi::CallbackInfo& info);
Napi::Value CloseFailures(const Napi::CallbackInfo& info);
Napi::Array TokenPrivilegeNames(Napi::Env env, HANDLE token);

}  // namespace sspi
