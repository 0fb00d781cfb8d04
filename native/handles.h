// RAII owners of the three kinds of handle. Each frees its handle exactly once, in its
// destructor. JS wrappers and AsyncWorkers share an owner through std::shared_ptr, so a
// handle outlives every call that uses it, and is freed when the last user lets go.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "win.h"

namespace sspi {

// CloseHandle that must never fail: a failure means a handle was closed twice (or never
// ours), so it is counted for the test suite (closeHandleFailures()) instead of ignored.
void CloseOwnedHandle(HANDLE handle);
uint32_t CloseHandleFailures();

class CredentialOwner {
 public:
  CredentialOwner() { SecInvalidateHandle(&handle); }
  ~CredentialOwner();
  CredentialOwner(const CredentialOwner&) = delete;
  CredentialOwner& operator=(const CredentialOwner&) = delete;

  CredHandle handle;
  bool valid = false;
  ULONG maxToken = 0;  // cbMaxToken of the package, sizes handshake output buffers
  std::wstring package;
};

// The lifecycle of a CtxtHandle. Read and written only under ContextOwner::mutex.
enum class ContextState {
  kEmpty,     // no ISC/ASC/import has created it yet
  kCreated,   // the package holds it: usable
  kExported,  // exported with SECPKG_CONTEXT_EXPORT_DELETE_OLD: still to be deleted, not usable
};

// Which DecryptMessage layout the package takes, learnt from the first message it accepted.
enum class DecryptLayout { kUnknown, kStream, kTokenData };

class ContextOwner {
 public:
  ContextOwner() { SecInvalidateHandle(&handle); }
  ~ContextOwner();
  ContextOwner(const ContextOwner&) = delete;
  ContextOwner& operator=(const ContextOwner&) = delete;

  // Serialises the calls on one context: a handshake step or an export in a worker thread
  // and a message call on the JS thread never run on the same CtxtHandle at once, and
  // every read of `state` happens under it.
  std::mutex mutex;
  CtxtHandle handle;
  ContextState state = ContextState::kEmpty;
  std::optional<SecPkgContext_Sizes> sizes;  // cached once the context is complete
  DecryptLayout decryptLayout = DecryptLayout::kUnknown;
};

class TokenOwner {
 public:
  explicit TokenOwner(HANDLE h) : handle(h) {}
  ~TokenOwner() { CloseOwnedHandle(handle); }
  TokenOwner(const TokenOwner&) = delete;
  TokenOwner& operator=(const TokenOwner&) = delete;

  HANDLE handle;
};

}  // namespace sspi
