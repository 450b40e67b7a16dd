/**
 * Trace and span ids as stored. Lowercase hex ids (what every sender writes) are kept as raw
 * bytes: half the size in the row and, more to the point, in the span-id and trace indexes,
 * whose random inserts are most of what ingest costs. Anything else (uppercase, odd length) is
 * kept as the text itself, so every id reads back exactly as it was sent. The column affinity is
 * BLOB, which stores either form untouched; lookups encode their id the same way.
 */
const LOWER_HEX_BYTES = /^(?:[0-9a-f]{2})+$/;

export type IdKey = Buffer | string;

export function idKey(id: string): IdKey {
  return LOWER_HEX_BYTES.test(id) ? Buffer.from(id, 'hex') : id;
}

export function optionalIdKey(id: string | null | undefined): IdKey | null {
  return id == null ? null : idKey(id);
}

export function idText(key: IdKey): string {
  return typeof key === 'string' ? key : key.toString('hex');
}

export function optionalIdText(key: IdKey | null): string | null {
  return key === null ? null : idText(key);
}
