/**
 * `teracron keygen --dir <dir> [--tls]`: a new project for a self-hosted collector. Writes an
 * RSA-4096 private key and its API key under `<dir>/keys/`, prints `TERACRON_API_KEY=<key>`
 * on stdout (alone, so `>> .env` or `eval` can take it) and explains the rest on stderr.
 * `--tls` also makes a self-signed certificate for localhost with the openssl tool, because
 * node:crypto can read X.509 certificates but not issue them.
 */
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { newSlug } from '../collector/slug';
import { encodeApiKey } from '../wire/api-key';
import { wantsHelp } from './commands';

const USAGE = 'usage: teracron keygen --dir <dir> [--tls]\n';
const MAX_SLUG_ATTEMPTS = 50;

const generateKeyPairAsync = promisify(generateKeyPair);
const execFileAsync = promisify(execFile);

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv.slice(1))) {
    writeSync(1, USAGE);
    return 0;
  }
  let values: { dir?: string; tls?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      options: { dir: { type: 'string' }, tls: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    writeSync(2, `teracron keygen: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.dir === undefined || values.dir === '') {
    writeSync(2, `teracron keygen: --dir is required: the directory the collector will serve (it gets keys/ and, with --tls, tls/).\n${USAGE}`);
    return 2;
  }
  const dir = resolve(values.dir);

  // Checked first, so a missing tool leaves no half-made project behind.
  if (values.tls && !(await hasOpenssl())) {
    writeSync(2, 'teracron keygen: --tls needs the `openssl` command-line tool, which was not found on PATH: install openssl (e.g. `apt-get install openssl`, `brew install openssl`) and run keygen again, or leave out --tls and give the collector your own --tls-cert/--tls-key.\n');
    return 1;
  }

  let tlsLines = '';
  if (values.tls) {
    const tls = await writeCertificate(join(dir, 'tls'));
    if (!tls.ok) {
      writeSync(2, `teracron keygen: openssl could not make the certificate, so no project was made: ${tls.error}\n`);
      return 1;
    }
    tlsLines = tls.kept
      ? `  TLS:          kept the existing ${tls.certPath} and ${tls.keyPath}\n`
      : `  TLS:          ${tls.certPath} (self-signed, localhost and 127.0.0.1) and ${tls.keyPath} (0600)\n`;
  }

  const { slug, apiKey, pemPath, apiKeyPath } = await createProject(dir);

  writeSync(1, `TERACRON_API_KEY=${apiKey}\n`);
  const tlsFlags = values.tls ? ` --tls-cert ${join(dir, 'tls', 'cert.pem')} --tls-key ${join(dir, 'tls', 'key.pem')}` : '';
  writeSync(
    2,
    `teracron keygen: made project ${slug}\n` +
      `  private key:  ${pemPath} (0600; keep it secret, it decrypts everything the agents send)\n` +
      `  API key:      ${apiKeyPath} (not a secret: it holds only the public key)\n` +
      tlsLines +
      `Start the collector:  teracron collector --data ${dir}${tlsFlags}\n` +
      `Point agents at it:   TERACRON_API_KEY=<the line on stdout> ` +
      (values.tls ? `TERACRON_DOMAIN=localhost:7777 TERACRON_CA_FILE=${join(dir, 'tls', 'cert.pem')}` : 'TERACRON_DOMAIN=http://127.0.0.1:7777') +
      '\n' +
      // Without a domain the query commands ask the hosted service, which does not know this key.
      `Query it:             ${values.tls ? `TERACRON_CA_FILE=${join(dir, 'tls', 'cert.pem')} ` : ''}teracron login --domain ${values.tls ? 'https://localhost:7777' : 'http://127.0.0.1:7777'} --api-key <the line on stdout>\n`,
  );
  return 0;
}

export interface CreatedProject {
  slug: string;
  apiKey: string;
  pemPath: string;
  apiKeyPath: string;
}

/**
 * A new project in `<dir>/keys/`: an RSA-4096 pair, `<slug>.pem` (0600, in a 0700 folder) and
 * `<slug>.apikey` (the `tcn_` key), ready for `startCollector({ dataDir: dir })`.
 */
export async function createProject(dir: string): Promise<CreatedProject> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 4096,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  chmodSync(keysDir, 0o700);
  const { slug, pemPath } = writePrivateKey(keysDir, privateKey);
  const apiKey = encodeApiKey(slug, publicKey);
  const apiKeyPath = join(keysDir, `${slug}.apikey`);
  writeFileSync(apiKeyPath, `${apiKey}\n`, { mode: 0o644 });
  return { slug, apiKey, pemPath, apiKeyPath };
}

/** Creates `<slug>.pem` exclusively, so two keygens in one directory never share a slug. */
function writePrivateKey(keysDir: string, pem: string): { slug: string; pemPath: string } {
  for (let attempt = 0; attempt < MAX_SLUG_ATTEMPTS; attempt++) {
    const slug = newSlug();
    const pemPath = join(keysDir, `${slug}.pem`);
    if (existsSync(join(keysDir, `${slug}.apikey`))) continue;
    let fd: number;
    try {
      fd = openSync(pemPath, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      writeSync(fd, pem);
    } finally {
      closeSync(fd);
    }
    chmodSync(pemPath, 0o600);
    return { slug, pemPath };
  }
  throw new Error(`could not find a free project slug in ${keysDir} after ${MAX_SLUG_ATTEMPTS} tries: the directory holds too many projects; use another --dir`);
}

async function hasOpenssl(): Promise<boolean> {
  try {
    await execFileAsync('openssl', ['version'], { timeout: 10_000 });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

type CertificateResult =
  | { ok: true; kept: boolean; certPath: string; keyPath: string }
  | { ok: false; error: string };

async function writeCertificate(tlsDir: string): Promise<CertificateResult> {
  const certPath = join(tlsDir, 'cert.pem');
  const keyPath = join(tlsDir, 'key.pem');
  // Agents may already trust this certificate (TERACRON_CA_FILE); a second project must not replace it.
  if (existsSync(certPath) && existsSync(keyPath)) return { ok: true, kept: true, certPath, keyPath };
  // The directory is private before openssl writes the key into it, whatever mode openssl uses.
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  chmodSync(tlsDir, 0o700);
  try {
    await execFileAsync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', keyPath, '-out', certPath,
      ],
      { timeout: 60_000 },
    );
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    return {
      ok: false,
      error: `${stderr || (err as Error).message} (openssl 1.1.1 or newer is needed for -addext; LibreSSL may lack it: install OpenSSL and run keygen again)`,
    };
  }
  chmodSync(keyPath, 0o600);
  chmodSync(certPath, 0o644);
  return { ok: true, kept: false, certPath, keyPath };
}
