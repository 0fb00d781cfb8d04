#include "strings.h"

#include "errors.h"

namespace sspi {

static_assert(sizeof(wchar_t) == sizeof(char16_t), "Windows wchar_t is UTF-16");

std::wstring ToWide(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsString()) ThrowType(env, what);
  std::u16string s = value.As<Napi::String>().Utf16Value();
  if (s.find(u'\0') != std::u16string::npos) ThrowType(env, what);
  return std::wstring(s.begin(), s.end());
}

Napi::Value FromWide(Napi::Env env, const wchar_t* text) {
  if (text == nullptr) return env.Undefined();
  return Napi::String::New(env, reinterpret_cast<const char16_t*>(text));
}

}  // namespace sspi
