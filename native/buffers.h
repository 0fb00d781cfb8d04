// SecBuffer marshalling between JS ({ type, buffer, size? }) and SecBufferDesc.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

#include "win.h"

namespace sspi {

// One SecBuffer with its own copy of the bytes (safe to use off the JS thread).
struct OwnedBuffer {
  ULONG type = SECBUFFER_EMPTY;
  std::vector<unsigned char> data;
  ULONG size = 0;  // cbBuffer when no bytes are carried (SECBUFFER_MISSING)
};

// Reads a JS array of { type: number, buffer: Buffer|Uint8Array, size?: number }.
std::vector<OwnedBuffer> ReadBuffers(Napi::Env env, const Napi::Value& value, const char* what);
// Copies the bytes of a Buffer/Uint8Array argument.
std::vector<unsigned char> ReadBytes(Napi::Env env, const Napi::Value& value, const char* what);

Napi::Object WriteBuffer(Napi::Env env, const OwnedBuffer& buffer);
Napi::Array WriteBuffers(Napi::Env env, const std::vector<OwnedBuffer>& buffers);
Napi::Buffer<unsigned char> ToBuffer(Napi::Env env, const unsigned char* data, size_t size);

// A 32-bit length for SecBuffer.cbBuffer, or SEC_E_INSUFFICIENT_MEMORY when too large.
bool FitsULong(size_t n);
inline ULONG ToULong(size_t n) { return static_cast<ULONG>(n); }

// TimeStamp (100 ns since 1601) -> ms since the Unix epoch.
double TimeStampToMs(const TimeStamp& t);

}  // namespace sspi
