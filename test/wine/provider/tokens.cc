// The client token of a server context, QuerySecurityContextToken and impersonation.
#include "provider.h"

namespace sspitest {

// Every Wine token is the one Unix user (PROVIDER.md), so the client token is told apart
// from the process token by a privilege CreateRestrictedToken removed (README.md records
// what Wine 8 does with the other ways of restricting a token).
const wchar_t kRemovedPrivilege[] = L"SeUndockPrivilege";

HANDLE NewClientToken(bool identify) {
  HANDLE process = nullptr, restricted = nullptr, token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &process)) return nullptr;
  LUID_AND_ATTRIBUTES removed{};
  HANDLE base = process;
  if (LookupPrivilegeValueW(nullptr, kRemovedPrivilege, &removed.Luid) &&
      CreateRestrictedToken(process, 0, 0, nullptr, 1, &removed, 0, nullptr, &restricted)) {
    base = restricted;
  }
  // An impersonation token: SetThreadToken takes only those. Identify contexts get an
  // Identification-level one (SSPI-CONTRACTS §6).
  const SECURITY_IMPERSONATION_LEVEL level = identify ? SecurityIdentification : SecurityImpersonation;
  if (!DuplicateTokenEx(base, TOKEN_ALL_ACCESS, nullptr, level, TokenImpersonation, &token)) token = nullptr;
  if (restricted != nullptr) CloseHandle(restricted);
  CloseHandle(process);
  return token;
}

// A fresh handle per query; the caller closes it ([M15]).
SECURITY_STATUS SEC_ENTRY QueryToken(PCtxtHandle ctx, void** token) {
  const char* fn = "QuerySecurityContextToken";
  Lock lock;
  Ctx* c = UsableCtx(ctx);
  if (c == nullptr || token == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (!IsComplete(c) || c->token == nullptr) return Ret(fn, SEC_E_NO_IMPERSONATION);
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), c->token, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    return Ret(fn, SEC_E_INTERNAL_ERROR);
  }
  *token = dup;
  return Ret(fn, SEC_E_OK);
}

// Sets only the calling thread's token ([M13]); nothing here or in DeleteSecurityContext
// reverts it for the caller.
SECURITY_STATUS SEC_ENTRY Impersonate(PCtxtHandle ctx) {
  const char* fn = "ImpersonateSecurityContext";
  Lock lock;
  Ctx* c = UsableCtx(ctx);
  if (c == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  if (!IsComplete(c) || c->token == nullptr) return Ret(fn, SEC_E_NO_IMPERSONATION);
  // An imported context holds whatever token its importer passed: a primary one needs
  // ImpersonateLoggedOnUser.
  if (SetThreadToken(nullptr, c->token) || ImpersonateLoggedOnUser(c->token)) return Ret(fn, SEC_E_OK);
  return Ret(fn, SEC_E_NO_IMPERSONATION);
}

SECURITY_STATUS SEC_ENTRY Revert(PCtxtHandle ctx) {
  const char* fn = "RevertSecurityContext";
  Lock lock;
  if (UsableCtx(ctx) == nullptr) return Ret(fn, SEC_E_INVALID_HANDLE);
  return Ret(fn, SetThreadToken(nullptr, nullptr) ? SEC_E_OK : SEC_E_INTERNAL_ERROR);
}

}  // namespace sspitest
