import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { TeracronEnvelopeError, TeracronKeyError } from '../../src/errors';
import { decodeBatch } from '../../src/wire/batch-codec';
import {
  ENVELOPE_IV_BYTES,
  ENVELOPE_OVERHEAD,
  ENVELOPE_TAG_BYTES,
  ENVELOPE_WRAPPED_KEY_BYTES,
  loadPrivateKey,
  loadPublicKey,
  openEnvelope,
  sealEnvelope,
} from '../../src/wire/envelope';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

const vectors = envelopeVectors();
const publicKey = loadPublicKey(vectors.public_key_pem);
const privateKey = loadPrivateKey(vectors.private_key_pem);
// Generated once: a 4096-bit key pair takes a second or so.
const otherPair = generateKeyPairSync('rsa', { modulusLength: 4096 });

function rejectsEnvelope(fn: () => unknown, reason: TeracronEnvelopeError['reason'], message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TeracronEnvelopeError);
    assert.equal(error.reason, reason);
    assert.equal(error.code, 'TERACRON_ERR_ENVELOPE');
    assert.match(error.message, message);
    return true;
  });
}

test('the layout constants add up to a 540-byte overhead', () => {
  assert.equal(ENVELOPE_WRAPPED_KEY_BYTES, 512);
  assert.equal(ENVELOPE_IV_BYTES, 12);
  assert.equal(ENVELOPE_TAG_BYTES, 16);
  assert.equal(ENVELOPE_OVERHEAD, 540);
});

test('the vector metrics envelope opens to the vector protobuf bytes', () => {
  const plaintext = openEnvelope(Buffer.from(vectors.metrics_batch.envelope_base64, 'base64'), privateKey);
  assert.equal(plaintext.toString('hex'), vectors.metrics_batch.protobuf_hex);
});

test('the vector trace envelope opens to the vector JSON, which decodeBatch parses', () => {
  const plaintext = openEnvelope(Buffer.from(vectors.trace_batch.envelope_base64, 'base64'), privateKey);
  assert.equal(plaintext.toString('utf8'), vectors.trace_batch.plaintext_utf8);
  const batch = decodeBatch(plaintext);
  assert.equal(batch.type, 'trace');
  assert.equal(batch.project_slug, 'vivid-kudu-655');
});

test('the tampered vector envelope fails its auth tag and says it was tampered with', () => {
  rejectsEnvelope(
    () => openEnvelope(Buffer.from(vectors.tampered_envelope_base64, 'base64'), privateKey),
    'auth-tag',
    /tampered|corrupted/,
  );
});

test('a sealed envelope opens to the original plaintext', () => {
  const plaintext = Buffer.from('{"type":"event","project_slug":"vivid-kudu-655","events":[]}');
  const envelope = sealEnvelope(plaintext, publicKey);
  assert.equal(envelope.length, ENVELOPE_OVERHEAD + plaintext.length);
  assert.deepEqual(openEnvelope(envelope, privateKey), plaintext);
});

test('an empty plaintext seals to exactly 540 bytes and opens to nothing', () => {
  const envelope = sealEnvelope(new Uint8Array(0), publicKey);
  assert.equal(envelope.length, ENVELOPE_OVERHEAD);
  assert.equal(openEnvelope(envelope, privateKey).length, 0);
});

test('an envelope inside a larger buffer opens from its view', () => {
  const envelope = sealEnvelope(Buffer.from('payload'), publicKey);
  const padded = new Uint8Array(envelope.length + 7);
  padded.set(envelope, 3);
  assert.equal(openEnvelope(padded.subarray(3, 3 + envelope.length), privateKey).toString(), 'payload');
});

test('sealing the same plaintext twice uses a fresh key and IV', () => {
  const plaintext = Buffer.from('same bytes every time');
  const a = sealEnvelope(plaintext, publicKey);
  const b = sealEnvelope(plaintext, publicKey);
  assert.notDeepEqual(a.subarray(0, 512), b.subarray(0, 512));
  assert.notDeepEqual(a.subarray(512, 524), b.subarray(512, 524));
  assert.notDeepEqual(a.subarray(540), b.subarray(540));
});

test('a flipped ciphertext byte fails the auth tag', () => {
  const envelope = sealEnvelope(Buffer.from('integrity matters'), publicKey);
  envelope[ENVELOPE_OVERHEAD + 2]! ^= 0x01;
  rejectsEnvelope(() => openEnvelope(envelope, privateKey), 'auth-tag', /tampered/);
});

test('an envelope shorter than 540 bytes is too short and its length is stated', () => {
  const envelope = sealEnvelope(Buffer.from('x'), publicKey);
  rejectsEnvelope(() => openEnvelope(envelope.subarray(0, 539), privateKey), 'too-short', /539 bytes/);
  rejectsEnvelope(() => openEnvelope(new Uint8Array(0), privateKey), 'too-short', /\b0 bytes/);
});

test("opening with another project's 4096-bit key fails the key unwrap", () => {
  const envelope = sealEnvelope(Buffer.from('for someone else'), publicKey);
  rejectsEnvelope(
    () => openEnvelope(envelope, loadPrivateKey(otherPair.privateKey)),
    'key-unwrap',
    /not encrypted for this project's key/,
  );
});

test('a 2048-bit key is rejected by loadPublicKey and loadPrivateKey, naming its size', () => {
  const small = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  for (const load of [() => loadPublicKey(small.publicKey), () => loadPrivateKey(small.privateKey)]) {
    assert.throws(load, (error: unknown) => {
      assert.ok(error instanceof TeracronKeyError);
      assert.match(error.message, /2048-bit/);
      assert.match(error.message, /4096-bit RSA key is required/);
      assert.match(error.message, /teracron keygen/);
      return true;
    });
  }
});

test('a non-RSA key is rejected, naming its type', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => loadPublicKey(ec.publicKey), (error: unknown) => {
    assert.ok(error instanceof TeracronKeyError);
    assert.match(error.message, /key of type "ec"/);
    return true;
  });
  assert.throws(() => loadPrivateKey(ec.privateKey), TeracronKeyError);
});

test('text that is not a PEM key is rejected as unparseable', () => {
  assert.throws(() => loadPublicKey('not a key'), /cannot be parsed/);
  assert.throws(() => loadPrivateKey('not a key'), /cannot be parsed/);
});

test('loadPrivateKey refuses a public key', () => {
  assert.throws(() => loadPrivateKey(publicKey), /got a public key/);
});

test('loadPublicKey accepts a KeyObject, public or private', () => {
  assert.equal(loadPublicKey(publicKey), publicKey);
  const derived = loadPublicKey(privateKey);
  assert.equal(derived.type, 'public');
  assert.equal(openEnvelope(sealEnvelope(Buffer.from('ok'), derived), privateKey).toString(), 'ok');
});
