/**
 * The wire-format vectors made by an independent implementation, read from ../shared/vectors
 * beside the repository (never copied into it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MetricsEntry } from '../../src/wire/metrics-batch';

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export function vectorsDir(): string {
  return join(repoRoot(), '..', 'shared', 'vectors');
}

export function readVector<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(vectorsDir(), name), 'utf8')) as T;
}

export interface EnvelopeVectors {
  slug: string;
  public_key_pem: string;
  private_key_pem: string;
  api_key: string;
  metrics_batch: {
    entries: MetricsEntry[];
    sdk_version: string;
    runtime_version: string;
    protobuf_hex: string;
    envelope_base64: string;
  };
  trace_batch: { plaintext_utf8: string; envelope_base64: string };
  tampered_envelope_base64: string;
}

export function envelopeVectors(): EnvelopeVectors {
  return readVector<EnvelopeVectors>('envelope.json');
}

export interface SamplingVectors {
  algorithm: string;
  cases: Array<{ trace_id: string; rate: number; sampled: boolean }>;
}

export function samplingVectors(): SamplingVectors {
  return readVector<SamplingVectors>('sampling.json');
}
