#include "buffers.h"

#include <cmath>
#include <cstring>

#include "errors.h"

namespace sspi {

bool FitsULong(size_t n) { return n <= 0x7fffffffu; }

std::vector<unsigned char> ReadBytes(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, what);
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (!FitsULong(bytes.ByteLength())) ThrowSspi(env, SEC_E_INSUFFICIENT_MEMORY, what, "buffer too large");
  const unsigned char* p = bytes.Data();
  return std::vector<unsigned char>(p, p + bytes.ByteLength());
}

std::vector<OwnedBuffer> ReadBuffers(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) ThrowType(env, what);
  Napi::Array list = value.As<Napi::Array>();
  std::vector<OwnedBuffer> result;
  result.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) ThrowType(env, what);
    Napi::Object o = item.As<Napi::Object>();
    Napi::Value type = o.Get("type");
    if (!type.IsNumber()) ThrowType(env, what);
    OwnedBuffer b;
    b.type = type.As<Napi::Number>().Uint32Value();
    Napi::Value bytes = o.Get("buffer");
    if (!bytes.IsUndefined() && !bytes.IsNull()) b.data = ReadBytes(env, bytes, what);
    Napi::Value size = o.Get("size");
    b.size = size.IsNumber() ? size.As<Napi::Number>().Uint32Value() : ToULong(b.data.size());
    result.push_back(std::move(b));
  }
  return result;
}

Napi::Buffer<unsigned char> ToBuffer(Napi::Env env, const unsigned char* data, size_t size) {
  return Napi::Buffer<unsigned char>::Copy(env, size != 0 ? data : reinterpret_cast<const unsigned char*>(""), size);
}

Napi::Object WriteBuffer(Napi::Env env, const OwnedBuffer& buffer) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", Napi::Number::New(env, buffer.type));
  o.Set("buffer", ToBuffer(env, buffer.data.data(), buffer.data.size()));
  if (buffer.size != buffer.data.size()) o.Set("size", Napi::Number::New(env, buffer.size));
  return o;
}

Napi::Array WriteBuffers(Napi::Env env, const std::vector<OwnedBuffer>& buffers) {
  Napi::Array list = Napi::Array::New(env, buffers.size());
  for (uint32_t i = 0; i < buffers.size(); i++) list.Set(i, WriteBuffer(env, buffers[i]));
  return list;
}

double TimeStampToMs(const TimeStamp& t) {
  const int64_t ticks = (static_cast<int64_t>(t.HighPart) << 32) | static_cast<int64_t>(t.LowPart);
  constexpr int64_t kEpochDelta = 116444736000000000LL;  // 1601-01-01 -> 1970-01-01 in 100 ns
  // In double: packages use 0x7FFFFFFFFFFFFFFF for "never", which int64 arithmetic would overflow.
  return std::floor((static_cast<double>(ticks) - static_cast<double>(kEpochDelta)) / 10000.0);
}

}  // namespace sspi
