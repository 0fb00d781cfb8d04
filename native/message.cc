// MakeSignature / VerifySignature / EncryptMessage / DecryptMessage (synchronous).
// Buffer sizes come from SECPKG_ATTR_SIZES, queried once per context.
// Layout: a signature is the SECBUFFER_TOKEN; a sealed message is
// trailer (cbSecurityTrailer) || ciphertext || padding.
#include <vector>

#include "buffers.h"
#include "calls.h"
#include "wrappers.h"

namespace sspi {
namespace {

// Caller holds ctx.mutex.
const SecPkgContext_Sizes& Sizes(Napi::Env env, ContextOwner& ctx, const char* operation) {
  if (!ctx.sizes) {
    SecPkgContext_Sizes sizes{};
    const SECURITY_STATUS status = QueryContextAttributesW(&ctx.handle, SECPKG_ATTR_SIZES, &sizes);
    if (FAILED(status)) ThrowSspi(env, status, operation, "SECPKG_ATTR_SIZES failed");
    ctx.sizes = sizes;
  }
  return *ctx.sizes;
}

SecBuffer Buf(ULONG type, std::vector<unsigned char>& bytes) {
  return SecBuffer{ToULong(bytes.size()), type, bytes.empty() ? nullptr : bytes.data()};
}

}  // namespace

// makeSignature(ctx, data) -> signature Buffer
Napi::Value MakeSignatureCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "MakeSignature";
  auto ctx = Context::Usable(env, info[0], op);
  auto data = ReadBytes(env, info[1], "makeSignature: data must be a Buffer");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  std::vector<unsigned char> signature(Sizes(env, *ctx, op).cbMaxSignature);
  SecBuffer buffers[2] = {Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_TOKEN, signature)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  Check(env, MakeSignature(&ctx->handle, 0, &desc, 0), op);
  return ToBuffer(env, signature.data(), buffers[1].cbBuffer);
}

// verifySignature(ctx, data, signature) -> qop (number); throws on a bad signature
Napi::Value VerifySignatureCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "VerifySignature";
  auto ctx = Context::Usable(env, info[0], op);
  auto data = ReadBytes(env, info[1], "verifySignature: data must be a Buffer");
  auto signature = ReadBytes(env, info[2], "verifySignature: signature must be a Buffer");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  SecBuffer buffers[2] = {Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_TOKEN, signature)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  ULONG qop = 0;
  Check(env, VerifySignature(&ctx->handle, &desc, 0, &qop), op);
  return Napi::Number::New(env, qop);
}

// encryptMessage(ctx, data) -> trailer || ciphertext || padding
Napi::Value EncryptCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "EncryptMessage";
  auto ctx = Context::Usable(env, info[0], op);
  auto data = ReadBytes(env, info[1], "encryptMessage: data must be a Buffer");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  const SecPkgContext_Sizes& sizes = Sizes(env, *ctx, op);
  std::vector<unsigned char> trailer(sizes.cbSecurityTrailer), padding(sizes.cbBlockSize);
  SecBuffer buffers[3] = {Buf(SECBUFFER_TOKEN, trailer), Buf(SECBUFFER_DATA, data), Buf(SECBUFFER_PADDING, padding)};
  SecBufferDesc desc{SECBUFFER_VERSION, 3, buffers};
  Check(env, EncryptMessage(&ctx->handle, 0, &desc, 0), op);
  const size_t t = buffers[0].cbBuffer, d = buffers[1].cbBuffer, p = buffers[2].cbBuffer;
  if (t > trailer.size() || d > data.size() || p > padding.size()) {
    ThrowSspi(env, SEC_E_INTERNAL_ERROR, op, "the package grew a buffer");
  }
  Napi::Buffer<unsigned char> out = Napi::Buffer<unsigned char>::New(env, t + d + p);
  unsigned char* o = out.Data();
  if (t != 0) memcpy(o, trailer.data(), t);
  if (d != 0) memcpy(o + t, data.data(), d);
  if (p != 0) memcpy(o + t + d, padding.data(), p);
  return out;
}

// decryptMessage(ctx, trailer || ciphertext || padding) -> plaintext
Napi::Value DecryptCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "DecryptMessage";
  auto ctx = Context::Usable(env, info[0], op);
  auto message = ReadBytes(env, info[1], "decryptMessage: message must be a Buffer");
  std::lock_guard<std::mutex> lock(ctx->mutex);
  const size_t t = Sizes(env, *ctx, op).cbSecurityTrailer;
  if (message.size() < t) ThrowSspi(env, SEC_E_INVALID_TOKEN, op, "the message is shorter than the trailer");
  std::vector<unsigned char> trailer(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(t));
  std::vector<unsigned char> data(message.begin() + static_cast<std::ptrdiff_t>(t), message.end());
  SecBuffer buffers[2] = {Buf(SECBUFFER_TOKEN, trailer), Buf(SECBUFFER_DATA, data)};
  SecBufferDesc desc{SECBUFFER_VERSION, 2, buffers};
  ULONG qop = 0;
  Check(env, DecryptMessage(&ctx->handle, &desc, 0, &qop), op);
  // In-place packages leave pvBuffer in data; others point it into their own copy.
  const auto* plain = static_cast<const unsigned char*>(buffers[1].pvBuffer);
  return ToBuffer(env, plain, plain != nullptr ? buffers[1].cbBuffer : 0);
}

}  // namespace sspi
