// Little-endian writer and bounds-checked reader for the provider's handshake tokens and
// packed contexts. A reader that runs past the end stays failed (ok() == false).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace sspitest {

class Writer {
 public:
  void Bytes(const void* p, size_t n) { s_.append(static_cast<const char*>(p), n); }
  void U8(uint8_t v) { Bytes(&v, 1); }
  void U16(uint16_t v) { Bytes(&v, 2); }
  void U32(uint32_t v) { Bytes(&v, 4); }
  void U64(uint64_t v) { Bytes(&v, 8); }
  // u16 character count, then UTF-16LE.
  void Str(const std::wstring& w) {
    U16(static_cast<uint16_t>(w.size()));
    Bytes(w.data(), w.size() * sizeof(wchar_t));
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

class Reader {
 public:
  Reader(const void* p, size_t n) : p_(static_cast<const unsigned char*>(p)), n_(p != nullptr ? n : 0) {}
  bool Bytes(void* out, size_t n) {
    if (!ok_ || n > n_ - off_) return ok_ = false;
    memcpy(out, p_ + off_, n);
    off_ += n;
    return true;
  }
  uint8_t U8() { uint8_t v = 0; Bytes(&v, 1); return v; }
  uint16_t U16() { uint16_t v = 0; Bytes(&v, 2); return v; }
  uint32_t U32() { uint32_t v = 0; Bytes(&v, 4); return v; }
  uint64_t U64() { uint64_t v = 0; Bytes(&v, 8); return v; }
  std::wstring Str(size_t maxChars) {
    const uint16_t n = U16();
    if (!ok_ || n > maxChars || n * sizeof(wchar_t) > n_ - off_) {
      ok_ = false;
      return std::wstring();
    }
    std::wstring w(n, L'\0');
    Bytes(&w[0], n * sizeof(wchar_t));
    return w;
  }
  bool Magic(const char* m) {
    char got[4];
    return Bytes(got, 4) && memcmp(got, m, 4) == 0 ? true : (ok_ = false);
  }
  bool ok() const { return ok_; }
  size_t offset() const { return off_; }
  size_t remaining() const { return n_ - off_; }

 private:
  const unsigned char* p_;
  size_t n_;
  size_t off_ = 0;
  bool ok_ = true;
};

}  // namespace sspitest
