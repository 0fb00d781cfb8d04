#include "handles.h"

namespace sspi {

CredentialOwner::~CredentialOwner() {
  if (valid) FreeCredentialsHandle(&handle);
}

ContextOwner::~ContextOwner() {
  // Also after an export with DELETE_OLD: secur32 keeps its own record of the handle
  // until DeleteSecurityContext, whatever the package did with its state.
  if (valid) DeleteSecurityContext(&handle);
}

TokenOwner::~TokenOwner() {
  if (handle != nullptr && handle != INVALID_HANDLE_VALUE) CloseHandle(handle);
}

}  // namespace sspi
