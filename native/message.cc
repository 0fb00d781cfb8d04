// MakeSignature / VerifySignature / EncryptMessage / DecryptMessage (synchronous).
// Buffer sizes come from SECPKG_ATTR_SIZES, queried once per context.
// Wire format (docs/native-message-format.md): a signature is the used part of the
// SECBUFFER_TOKEN; a sealed message is token || ciphertext || padding, each as long as the
// package said it used (Kerberos may write less than cbSecurityTrailer, and padding).
#include <utility>
#include <vector>

#include "buffers.h"
#include "calls.h"
#include "wrappers.h"

namespace sspi {
namespace {

const SecPkgContext_Sizes& Sizes(Napi::Env env, LockedContext& ctx, const char* operation) {
  if (!ctx->sizes) {
    SecPkgContext_Sizes sizes{};
    const SECURITY_STATUS status = QueryContextAttributesW(&ctx->handle, SECPKG_ATTR_SIZES, &sizes);
    if (FAILED(status)) ThrowSspi(env, status, operation, "SECPKG_ATTR_SIZES failed");
    ctx->sizes = sizes;
  }
  return *ctx->sizes;
}

SecBuffer Buf(ULONG type, std::vector<unsigned char>& bytes) {
  return SecBuffer{ToULong(bytes.size()), type, bytes.empty() ? nullptr : bytes.data()};
}

}  // namespace

// makeSignature(ctx, data) -> signature Buffer (the returned cbBuffer, not cbMaxSignature)
Napi::Value MakeSignatureCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "MakeSignature";
  auto data = ReadBytes(env, info[1], "makeSignature: data must be a Buffer");
  LockedContext ctx = Context::Lock(env, info[0], op);
  std::vector<unsigned char> signature(Sizes(env, ctx, op).cbMaxSignature);
  SecBuffer buffers[2] = {Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_TOKEN, signature)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  Check(env, MakeSignature(&ctx->handle, 0, &desc, 0), op);
  if (buffers[1].cbBuffer > signature.size()) ThrowSspi(env, SEC_E_INTERNAL_ERROR, op, "the package grew a buffer");
  return ToBuffer(env, signature.data(), buffers[1].cbBuffer);
}

// verifySignature(ctx, data, signature) -> qop (number); throws on a bad signature
Napi::Value VerifySignatureCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "VerifySignature";
  auto data = ReadBytes(env, info[1], "verifySignature: data must be a Buffer");
  auto signature = ReadBytes(env, info[2], "verifySignature: signature must be a Buffer");
  LockedContext ctx = Context::Lock(env, info[0], op);
  SecBuffer buffers[2] = {Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_TOKEN, signature)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  ULONG qop = 0;
  Check(env, VerifySignature(&ctx->handle, &desc, 0, &qop), op);
  return Napi::Number::New(env, qop);
}

// encryptMessage(ctx, data) -> token || ciphertext || padding, compacted.
// TOKEN (cbSecurityTrailer) + DATA + PADDING (cbBlockSize), as .NET and pywin32 wrap: the
// NTLM and Kerberos EncryptMessage pages require the padding buffer from non-TLS callers.
Napi::Value EncryptCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "EncryptMessage";
  auto data = ReadBytes(env, info[1], "encryptMessage: data must be a Buffer");
  LockedContext ctx = Context::Lock(env, info[0], op);
  const SecPkgContext_Sizes& sizes = Sizes(env, ctx, op);
  std::vector<unsigned char> token(sizes.cbSecurityTrailer), padding(sizes.cbBlockSize);
  SecBuffer buffers[3] = {Buf(SECBUFFER_TOKEN, token), Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_PADDING, padding)};
  SecBufferDesc desc{SECBUFFER_VERSION, 3, buffers};
  Check(env, EncryptMessage(&ctx->handle, 0, &desc, 0), op);
  const size_t t = buffers[0].cbBuffer, d = buffers[1].cbBuffer, p = buffers[2].cbBuffer;
  if (t > token.size() || d > data.size() || p > padding.size()) {
    ThrowSspi(env, SEC_E_INTERNAL_ERROR, op, "the package grew a buffer");
  }
  Napi::Buffer<unsigned char> out = Napi::Buffer<unsigned char>::New(env, t + d + p);
  unsigned char* o = out.Data();
  if (t != 0) memcpy(o, token.data(), t);
  if (d != 0) memcpy(o + t, data.data(), d);
  if (p != 0) memcpy(o + t + d, padding.data(), p);
  return out;
}

// decryptMessage(ctx, token || ciphertext || padding) -> plaintext.
// SECBUFFER_STREAM (the whole message) + an empty SECBUFFER_DATA: the package finds the
// boundaries itself (a Kerberos token may be shorter than cbSecurityTrailer) and points
// DATA at the plaintext inside the stream (.NET and pywin32 unwrap this way). A package
// that does not take STREAM (Wine 8's NTLM answers SEC_E_INVALID_TOKEN; .NET unwraps NTLM
// as TOKEN + DATA) gets TOKEN (cbSecurityTrailer) + DATA instead; the layout that first
// worked is kept for the context.
namespace {

struct Decrypted {
  SECURITY_STATUS status;
  std::vector<unsigned char> plain;
};

Decrypted DecryptStream(LockedContext& ctx, std::vector<unsigned char> message) {
  SecBuffer buffers[2] = {Buf(SECBUFFER_STREAM, message), SecBuffer{0, SECBUFFER_DATA, nullptr}};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  ULONG qop = 0;
  Decrypted out{DecryptMessage(&ctx->handle, &desc, 0, &qop), {}};
  if (FAILED(out.status)) return out;
  const auto* plain = static_cast<const unsigned char*>(buffers[1].pvBuffer);
  const size_t n = buffers[1].cbBuffer;
  if (plain == nullptr || n == 0) return out;
  // DATA must lie inside the stream we passed; anything else is a package bug.
  const unsigned char* begin = message.data();
  const unsigned char* end = begin + message.size();
  if (plain < begin || plain > end || n > static_cast<size_t>(end - plain)) {
    out.status = SEC_E_INTERNAL_ERROR;
    return out;
  }
  out.plain.assign(plain, plain + n);
  return out;
}

Decrypted DecryptTokenData(LockedContext& ctx, const std::vector<unsigned char>& message, size_t trailer) {
  if (message.size() < trailer) return {SEC_E_INVALID_TOKEN, {}};
  const auto split = message.begin() + static_cast<std::ptrdiff_t>(trailer);
  std::vector<unsigned char> token(message.begin(), split), data(split, message.end());
  SecBuffer buffers[2] = {Buf(SECBUFFER_TOKEN, token), Buf(SECBUFFER_DATA, data)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  ULONG qop = 0;
  Decrypted out{DecryptMessage(&ctx->handle, &desc, 0, &qop), {}};
  if (FAILED(out.status)) return out;
  // In-place packages leave pvBuffer in data; others point it into their own copy.
  const auto* plain = static_cast<const unsigned char*>(buffers[1].pvBuffer);
  if (plain != nullptr && buffers[1].cbBuffer != 0) out.plain.assign(plain, plain + buffers[1].cbBuffer);
  return out;
}

}  // namespace

Napi::Value DecryptCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "DecryptMessage";
  auto message = ReadBytes(env, info[1], "decryptMessage: message must be a Buffer");
  LockedContext ctx = Context::Lock(env, info[0], op);
  if (message.empty()) ThrowSspi(env, SEC_E_INVALID_TOKEN, op, "the message is empty");
  if (ctx->decryptLayout != DecryptLayout::kTokenData) {
    const bool untried = ctx->decryptLayout == DecryptLayout::kUnknown;
    // A known STREAM package decrypts our copy in place; a first try keeps the message for
    // the TOKEN + DATA attempt.
    Decrypted r = untried ? DecryptStream(ctx, message) : DecryptStream(ctx, std::move(message));
    if (!FAILED(r.status)) {
      ctx->decryptLayout = DecryptLayout::kStream;
      return ToBuffer(env, r.plain.data(), r.plain.size());
    }
    if (!untried || (r.status != SEC_E_INVALID_TOKEN && r.status != SEC_E_UNSUPPORTED_FUNCTION)) {
      ThrowSspi(env, r.status, op);
    }
  }
  Decrypted r = DecryptTokenData(ctx, message, Sizes(env, ctx, op).cbSecurityTrailer);
  if (FAILED(r.status)) ThrowSspi(env, r.status, op);
  ctx->decryptLayout = DecryptLayout::kTokenData;
  return ToBuffer(env, r.plain.data(), r.plain.size());
}

}  // namespace sspi
