// RAII owners of the three kinds of handle. Each frees its handle exactly once, in its
// destructor. JS wrappers and AsyncWorkers share an owner through std::shared_ptr, so a
// handle outlives every call that uses it, and is freed when the last user lets go.
#pragma once
#include <mutex>
#include <optional>
#include <string>

#include "win.h"

namespace sspi {

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

class ContextOwner {
 public:
  ContextOwner() { SecInvalidateHandle(&handle); }
  ~ContextOwner();
  ContextOwner(const ContextOwner&) = delete;
  ContextOwner& operator=(const ContextOwner&) = delete;

  // Serialises the calls on one context: a handshake step in a worker thread and a
  // message call on the JS thread never run on the same CtxtHandle at once.
  std::mutex mutex;
  CtxtHandle handle;
  bool valid = false;    // the package created it (first ISC/ASC or import succeeded)
  bool deleted = false;  // exported with SECPKG_CONTEXT_EXPORT_DELETE_OLD: no longer usable
  std::optional<SecPkgContext_Sizes> sizes;  // cached once the context is complete

  bool Usable() const { return valid && !deleted; }
};

class TokenOwner {
 public:
  explicit TokenOwner(HANDLE h) : handle(h) {}
  ~TokenOwner();
  TokenOwner(const TokenOwner&) = delete;
  TokenOwner& operator=(const TokenOwner&) = delete;

  HANDLE handle;
};

}  // namespace sspi
