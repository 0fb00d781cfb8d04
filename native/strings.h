// UTF-16 conversions between JS strings and the W SSPI functions.
#pragma once
#include <napi.h>

#include <string>

namespace sspi {

std::wstring ToWide(Napi::Env env, const Napi::Value& value, const char* what);
Napi::Value FromWide(Napi::Env env, const wchar_t* text);  // null pointer -> undefined

}  // namespace sspi
