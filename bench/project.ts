/**
 * The benches' own project: an RSA-4096 key pair made with `createProject()` (what `teracron
 * keygen` does) into a temporary folder, once per bench run, and shared by every bench of that
 * run. The benches never use the test vectors: those are fixtures of an independent
 * implementation, kept for the wire tests, and a bench that read them would break whenever they
 * move or change.
 *
 * Child processes (the counting sink, the pipeline producer, the memory subjects, the http
 * services) get what they need from the parent, by path or value: the private key's path, the
 * API key.
 *
 * Every folder made here is removed when the bench process exits.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject } from '../src/cli/keygen';
import { decodeApiKey } from '../src/wire/api-key';
import { loadPrivateKey, loadPublicKey } from '../src/wire/envelope';

export interface BenchProject {
  slug: string;
  /** `tcn_…`: what an agent is given (TERACRON_API_KEY). */
  apiKey: string;
  /** keys/<slug>.pem, 0600: what a receiver opens envelopes with. */
  pemPath: string;
  apiKeyPath: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

const madeDirs: string[] = [];
let project: Promise<BenchProject> | null = null;

function tempDir(prefix: string): string {
  if (madeDirs.length === 0) {
    process.once('exit', () => {
      for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** The run's project, made on first use (RSA-4096 generation takes a second or more). */
export function benchProject(): Promise<BenchProject> {
  project ??= createProject(tempDir('teracron-bench-project-')).then((made) => ({
    ...made,
    publicKey: loadPublicKey(decodeApiKey(made.apiKey).publicKeyPem),
    privateKey: loadPrivateKey(readFileSync(made.pemPath, 'utf8')),
  }));
  return project;
}

/**
 * A fresh data folder for one collector run, holding the bench project's keys and nothing else,
 * so no run reads a database another run filled.
 */
export async function collectorDataDir(): Promise<string> {
  const { slug, pemPath, apiKeyPath } = await benchProject();
  const dir = tempDir('teracron-bench-collector-');
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  writeFileSync(join(dir, 'keys', `${slug}.pem`), readFileSync(pemPath), { mode: 0o600 });
  writeFileSync(join(dir, 'keys', `${slug}.apikey`), readFileSync(apiKeyPath), { mode: 0o644 });
  return dir;
}
