/**
 * A real collector for tests: a data directory holding the vector project's keys (so envelopes
 * made by the independent implementation open), started as a child process through the CLI.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryCollector } from '../../support/collector-process';
import { envelopeVectors } from './vectors';

export { cliPath, startCollectorProcess } from '../../support/collector-process';
export type { CollectorProcess } from '../../support/collector-process';

/** A fresh data dir with keys/<vector slug>.pem (0600) and .apikey. */
export function vectorDataDir(): string {
  const vectors = envelopeVectors();
  const dir = mkdtempSync(join(tmpdir(), 'teracron-collector-'));
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  writeFileSync(join(dir, 'keys', `${vectors.slug}.pem`), vectors.private_key_pem, { mode: 0o600 });
  writeFileSync(join(dir, 'keys', `${vectors.slug}.apikey`), `${vectors.api_key}\n`, { mode: 0o644 });
  return dir;
}

/** GET a query endpoint with the vector project's key (or the one given); returns status and parsed JSON. */
export function query(url: string, path: string, apiKey: string | null = envelopeVectors().api_key): Promise<{ status: number; body: any; headers: Headers }> {
  return queryCollector(url, path, apiKey);
}
