// Process-heap allocation, optional logging, the toy keyed hash and nonces.
#include <cstdio>

#include "provider.h"

namespace sspitest {

void* HeapZ(size_t n) { return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, n); }

void HeapRelease(void* p) {
  if (p != nullptr) HeapFree(GetProcessHeap(), 0, p);
}

wchar_t* HeapString(const std::wstring& s) {
  auto* p = static_cast<wchar_t*>(HeapZ((s.size() + 1) * sizeof(wchar_t)));
  if (p != nullptr) memcpy(p, s.c_str(), (s.size() + 1) * sizeof(wchar_t));
  return p;
}

SECURITY_STATUS Ret(const char* fn, SECURITY_STATUS st) {
  wchar_t path[MAX_PATH];
  const DWORD n = GetEnvironmentVariableW(L"SSPITEST_LOG", path, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return st;
  char line[160];
  const int len = snprintf(line, sizeof line, "%lu %s 0x%08lx\n", GetCurrentProcessId(), fn, static_cast<unsigned long>(st));
  HANDLE f = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) return st;
  DWORD written = 0;
  WriteFile(f, line, static_cast<DWORD>(len > 0 ? len : 0), &written, nullptr);
  CloseHandle(f);
  return st;
}

uint64_t Fnv(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

void RandomBytes(unsigned char* p, size_t n) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  static uint64_t counter = 0;
  counter++;
  uint64_t s = Fnv(&counter, sizeof counter, Fnv(&t, sizeof t, GetCurrentThreadId() * 0x9E3779B97F4A7C15ULL)) | 1;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    p[i] = static_cast<unsigned char>(s >> 24);
  }
}

PSecBuffer FindBuffer(PSecBufferDesc d, ULONG type) {
  if (d == nullptr || d->pBuffers == nullptr) return nullptr;
  for (ULONG i = 0; i < d->cBuffers; i++)
    if (BaseType(d->pBuffers[i]) == type) return &d->pBuffers[i];
  return nullptr;
}

}  // namespace sspitest
