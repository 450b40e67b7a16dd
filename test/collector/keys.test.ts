import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyForBearer, loadProjectKeys } from '../../src/collector/keys';
import { TeracronKeyError } from '../../src/errors';
import { encodeApiKey } from '../../src/wire/api-key';
import { openEnvelope } from '../../src/wire/envelope';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();
// Generated once: a 4096-bit key pair takes a second or so.
const other = generateKeyPairSync('rsa', {
  modulusLength: 4096,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const OTHER_SLUG = 'quiet-otter-042';

function dataDir(files: Record<string, { text: string; mode?: number }> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-keys-'));
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  for (const [name, { text, mode = 0o600 }] of Object.entries(files)) {
    const path = join(dir, 'keys', name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
  }
  return dir;
}

function vectorProject(): Record<string, { text: string; mode?: number }> {
  return {
    [`${vectors.slug}.pem`]: { text: vectors.private_key_pem },
    [`${vectors.slug}.apikey`]: { text: `${vectors.api_key}\n`, mode: 0o644 },
  };
}

function rejectsDir(dir: string, message: RegExp): void {
  assert.throws(() => loadProjectKeys(dir), (error: unknown) => {
    assert.ok(error instanceof TeracronKeyError);
    assert.equal(error.code, 'TERACRON_ERR_KEY');
    assert.match(error.message, message);
    return true;
  });
}

test('a keygen-style directory loads every project by slug', () => {
  const dir = dataDir({
    ...vectorProject(),
    [`${OTHER_SLUG}.pem`]: { text: other.privateKey },
    [`${OTHER_SLUG}.apikey`]: { text: encodeApiKey(OTHER_SLUG, other.publicKey) },
  });
  const projects = loadProjectKeys(dir);
  assert.deepEqual([...projects.keys()], [OTHER_SLUG, vectors.slug]);
  const project = projects.get(vectors.slug)!;
  assert.equal(project.slug, vectors.slug);
  assert.equal(project.apiKey, vectors.api_key);
  assert.equal(project.privateKey.asymmetricKeyDetails?.modulusLength, 4096);
});

test('a loaded private key opens the vector envelope', () => {
  const project = loadProjectKeys(dataDir(vectorProject())).get(vectors.slug)!;
  const plaintext = openEnvelope(Buffer.from(vectors.trace_batch.envelope_base64, 'base64'), project.privateKey);
  assert.equal(plaintext.toString('utf8'), vectors.trace_batch.plaintext_utf8);
});

test('an apikey whose public key is not the pem\'s public half is refused', () => {
  const dir = dataDir({
    [`${vectors.slug}.pem`]: { text: vectors.private_key_pem },
    [`${vectors.slug}.apikey`]: { text: encodeApiKey(vectors.slug, other.publicKey) },
  });
  rejectsDir(dir, new RegExp(`${vectors.slug}\\.apikey holds a public key that does not belong to .*${vectors.slug}\\.pem`));
});

test('an apikey of another project slug is refused', () => {
  const dir = dataDir({
    [`${vectors.slug}.pem`]: { text: vectors.private_key_pem },
    [`${vectors.slug}.apikey`]: { text: encodeApiKey(OTHER_SLUG, vectors.public_key_pem) },
  });
  rejectsDir(dir, new RegExp(`${vectors.slug}\\.apikey: it is the key of project "${OTHER_SLUG}", not "${vectors.slug}"`));
});

test('a group-readable private key is refused with the chmod fix', () => {
  const files = vectorProject();
  files[`${vectors.slug}.pem`]!.mode = 0o640;
  const dir = dataDir(files);
  const pem = join(dir, 'keys', `${vectors.slug}.pem`);
  rejectsDir(dir, new RegExp(`${pem.replace(/[.]/g, '\\.')} is accessible by group or others \\(mode 0640\\).*run \`chmod 600 ${pem.replace(/[.]/g, '\\.')}\``));
});

test('an empty keys directory says to run keygen for that directory', () => {
  const dir = dataDir();
  rejectsDir(dir, new RegExp(`No project keys in .*keys .*run \`teracron keygen --dir ${dir.replace(/[.]/g, '\\.')}\``));
});

test('a missing keys directory says to run keygen for that directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-keys-'));
  rejectsDir(dir, new RegExp(`does not exist; run \`teracron keygen --dir ${dir.replace(/[.]/g, '\\.')}\``));
});

test('a private key without its apikey file is refused', () => {
  const dir = dataDir({ [`${vectors.slug}.pem`]: { text: vectors.private_key_pem } });
  rejectsDir(dir, new RegExp(`Cannot read .*${vectors.slug}\\.apikey .*write the project's TERACRON_API_KEY value`));
});

test('an apikey file without its private key is refused', () => {
  const dir = dataDir({ [`${vectors.slug}.apikey`]: { text: vectors.api_key } });
  rejectsDir(dir, new RegExp(`${vectors.slug}\\.apikey has no private key beside it`));
});

test('a 2048-bit private key is refused naming its file', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const dir = dataDir({ [`${OTHER_SLUG}.pem`]: { text: small.privateKey }, [`${OTHER_SLUG}.apikey`]: { text: vectors.api_key } });
  rejectsDir(dir, new RegExp(`${OTHER_SLUG}\\.pem: Expected a 4096-bit RSA private key but got a 2048-bit one`));
});

test('a pem file not named after a slug is refused', () => {
  const dir = dataDir({ 'backup.pem': { text: vectors.private_key_pem } });
  rejectsDir(dir, /backup\.pem is not named after a project slug/);
});

test('keyForBearer finds the project of an exact API key', () => {
  const projects = loadProjectKeys(dataDir(vectorProject()));
  assert.equal(keyForBearer(projects, vectors.api_key)?.slug, vectors.slug);
});

test('keyForBearer returns null for a key differing in one character, a prefix or an empty string', () => {
  const projects = loadProjectKeys(dataDir(vectorProject()));
  const last = vectors.api_key.at(-1) === 'A' ? 'B' : 'A';
  assert.equal(keyForBearer(projects, vectors.api_key.slice(0, -1) + last), null);
  assert.equal(keyForBearer(projects, vectors.api_key.slice(0, 40)), null);
  assert.equal(keyForBearer(projects, ''), null);
});

test('a keys directory others may write to is refused with the chmod fix', () => {
  for (const mode of [0o777, 0o770, 0o1777]) {
    const dir = dataDir(vectorProject());
    const keysDir = join(dir, 'keys');
    chmodSync(keysDir, mode);
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    rejectsDir(dir, new RegExp(`${keysDir.replace(/[.]/g, '\\.')} can be written by group or others \\(mode ${shown}\\).*run \`chmod 700 ${keysDir.replace(/[.]/g, '\\.')}\``));
  }
});
