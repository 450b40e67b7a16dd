// AES-256-GCM straight into the caller's buffer. node:crypto's Cipher#update has no output-buffer
// form in Node 20: every call returns a fresh buffer, so each batch left about its own size of
// garbage that only a garbage collection frees (V8 lets external memory grow by tens of MiB
// first) and that the kernel faulted in page by page; the worker then copied it into the
// envelope. Here the ciphertext is written where the envelope wants it, with no allocation.
// It uses the OpenSSL that Node itself is linked with (Node exports its symbols for addons), so
// the cipher is the same code node:crypto runs.
#include "seal.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdint>
#include <string>

namespace teracron {

namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kIvBytes = 12;
constexpr size_t kTagBytes = 16;

bool BytesArgument(const Napi::CallbackInfo& info, size_t index, const char* name, size_t exact,
                   uint8_t** data, size_t* length) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array bytes = info[index].As<Napi::Uint8Array>();
  if (exact != 0 && bytes.ByteLength() != exact) {
    Napi::RangeError::New(info.Env(), std::string(name) + " must be " + std::to_string(exact) +
                                          " bytes, got " + std::to_string(bytes.ByteLength()))
        .ThrowAsJavaScriptException();
    return false;
  }
  *data = bytes.Data();
  *length = bytes.ByteLength();
  return true;
}

}  // namespace

Napi::Value SealGcm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *key, *iv, *plaintext, *ciphertext, *tag;
  size_t key_length, iv_length, plaintext_length, ciphertext_length, tag_length;
  if (!BytesArgument(info, 0, "key", kKeyBytes, &key, &key_length) ||
      !BytesArgument(info, 1, "iv", kIvBytes, &iv, &iv_length) ||
      !BytesArgument(info, 2, "plaintext", 0, &plaintext, &plaintext_length) ||
      !BytesArgument(info, 3, "ciphertext", 0, &ciphertext, &ciphertext_length) ||
      !BytesArgument(info, 4, "tag", kTagBytes, &tag, &tag_length)) {
    return env.Undefined();
  }
  if (ciphertext_length != plaintext_length) {
    Napi::RangeError::New(env, "ciphertext must be as long as plaintext (" +
                                   std::to_string(plaintext_length) + " bytes), got " +
                                   std::to_string(ciphertext_length))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  bool ok = ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kIvBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, iv) == 1;
  size_t done = 0;
  while (ok && done < plaintext_length) {
    // EVP lengths are ints: a body past 2 GiB goes in pieces.
    int piece = plaintext_length - done > INT_MAX / 2 ? INT_MAX / 2 : static_cast<int>(plaintext_length - done);
    int written = 0;
    ok = EVP_EncryptUpdate(ctx, ciphertext + done, &written, plaintext + done, piece) == 1 && written == piece;
    done += piece;
  }
  int final_bytes = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, ciphertext + done, &final_bytes) == 1 && final_bytes == 0 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    Napi::Error::New(env, "AES-256-GCM encryption failed in OpenSSL").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace teracron
