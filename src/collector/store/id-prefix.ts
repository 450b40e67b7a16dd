/**
 * A trace id prefix (`79bb00e5`, as the dashboard shows ids) as a range of stored ids, so that
 * finding the traces it starts is a range scan of the (project, trace_id) index, not a LIKE over
 * every row. Ids are stored as raw bytes (ids.ts) and SQLite compares blobs with memcmp, the
 * shorter first when one is a prefix of the other, so every id that starts with the prefix lies
 * in [prefix, prefix + 1): `79bb00e5` → [x'79bb00e5', x'79bb00e6').
 *
 * An odd number of hex digits is completed with a 0 at both ends: `79bb00e5a` →
 * [x'79bb00e5a0', x'79bb00e5b0'). A prefix of only `f`s has no end; the range then runs to the
 * last blob. Ids stored as text (not lowercase hex; the collector's validation lets none in)
 * sort before every blob and are never in a range.
 */
const LOWER_HEX = /^[0-9a-f]+$/;

export interface IdRange {
  low: Buffer;
  /** Exclusive; null when the prefix is all `f`s. */
  high: Buffer | null;
}

export function prefixRange(prefix: string): IdRange {
  if (!LOWER_HEX.test(prefix)) throw new RangeError(`an id prefix is lowercase hex, not ${JSON.stringify(prefix.slice(0, 80))}`);
  return { low: hexBytes(prefix), high: nextPrefix(prefix) };
}

/** The smallest hex string greater than every string that starts with `prefix`, or null. */
function nextPrefix(prefix: string): Buffer | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const digit = parseInt(prefix[i]!, 16);
    if (digit < 15) return hexBytes(prefix.slice(0, i) + (digit + 1).toString(16));
  }
  return null;
}

function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.length % 2 === 0 ? hex : `${hex}0`, 'hex');
}
