// Handle registry: a handle's dwLower names a Cred or Ctx only while it is registered, so a
// stale or forged handle gives SEC_E_INVALID_HANDLE instead of reading freed memory.
#include <mutex>
#include <unordered_set>

#include "provider.h"

namespace sspitest {
namespace {

std::recursive_mutex& Mutex() {
  static std::recursive_mutex m;
  return m;
}
std::unordered_set<const void*>& Creds() {
  static std::unordered_set<const void*> s;
  return s;
}
std::unordered_set<const void*>& Ctxs() {
  static std::unordered_set<const void*> s;
  return s;
}

template <typename T>
T* Lookup(std::unordered_set<const void*>& set, PSecHandle h) {
  if (h == nullptr) return nullptr;
  auto* p = reinterpret_cast<T*>(h->dwLower);
  return set.count(p) != 0 ? p : nullptr;
}

void SetHandle(PSecHandle h, void* p) {
  h->dwLower = reinterpret_cast<ULONG_PTR>(p);
  h->dwUpper = 0;  // secur32 overwrites it with its own value (PROVIDER.md)
}

}  // namespace

Lock::Lock() { Mutex().lock(); }
Lock::~Lock() { Mutex().unlock(); }

bool IsComplete(const Ctx* c) { return c->phase == Phase::Complete; }

Cred* FindCred(PCredHandle h) { return Lookup<Cred>(Creds(), h); }
Ctx* FindCtx(PCtxtHandle h) { return Lookup<Ctx>(Ctxs(), h); }
Ctx* UsableCtx(PCtxtHandle h) {
  Ctx* c = FindCtx(h);
  return c != nullptr && c->phase != Phase::Exported ? c : nullptr;
}

void PutCred(PCredHandle h, Cred* c) {
  Creds().insert(c);
  SetHandle(h, c);
}
void PutCtx(PCtxtHandle h, Ctx* c) {
  Ctxs().insert(c);
  SetHandle(h, c);
}

void DropCred(Cred* c) {
  Creds().erase(c);
  delete c;
}

void DropCtx(Ctx* c) {
  Ctxs().erase(c);
  if (c->token != nullptr) CloseHandle(c->token);
  SecureZeroMemory(c->key, sizeof c->key);
  delete c;
}

}  // namespace sspitest
