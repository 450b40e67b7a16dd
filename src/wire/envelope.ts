/**
 * The envelope every body travels in. Hybrid encryption: a fresh AES-256-GCM key per envelope,
 * wrapped for the project's RSA-4096 public key, so the agent can encrypt and only the holder of
 * the private key can read.
 *
 *   0                        512        524          540
 *   +------------------------+----------+------------+----------------------+
 *   | RSA-OAEP wrapped key   | IV (12)  | GCM tag    | AES-256-GCM          |
 *   | (SHA-256, MGF1-SHA-256)|          | (16)       | ciphertext (n bytes) |
 *   +------------------------+----------+------------+----------------------+
 *
 * Sealing runs on the worker for every batch, so it writes the pieces into one output buffer
 * rather than concatenating, and the worker passes a reused one (sealEnvelopeInto), and the
 * addon's AES-GCM, which encrypts into that buffer without the copies of node:crypto's.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomFillSync,
} from 'node:crypto';
import { TeracronEnvelopeError, TeracronKeyError } from '../errors';

/**
 * AES-256-GCM of `plaintext` into `ciphertext` (as long) and its tag into `tag`, for a caller that
 * has one writing into its buffers (the worker's addon: src/worker/native-seal.ts).
 */
export type GcmSeal = (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array) => void;

export const ENVELOPE_WRAPPED_KEY_BYTES = 512;
export const ENVELOPE_IV_BYTES = 12;
export const ENVELOPE_TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = ENVELOPE_WRAPPED_KEY_BYTES + ENVELOPE_IV_BYTES + ENVELOPE_TAG_BYTES;

const REQUIRED_MODULUS_BITS = 4096;
const AES_KEY_BYTES = 32;
const IV_OFFSET = ENVELOPE_WRAPPED_KEY_BYTES;
const TAG_OFFSET = IV_OFFSET + ENVELOPE_IV_BYTES;
const CIPHERTEXT_OFFSET = TAG_OFFSET + ENVELOPE_TAG_BYTES;

// Node uses the OAEP hash for MGF1 as well, which is what the protocol asks for.
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

export function loadPublicKey(pem: string | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    if (pem instanceof KeyObject) {
      // A private key carries its public half; accepting it saves callers a conversion.
      key = pem.type === 'private' ? createPublicKey(pem) : pem;
    } else {
      key = createPublicKey(pem);
    }
  } catch (cause) {
    throw new TeracronKeyError(
      `The public key cannot be parsed (${(cause as Error).message}): a 4096-bit RSA public key in PEM (SPKI) form is required (\`teracron keygen\` makes one).`,
      { cause },
    );
  }
  if (key.type !== 'public') {
    throw new TeracronKeyError(`Expected an RSA public key but got a ${key.type} (symmetric) key: a 4096-bit RSA public key is required (\`teracron keygen\` makes one).`);
  }
  assertRsa4096(key, 'public');
  return key;
}

export function loadPrivateKey(pem: string | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = pem instanceof KeyObject ? pem : createPrivateKey(pem);
  } catch (cause) {
    throw new TeracronKeyError(
      `The private key cannot be parsed (${(cause as Error).message}): a 4096-bit RSA private key in PEM form is required (\`teracron keygen\` makes one).`,
      { cause },
    );
  }
  if (key.type !== 'private') {
    throw new TeracronKeyError(`Expected an RSA private key but got a ${key.type} key instead: a 4096-bit RSA private key is required (\`teracron keygen\` makes one).`);
  }
  assertRsa4096(key, 'private');
  return key;
}

function assertRsa4096(key: KeyObject, kind: 'public' | 'private'): void {
  // 'rsa-pss' keys cannot do OAEP, so only plain 'rsa' is accepted.
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TeracronKeyError(
      `Expected an RSA ${kind} key but got a key of type "${key.asymmetricKeyType ?? 'unknown'}": a 4096-bit RSA key is required (\`teracron keygen\` makes one).`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== REQUIRED_MODULUS_BITS) {
    throw new TeracronKeyError(
      `Expected a 4096-bit RSA ${kind} key but got a ${bits ?? 'unknown'}-bit one: a 4096-bit RSA key is required (\`teracron keygen\` makes one).`,
    );
  }
}

/**
 * Plaintext encrypted per update() call. update() has no output-buffer variant in Node 20, so
 * each call returns a new buffer that is copied into place; 64 KiB ones stay under malloc's mmap
 * threshold and are reused by it, where one the size of a whole batch is fresh memory the kernel
 * must fault in page by page (20 ms of a 1.7 MB batch, cold, against under 2 ms in slices).
 * 16 KiB slices measured a little slower (more calls), 256 KiB ones no faster.
 */
const SEAL_SLICE_BYTES = 64 * 1024;

/** The envelope's size for a plaintext of `plaintextBytes`. */
export function sealedLength(plaintextBytes: number): number {
  return ENVELOPE_OVERHEAD + plaintextBytes;
}

export function sealEnvelope(plaintext: Uint8Array, publicKey: KeyObject): Buffer {
  return sealEnvelopeInto(plaintext, publicKey, Buffer.allocUnsafe(sealedLength(plaintext.byteLength)));
}

/**
 * Seals into `target` (at least sealedLength() bytes, from its start) and returns the view of it
 * that is the envelope, for callers that reuse their output buffers: the worker's batches, whose
 * envelopes were otherwise a fresh buffer of megabytes each, faulted in page by page. Only
 * ciphertext and the wrapped key are ever written to `target`, never the plaintext.
 */
export function sealEnvelopeInto(plaintext: Uint8Array, publicKey: KeyObject, target: Buffer, gcm: GcmSeal | null = null): Buffer {
  const length = sealedLength(plaintext.byteLength);
  if (target.byteLength < length) throw new RangeError(`an envelope of ${length} bytes does not fit in a target of ${target.byteLength}`);
  const out = target.subarray(0, length);
  // Its own allocation rather than randomBytes, so zeroing it cannot touch a shared pool.
  const aesKey = Buffer.alloc(AES_KEY_BYTES);
  try {
    randomFillSync(aesKey);
    randomFillSync(out, IV_OFFSET, ENVELOPE_IV_BYTES);
    const wrapped = publicEncrypt({ key: publicKey, ...OAEP }, aesKey);
    wrapped.copy(out, 0);
    if (gcm !== null) {
      gcm(aesKey, out.subarray(IV_OFFSET, TAG_OFFSET), plaintext, out.subarray(CIPHERTEXT_OFFSET), out.subarray(TAG_OFFSET, CIPHERTEXT_OFFSET));
      return out;
    }
    const cipher = createCipheriv('aes-256-gcm', aesKey, out.subarray(IV_OFFSET, TAG_OFFSET), {
      authTagLength: ENVELOPE_TAG_BYTES,
    });
    let written = CIPHERTEXT_OFFSET;
    for (let at = 0; at < plaintext.byteLength; at += SEAL_SLICE_BYTES) {
      written += cipher.update(plaintext.subarray(at, at + SEAL_SLICE_BYTES)).copy(out, written);
    }
    // GCM is a stream mode: final() emits nothing, but it must run before the tag exists.
    cipher.final().copy(out, written);
    cipher.getAuthTag().copy(out, TAG_OFFSET);
    return out;
  } finally {
    aesKey.fill(0);
  }
}

export function openEnvelope(envelope: Uint8Array, privateKey: KeyObject): Buffer {
  if (envelope.byteLength < ENVELOPE_OVERHEAD) {
    throw new TeracronEnvelopeError(
      'too-short',
      `The envelope is ${envelope.byteLength} bytes long but needs at least ${ENVELOPE_OVERHEAD} (512-byte wrapped key, 12-byte IV, 16-byte tag): it is truncated or not an envelope.`,
    );
  }
  const bytes = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  let aesKey: Buffer;
  try {
    aesKey = privateDecrypt({ key: privateKey, ...OAEP }, bytes.subarray(0, ENVELOPE_WRAPPED_KEY_BYTES));
  } catch (cause) {
    throw new TeracronEnvelopeError(
      'key-unwrap',
      "The envelope's AES key cannot be unwrapped: it was not encrypted for this project's key (wrong API key or project).",
      { cause },
    );
  }
  try {
    if (aesKey.length !== AES_KEY_BYTES) {
      throw new TeracronEnvelopeError(
        'key-unwrap',
        `The envelope's unwrapped key is ${aesKey.length} bytes, not ${AES_KEY_BYTES}: it was not sealed by a Teracron agent.`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', aesKey, bytes.subarray(IV_OFFSET, TAG_OFFSET), {
      authTagLength: ENVELOPE_TAG_BYTES,
    });
    decipher.setAuthTag(bytes.subarray(TAG_OFFSET, CIPHERTEXT_OFFSET));
    const plaintext = decipher.update(bytes.subarray(CIPHERTEXT_OFFSET));
    try {
      decipher.final();
    } catch (cause) {
      plaintext.fill(0);
      throw new TeracronEnvelopeError(
        'auth-tag',
        'The envelope failed its GCM authentication tag check: the body was tampered with or corrupted in transit.',
        { cause },
      );
    }
    return plaintext;
  } finally {
    aesKey.fill(0);
  }
}
