#include "handles.h"

namespace sspi {
namespace {
// Process-wide on purpose: handles are per process, whichever environment closed them.
std::atomic<uint32_t> closeFailures{0};
}  // namespace

void CloseOwnedHandle(HANDLE handle) {
  if (handle == nullptr || handle == INVALID_HANDLE_VALUE) return;
  if (!CloseHandle(handle)) closeFailures.fetch_add(1, std::memory_order_relaxed);
}

uint32_t CloseHandleFailures() { return closeFailures.load(std::memory_order_relaxed); }

CredentialOwner::~CredentialOwner() {
  if (valid) FreeCredentialsHandle(&handle);
}

ContextOwner::~ContextOwner() {
  // Also after an export with DELETE_OLD: secur32 keeps its own record of the handle
  // until DeleteSecurityContext, which then returns SEC_E_OK (DeleteSecurityContext docs).
  if (state != ContextState::kEmpty) DeleteSecurityContext(&handle);
}

}  // namespace sspi
