// AES-256-GCM encryption from one buffer into another, for the worker's envelopes (seal.cc).
#ifndef TERACRON_SEAL_H_
#define TERACRON_SEAL_H_

#include <napi.h>

namespace teracron {

// sealGcm(key: Uint8Array(32), iv: Uint8Array(12), plaintext: Uint8Array, ciphertext: Uint8Array,
//         tag: Uint8Array(16)): undefined
Napi::Value SealGcm(const Napi::CallbackInfo& info);

}  // namespace teracron

#endif  // TERACRON_SEAL_H_
