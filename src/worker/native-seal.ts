/**
 * The addon's AES-256-GCM (native/seal.cc), which writes the ciphertext straight into the
 * envelope. node:crypto in Node 20 returns every Cipher#update as a fresh buffer: at 200k
 * spans/s that was about 50 MB/s of garbage the worker copied and then waited for a garbage
 * collection to free (tens of MiB of resident memory, and a page fault per 4 KiB written).
 * Where the addon does not load, or is a build without sealGcm, envelopes are sealed with
 * node:crypto as before; both produce the same bytes (test/worker/native-seal.test.ts).
 */
import { nativeBindingPath } from '../process/native';
import type { GcmSeal } from '../wire/envelope';

let seal: GcmSeal | null | undefined;

/** The native sealer, loaded on first use; null where there is none. */
export function nativeGcmSeal(): GcmSeal | null {
  seal ??= load();
  return seal;
}

function load(): GcmSeal | null {
  try {
    const binding = require(nativeBindingPath()) as { sealGcm?: unknown };
    return typeof binding.sealGcm === 'function' ? (binding.sealGcm as GcmSeal) : null;
  } catch {
    // The process reader says once why the addon did not load; sealing needs no second warning.
    return null;
  }
}
