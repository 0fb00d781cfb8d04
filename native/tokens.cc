#include "tokens.h"

#include <memory>
#include <vector>

#include "errors.h"
#include "handles.h"
#include "strings.h"
#include "wrappers.h"

namespace sspi {
namespace {

// A Win32 failure as a SECURITY_STATUS, with the Win32 error number in the detail text.
[[noreturn]] void ThrowWin32(Napi::Env env, SECURITY_STATUS status, const char* operation, DWORD error) {
  char detail[64];
  snprintf(detail, sizeof detail, "Win32 error %lu", static_cast<unsigned long>(error));
  ThrowSspi(env, status, operation, detail);
}

struct HandleCloser {
  void operator()(HANDLE h) const { CloseOwnedHandle(h); }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

}  // namespace

uint64_t DuplicateTokenInto(Napi::Env env, HANDLE token, DWORD pid) {
  UniqueHandle target(OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid));
  if (!target) {
    const DWORD error = GetLastError();
    ThrowWin32(env, error == ERROR_ACCESS_DENIED ? SEC_E_NOT_OWNER : SEC_E_INVALID_HANDLE, "OpenProcess", error);
  }
  HANDLE remote = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), token, target.get(), &remote, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    const DWORD error = GetLastError();
    ThrowWin32(env, error == ERROR_ACCESS_DENIED ? SEC_E_NOT_OWNER : SEC_E_INVALID_HANDLE, "DuplicateHandle", error);
  }
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(remote));
}

// A variable-size GetTokenInformation class: asks for the size, then fetches.
static std::vector<unsigned char> TokenInformation(Napi::Env env, HANDLE token, TOKEN_INFORMATION_CLASS cls) {
  DWORD size = 0;
  GetTokenInformation(token, cls, nullptr, 0, &size);
  if (size == 0) ThrowWin32(env, SEC_E_INVALID_HANDLE, "GetTokenInformation", GetLastError());
  std::vector<unsigned char> data(size);
  if (!GetTokenInformation(token, cls, data.data(), size, &size)) {
    ThrowWin32(env, SEC_E_INVALID_HANDLE, "GetTokenInformation", GetLastError());
  }
  return data;
}

Napi::Array TokenPrivilegeNames(Napi::Env env, HANDLE token) {
  const std::vector<unsigned char> data = TokenInformation(env, token, TokenPrivileges);
  const auto* privileges = reinterpret_cast<const TOKEN_PRIVILEGES*>(data.data());
  Napi::Array names = Napi::Array::New(env);
  uint32_t n = 0;
  for (DWORD i = 0; i < privileges->PrivilegeCount; i++) {
    LUID luid = privileges->Privileges[i].Luid;
    wchar_t name[128];
    DWORD length = 128;
    if (LookupPrivilegeNameW(nullptr, &luid, name, &length)) names.Set(n++, FromWide(env, name));
  }
  return names;
}

Napi::Value TokenUserSid(Napi::Env env, HANDLE token) {
  std::vector<unsigned char> data = TokenInformation(env, token, TokenUser);
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(data.data())->User.Sid, &text)) {
    ThrowWin32(env, SEC_E_INTERNAL_ERROR, "ConvertSidToStringSidW", GetLastError());
  }
  Napi::Value result = FromWide(env, text);
  LocalFree(text);
  return result;
}

// adoptToken(value: bigint): a token HANDLE that another process duplicated into this one.
// The value must name a token in this process; the returned Token closes it.
Napi::Value AdoptToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBigInt()) ThrowType(env, "adoptToken(value): value must be a bigint");
  bool lossless = false;
  const uint64_t value = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless || value == 0 || value > UINTPTR_MAX) {
    ThrowSspi(env, SEC_E_INVALID_HANDLE, "adoptToken", "not a handle value");
  }
  HANDLE handle = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(value));
  TOKEN_TYPE type{};
  DWORD size = 0;
  if (!GetTokenInformation(handle, TokenType, &type, sizeof type, &size)) {
    ThrowWin32(env, SEC_E_INVALID_HANDLE, "adoptToken", GetLastError());
  }
  return Token::Create(env, std::make_shared<TokenOwner>(handle));
}

// Test-only: GetProcessHandleCount of this process.
Napi::Value ProcessHandleCount(const Napi::CallbackInfo& info) {
  DWORD count = 0;
  if (!GetProcessHandleCount(GetCurrentProcess(), &count)) {
    ThrowWin32(info.Env(), SEC_E_INTERNAL_ERROR, "GetProcessHandleCount", GetLastError());
  }
  return Napi::Number::New(info.Env(), count);
}

// Test-only: the number of open handles found by probing every handle value up to a
// limit with GetHandleInformation. Wine's GetProcessHandleCount always reports 0.
Napi::Value ProbedHandleCount(const Napi::CallbackInfo& info) {
  const uint32_t limit = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0x10000u;
  uint32_t count = 0;
  for (uintptr_t v = 4; v <= limit; v += 4) {
    DWORD flags = 0;
    if (GetHandleInformation(reinterpret_cast<HANDLE>(v), &flags)) count++;
  }
  return Napi::Number::New(info.Env(), count);
}

// The calling thread's token (TOKEN_QUERY), or null when the thread is not impersonating.
static UniqueHandle OpenThreadTokenOrNull(Napi::Env env) {
  HANDLE raw = nullptr;
  if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &raw)) {
    const DWORD error = GetLastError();
    if (error == ERROR_NO_TOKEN) return UniqueHandle();
    ThrowWin32(env, SEC_E_INTERNAL_ERROR, "OpenThreadToken", error);
  }
  return UniqueHandle(raw);
}

static UniqueHandle OpenOwnProcessToken(Napi::Env env) {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) {
    ThrowWin32(env, SEC_E_INTERNAL_ERROR, "OpenProcessToken", GetLastError());
  }
  return UniqueHandle(raw);
}

// Test-only: the user SID of the calling thread's token, or null when the thread is not
// impersonating.
Napi::Value ThreadTokenSid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UniqueHandle token = OpenThreadTokenOrNull(env);
  return token ? TokenUserSid(env, token.get()) : env.Null();
}

// Test-only: what the calling thread's token is, or null when the thread is not
// impersonating: { sid, privileges: string[], restricted: boolean, level }. The test
// provider's context token lacks a privilege the process token has, so the tests can tell
// "impersonating the imported token" from "impersonating the process' own identity".
Napi::Value ThreadTokenInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UniqueHandle token = OpenThreadTokenOrNull(env);
  if (!token) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("sid", TokenUserSid(env, token.get()));
  result.Set("privileges", TokenPrivilegeNames(env, token.get()));
  result.Set("restricted", Napi::Boolean::New(env, IsTokenRestricted(token.get()) != FALSE));
  SECURITY_IMPERSONATION_LEVEL level = SecurityAnonymous;
  DWORD size = 0;
  if (GetTokenInformation(token.get(), TokenImpersonationLevel, &level, sizeof level, &size)) {
    result.Set("level", Napi::Number::New(env, static_cast<double>(level)));
  }
  return result;
}

// Test-only: the privilege names of the process token.
Napi::Value ProcessPrivileges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return TokenPrivilegeNames(env, OpenOwnProcessToken(env).get());
}

// Test-only: how many CloseHandle calls of the addon failed (must stay 0).
Napi::Value CloseFailures(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), CloseHandleFailures());
}

// Test-only: the user SID of the process token.
Napi::Value ProcessUserSid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return TokenUserSid(env, OpenOwnProcessToken(env).get());
}

// GetUserNameW on the calling thread (the impersonated user while impersonating).
Napi::Value UserName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  wchar_t name[257];
  DWORD size = 257;
  if (!GetUserNameW(name, &size)) ThrowWin32(env, SEC_E_INTERNAL_ERROR, "GetUserNameW", GetLastError());
  return FromWide(env, name);
}

}  // namespace sspi
