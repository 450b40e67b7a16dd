/**
 * One spooled batch as a file: the sealed envelope exactly as it would have been posted, with the
 * path it goes to and its batch id, so a replay (by this process or a later one of the same
 * project) posts the same bytes and the collector's batch_id dedupe keeps it exactly-once.
 *
 * Layout (integers big-endian):
 *   "TCSP"  magic
 *   u8      format version (1)
 *   u16     header length, then the header: JSON { path, kind, items, batchId }
 *   u32     body length, then the body: the sealed envelope
 *   u32     CRC-32 of every byte before it
 * A file cut short (a process killed mid-write, a full disk) or altered fails the length or CRC
 * check and is never sent half.
 *
 * The name carries what the spool needs without opening the file: when it was written (so a
 * listing sorts oldest first), the writer's pid, a sequence number, the kind and the item count
 * (so the spool can count exactly what it drops when full).
 *   <ms, 13 digits>-<pid>-<seq, 6 digits>-<kind>-<items>.tsp
 */
import { crc32 } from 'node:zlib';

export type SpoolKind = 'trace' | 'event' | 'log' | 'metrics';

export interface SpoolEntry {
  /** The ingest path the envelope is posted to, e.g. /api/v1/traces. */
  path: string;
  kind: SpoolKind;
  /** Items the batch holds (spans, events or metrics snapshots). */
  items: number;
  batchId: string | null;
  /** The sealed envelope. */
  body: Uint8Array;
}

/** What a file's name says about it. */
export interface SpoolName {
  name: string;
  writtenAt: number;
  pid: number;
  kind: SpoolKind;
  items: number;
}

export const SPOOL_SUFFIX = '.tsp';
const MAGIC = Buffer.from('TCSP', 'latin1');
const VERSION = 1;
const KINDS: ReadonlySet<string> = new Set<SpoolKind>(['trace', 'event', 'log', 'metrics']);
const NAME = /^(\d{13})-(\d+)-(\d{6})-(trace|event|log|metrics)-(\d+)\.tsp$/;

export function spoolFileName(writtenAt: number, pid: number, seq: number, kind: SpoolKind, items: number): string {
  return `${String(Math.max(0, Math.floor(writtenAt))).padStart(13, '0')}-${pid}-${String(seq % 1_000_000).padStart(6, '0')}-${kind}-${items}${SPOOL_SUFFIX}`;
}

/** The parts of a spool file's name, or null for any other file (temporary, claimed, moved aside). */
export function parseSpoolName(name: string): SpoolName | null {
  const match = NAME.exec(name);
  if (match === null) return null;
  return { name, writtenAt: Number(match[1]), pid: Number(match[2]), kind: match[4] as SpoolKind, items: Number(match[5]) };
}

export function encodeSpoolRecord(entry: SpoolEntry): Buffer {
  const header = Buffer.from(JSON.stringify({ path: entry.path, kind: entry.kind, items: entry.items, batchId: entry.batchId }), 'utf8');
  const out = Buffer.allocUnsafe(MAGIC.length + 1 + 2 + header.length + 4 + entry.body.byteLength + 4);
  let at = MAGIC.copy(out, 0);
  at = out.writeUInt8(VERSION, at);
  at = out.writeUInt16BE(header.length, at);
  at += header.copy(out, at);
  at = out.writeUInt32BE(entry.body.byteLength, at);
  out.set(entry.body, at);
  at += entry.body.byteLength;
  out.writeUInt32BE(crc32(out.subarray(0, at)), at);
  return out;
}

/** The entry a file holds; throws, saying what is wrong, for a file that is cut short or altered. */
export function decodeSpoolRecord(bytes: Buffer): SpoolEntry {
  const fixed = MAGIC.length + 1 + 2;
  if (bytes.length < fixed + 4 + 4) throw new Error(`${bytes.length} bytes is shorter than any spool record`);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('it does not start with the spool magic "TCSP"');
  const version = bytes.readUInt8(MAGIC.length);
  if (version !== VERSION) throw new Error(`it has format version ${version}; this agent reads version ${VERSION}`);
  const headerLength = bytes.readUInt16BE(MAGIC.length + 1);
  const bodyLengthAt = fixed + headerLength;
  if (bytes.length < bodyLengthAt + 4 + 4) throw new Error(`it is cut short inside its header (${bytes.length} bytes)`);
  const bodyLength = bytes.readUInt32BE(bodyLengthAt);
  const crcAt = bodyLengthAt + 4 + bodyLength;
  if (bytes.length !== crcAt + 4) throw new Error(`its body should end at byte ${crcAt + 4} but the file has ${bytes.length}: it was cut short or added to`);
  const expected = bytes.readUInt32BE(crcAt);
  const actual = crc32(bytes.subarray(0, crcAt));
  if (expected !== actual) throw new Error(`its CRC-32 is ${actual.toString(16)}, not the ${expected.toString(16)} it was written with`);
  const header = JSON.parse(bytes.subarray(fixed, bodyLengthAt).toString('utf8')) as { path?: unknown; kind?: unknown; items?: unknown; batchId?: unknown };
  if (typeof header.path !== 'string' || !header.path.startsWith('/')) throw new Error(`its header has no ingest path: ${JSON.stringify(header.path)}`);
  if (typeof header.kind !== 'string' || !KINDS.has(header.kind)) throw new Error(`its header has an unknown kind: ${JSON.stringify(header.kind)}`);
  if (!Number.isSafeInteger(header.items) || (header.items as number) < 0) throw new Error(`its header has no item count: ${JSON.stringify(header.items)}`);
  if (header.batchId !== null && typeof header.batchId !== 'string') throw new Error(`its header's batchId is ${JSON.stringify(header.batchId)}`);
  return {
    path: header.path,
    kind: header.kind as SpoolKind,
    items: header.items as number,
    batchId: header.batchId,
    body: bytes.subarray(bodyLengthAt + 4, crcAt),
  };
}
