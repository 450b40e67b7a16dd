import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { ENVELOPE_OVERHEAD, ENVELOPE_WRAPPED_KEY_BYTES, loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelopeInto, sealedLength } from '../../src/wire/envelope';
import { nativeGcmSeal } from '../../src/worker/native-seal';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);
const privateKey = loadPrivateKey(vectors.private_key_pem);
const SIZES = [0, 1, 15, 16, 17, 4096, 65_535, 65_536 + 13, (1 << 20) + 7];

function sealer() {
  const gcm = nativeGcmSeal();
  // npm ci builds the addon; a repository whose addon lacks sealGcm is a broken build, not a skip.
  assert.ok(gcm !== null, 'the compiled addon (build/Release) has no sealGcm: run `npm run install` to rebuild it');
  return gcm;
}

test('the addon encrypts to the same ciphertext and tag as node:crypto, at every size', () => {
  const gcm = sealer();
  for (const size of SIZES) {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const plaintext = randomBytes(size);
    const ciphertext = Buffer.alloc(size, 0xaa);
    const tag = Buffer.alloc(16);
    gcm(key, iv, plaintext, ciphertext, tag);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    const expected = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    assert.ok(ciphertext.equals(expected), `ciphertext differs from node:crypto's at ${size} bytes`);
    assert.ok(tag.equals(cipher.getAuthTag()), `tag differs from node:crypto's at ${size} bytes`);
  }
});

test('an envelope sealed by the addon into a reused buffer opens with the private key, and tampering is caught', () => {
  const gcm = sealer();
  const target = Buffer.alloc(sealedLength((1 << 20) + 7) + 100, 0x55);
  for (const size of SIZES) {
    const plaintext = randomBytes(size);
    const envelope = sealEnvelopeInto(plaintext, publicKey, target, gcm);
    assert.equal(envelope.byteLength, ENVELOPE_OVERHEAD + size);
    assert.equal(envelope.buffer, target.buffer, 'sealed into the target, not a copy');
    assert.ok(openEnvelope(envelope, privateKey).equals(plaintext), `round trip at ${size} bytes`);
    if (size >= 16) {
      // The plaintext itself is never written to the target.
      assert.ok(!envelope.subarray(ENVELOPE_OVERHEAD).equals(plaintext));
      envelope[ENVELOPE_OVERHEAD + (size >> 1)]! ^= 1;
      assert.throws(() => openEnvelope(envelope, privateKey), /authenticat|tag|modified/i);
    }
  }
  // The wrapped key is fresh per envelope.
  const a = Buffer.from(sealEnvelopeInto(Buffer.from('x'), publicKey, target, gcm).subarray(0, ENVELOPE_WRAPPED_KEY_BYTES));
  const b = sealEnvelopeInto(Buffer.from('x'), publicKey, target, gcm).subarray(0, ENVELOPE_WRAPPED_KEY_BYTES);
  assert.ok(!a.equals(b));
});

test('the addon names a wrong argument, with its value', () => {
  const gcm = sealer();
  const iv = Buffer.alloc(12);
  const tag = Buffer.alloc(16);
  assert.throws(() => gcm(Buffer.alloc(31), iv, Buffer.alloc(4), Buffer.alloc(4), tag), { name: 'RangeError', message: 'key must be 32 bytes, got 31' });
  assert.throws(() => gcm(Buffer.alloc(32), Buffer.alloc(16), Buffer.alloc(4), Buffer.alloc(4), tag), { name: 'RangeError', message: 'iv must be 12 bytes, got 16' });
  assert.throws(() => gcm(Buffer.alloc(32), iv, Buffer.alloc(4), Buffer.alloc(3), tag), { name: 'RangeError', message: 'ciphertext must be as long as plaintext (4 bytes), got 3' });
  assert.throws(() => gcm(Buffer.alloc(32), iv, 'text' as unknown as Uint8Array, Buffer.alloc(4), tag), { name: 'TypeError', message: 'plaintext must be a Uint8Array' });
  assert.throws(() => gcm(Buffer.alloc(32), iv, new Uint16Array(2) as unknown as Uint8Array, Buffer.alloc(4), tag), { name: 'TypeError', message: 'plaintext must be a Uint8Array' });
});
