/**
 * The projects a collector serves: one `<slug>.pem` (RSA-4096 private key, PKCS#8) and one
 * `<slug>.apikey` (the `tcn_` key agents use) per project in `<data dir>/keys/`, as written by
 * `teracron keygen`. Everything is checked at start-up, so a collector either serves every key
 * it was given or refuses to start with the file and the fix named.
 */
import { createPublicKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TeracronKeyError } from '../errors';
import { decodeApiKey, SLUG_PATTERN } from '../wire/api-key';
import { loadPrivateKey, loadPublicKey } from '../wire/envelope';

export interface ProjectKeys {
  slug: string;
  privateKey: KeyObject;
  apiKey: string;
}

const PEM_SUFFIX = '.pem';
const API_KEY_SUFFIX = '.apikey';

export function loadProjectKeys(dir: string): Map<string, ProjectKeys> {
  const keysDir = join(dir, 'keys');
  const keygen = `run \`teracron keygen --dir ${dir}\` to make a project key`;
  let names: string[];
  try {
    names = readdirSync(keysDir).sort();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TeracronKeyError(`No project keys: ${keysDir} does not exist; ${keygen}.`, { cause });
    throw new TeracronKeyError(`Cannot read the keys directory ${keysDir} (${(cause as Error).message}): make it readable by the user running the collector.`, { cause });
  }

  refuseWritableByOthers(keysDir);
  const projects = new Map<string, ProjectKeys>();
  for (const name of names) {
    if (name.endsWith(PEM_SUFFIX)) {
      const project = loadProject(keysDir, name.slice(0, -PEM_SUFFIX.length));
      projects.set(project.slug, project);
    } else if (name.endsWith(API_KEY_SUFFIX) && !names.includes(name.slice(0, -API_KEY_SUFFIX.length) + PEM_SUFFIX)) {
      throw new TeracronKeyError(
        `${join(keysDir, name)} has no private key beside it (${name.slice(0, -API_KEY_SUFFIX.length)}${PEM_SUFFIX}), so the collector could not decrypt that project's telemetry: restore the .pem file, or delete the .apikey file if the project is gone.`,
      );
    }
  }
  if (projects.size === 0) throw new TeracronKeyError(`No project keys in ${keysDir} (no <slug>.pem files); ${keygen}.`);
  return projects;
}

/**
 * Whoever can write to keys/ can add a project (and receive its telemetry) or swap a key, so a
 * folder others may write to is refused like a pem file others may read.
 */
function refuseWritableByOthers(keysDir: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(keysDir).mode;
  if ((mode & 0o022) === 0) return;
  throw new TeracronKeyError(
    `${keysDir} can be written by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): anyone who can write there can add or replace a project's key; run \`chmod 700 ${keysDir}\`.`,
  );
}

function loadProject(keysDir: string, slug: string): ProjectKeys {
  const pemPath = join(keysDir, slug + PEM_SUFFIX);
  const apiKeyPath = join(keysDir, slug + API_KEY_SUFFIX);
  if (!SLUG_PATTERN.test(slug)) {
    throw new TeracronKeyError(
      `${pemPath} is not named after a project slug (adjective-animal-NNN, e.g. vivid-kudu-655.pem): keep only the files \`teracron keygen\` wrote in this directory, under their original names.`,
    );
  }

  const stat = statSync(pemPath);
  if (!stat.isFile()) throw new TeracronKeyError(`${pemPath} is not a regular file: it must be the project's private key.`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new TeracronKeyError(
      `${pemPath} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): the private key must be readable by its owner only; run \`chmod 600 ${pemPath}\`.`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = loadPrivateKey(readFileSync(pemPath, 'utf8'));
  } catch (cause) {
    throw new TeracronKeyError(`${pemPath}: ${(cause as Error).message}`, { cause });
  }

  let apiKeyText: string;
  try {
    apiKeyText = readFileSync(apiKeyPath, 'utf8').trim();
  } catch (cause) {
    throw new TeracronKeyError(
      `Cannot read ${apiKeyPath} (${(cause as Error).message}): every <slug>.pem needs its <slug>.apikey beside it; write the project's TERACRON_API_KEY value (tcn_…) into that file.`,
      { cause },
    );
  }
  let publicKey: KeyObject;
  try {
    const parts = decodeApiKey(apiKeyText);
    if (parts.slug !== slug) {
      throw new TeracronKeyError(`it is the key of project "${parts.slug}", not "${slug}"`);
    }
    publicKey = loadPublicKey(parts.publicKeyPem);
  } catch (cause) {
    throw new TeracronKeyError(
      `${apiKeyPath}: ${(cause as Error).message}. The file must hold the tcn_ key that \`teracron keygen\` printed for ${slug}.`,
      { cause },
    );
  }
  const fromPrivate = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!fromPrivate.equals(publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new TeracronKeyError(
      `${apiKeyPath} holds a public key that does not belong to ${pemPath}: agents using that API key would send telemetry nobody can decrypt. Put back the .apikey file written with this .pem, or run \`teracron keygen\` for a fresh pair.`,
    );
  }
  return { slug, privateKey, apiKey: apiKeyText };
}

/**
 * The project whose API key is `bearer`, or null. Every project's key is compared, in constant
 * time, so the answer's timing says nothing about how much of a guess was right.
 */
export function keyForBearer(projects: Map<string, ProjectKeys>, bearer: string): ProjectKeys | null {
  if (typeof bearer !== 'string') return null;
  const offered = Buffer.from(bearer, 'utf8');
  let found: ProjectKeys | null = null;
  for (const project of projects.values()) {
    const expected = Buffer.from(project.apiKey, 'utf8');
    if (expected.length === offered.length && timingSafeEqual(expected, offered) && found === null) found = project;
  }
  return found;
}
