import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TeracronKeyError } from '../../src/errors';
import { decodeApiKey, encodeApiKey } from '../../src/wire/api-key';
import { loadPublicKey } from '../../src/wire/envelope';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();

function tcn(text: string): string {
  return `tcn_${Buffer.from(text, 'utf8').toString('base64url')}`;
}

function rejectsKey(apiKey: string, message: RegExp): void {
  assert.throws(() => decodeApiKey(apiKey), (error: unknown) => {
    assert.ok(error instanceof TeracronKeyError);
    assert.equal(error.code, 'TERACRON_ERR_KEY');
    assert.match(error.message, message);
    return true;
  });
}

test('the vector api key decodes to the vector slug and public key', () => {
  assert.deepEqual(decodeApiKey(vectors.api_key), { slug: vectors.slug, publicKeyPem: vectors.public_key_pem });
});

test('the public key inside the vector api key is a usable 4096-bit RSA key', () => {
  const key = loadPublicKey(decodeApiKey(vectors.api_key).publicKeyPem);
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 4096);
});

test('encoding the vector slug and public key gives the vector api key', () => {
  assert.equal(encodeApiKey(vectors.slug, vectors.public_key_pem), vectors.api_key);
});

test('surrounding whitespace around a pasted key is ignored', () => {
  assert.equal(decodeApiKey(`  ${vectors.api_key}\n`).slug, vectors.slug);
});

test('an empty key is rejected as missing', () => {
  rejectsKey('', /missing/);
});

test('a key without the tcn_ prefix is rejected, naming the prefix', () => {
  rejectsKey(vectors.api_key.slice(4), /must start with "tcn_"/);
});

test('a key with characters outside base64url is rejected as not base64url', () => {
  rejectsKey(`${vectors.api_key.slice(0, 40)}+/=${vectors.api_key.slice(40)}`, /not base64url/);
});

test('a key that decodes without a colon is rejected as not holding slug:key', () => {
  rejectsKey(tcn('vivid-kudu-655 no separator here'), /"<slug>:<public key>"/);
});

test('a key whose slug is malformed is rejected, quoting the slug', () => {
  rejectsKey(tcn(`Vivid_Kudu:${vectors.public_key_pem}`), /slug "Vivid_Kudu" does not match adjective-animal-NNN/);
});

test('a key without a PEM public key is rejected as holding no public key', () => {
  rejectsKey(tcn('vivid-kudu-655:MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA'), /does not hold a PEM public key/);
});

test('encodeApiKey rejects a malformed slug', () => {
  assert.throws(() => encodeApiKey('Vivid-Kudu-65', vectors.public_key_pem), TeracronKeyError);
});
