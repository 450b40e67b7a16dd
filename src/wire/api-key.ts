/**
 * API keys: `tcn_` + base64url (no padding) of the UTF-8 string `<slug>:<PEM SPKI public key>`.
 * A key holds only the project's public key, so it is not a secret; it tells the agent whom to
 * encrypt for and which project slug to send.
 */
import { TeracronKeyError } from '../errors';

export const API_KEY_PREFIX = 'tcn_';
export const SLUG_PATTERN = /^[a-z]+-[a-z]+-\d{3}$/;

export interface ApiKeyParts {
  slug: string;
  publicKeyPem: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeApiKey(slug: string, publicKeyPem: string): string {
  if (!SLUG_PATTERN.test(slug)) {
    throw new TeracronKeyError(`Project slug ${JSON.stringify(slug)} does not match adjective-animal-NNN (e.g. "vivid-kudu-655").`);
  }
  return API_KEY_PREFIX + Buffer.from(`${slug}:${publicKeyPem}`, 'utf8').toString('base64url');
}

/** Splits a key into slug and PEM; says which part is wrong when it cannot. */
export function decodeApiKey(apiKey: string): ApiKeyParts {
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw new TeracronKeyError('The API key is missing: set TERACRON_API_KEY or pass { apiKey } (it starts with "tcn_"; `teracron keygen` makes one).');
  }
  const trimmed = apiKey.trim();
  if (!trimmed.startsWith(API_KEY_PREFIX)) {
    throw new TeracronKeyError(`The API key must start with "tcn_" but starts with ${JSON.stringify(preview(trimmed))}: copy the whole key as printed by \`teracron keygen\`.`);
  }
  const body = trimmed.slice(API_KEY_PREFIX.length);
  if (!BASE64URL.test(body)) {
    throw new TeracronKeyError('The API key after "tcn_" is not base64url (only A-Z a-z 0-9 - _ are allowed): the key was probably truncated or wrapped; copy it again.');
  }
  const decoded = Buffer.from(body, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new TeracronKeyError('The API key does not contain "<slug>:<public key>" once decoded: it is not a Teracron key.');
  }
  const slug = decoded.slice(0, colon);
  const publicKeyPem = decoded.slice(colon + 1);
  if (!SLUG_PATTERN.test(slug)) {
    throw new TeracronKeyError(`The API key's project slug ${JSON.stringify(preview(slug))} does not match adjective-animal-NNN (e.g. "vivid-kudu-655").`);
  }
  if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----') || !publicKeyPem.includes('-----END PUBLIC KEY-----')) {
    throw new TeracronKeyError(`The API key for project "${slug}" does not hold a PEM public key (no BEGIN/END PUBLIC KEY lines): the key was probably truncated; copy it again.`);
  }
  return { slug, publicKeyPem };
}

function preview(text: string): string {
  return text.length > 12 ? `${text.slice(0, 12)}…` : text;
}
