/**
 * What an HTTP span is named after when no framework told it the route: the request path with
 * the query dropped and the segments that look like ids folded to `:id`, so `/users/42/orders/
 * 9f1c…` becomes `/users/:id/orders/:id` and one route stays one operation. An id is a segment
 * of digits only, a UUID (8-4-4-4-12 hex), or 16 or more hex digits (hashes, ObjectIds). Other
 * ids (slugs, `ord_123`) are kept as they are; a framework integration or `setServerRoute`
 * names such routes.
 *
 * This runs once per request on the application's thread, so it is a scan of char codes that
 * returns the path itself when nothing folds.
 */

/** The path of a request target: no query or fragment; the absolute form's scheme and host dropped. */
export function pathOf(target: string | undefined): string {
  if (target === undefined || target === '') return '/';
  let start = 0;
  if (target.charCodeAt(0) !== SLASH) {
    // Absolute form (`http://host/path`, sent to proxies) or `*`.
    const scheme = target.indexOf('://');
    if (scheme < 0) return target;
    const slash = target.indexOf('/', scheme + 3);
    if (slash < 0) return '/';
    start = slash;
  }
  let end = target.length;
  for (let i = start; i < end; i++) {
    const code = target.charCodeAt(i);
    if (code === QUESTION || code === HASH) end = i;
  }
  return start === 0 && end === target.length ? target : target.slice(start, end);
}

/** `path` with id-like segments replaced by `:id`; the same string when none is. */
export function foldPath(path: string): string {
  let folded: string | null = null;
  let copied = 0;
  let segment = 0;
  const length = path.length;
  for (let i = 0; i <= length; i++) {
    if (i < length && path.charCodeAt(i) !== SLASH) continue;
    if (i > segment && isIdSegment(path, segment, i)) {
      folded = (folded ?? '') + path.slice(copied, segment) + ':id';
      copied = i;
    }
    segment = i + 1;
  }
  return folded === null ? path : folded + path.slice(copied);
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;
const DASH = 0x2d;
const LONG_HEX = 16;
const UUID_LENGTH = 36;

function isIdSegment(path: string, start: number, end: number): boolean {
  const length = end - start;
  let digits = true;
  let hex = true;
  for (let i = start; i < end; i++) {
    const code = path.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) continue;
    digits = false;
    if ((code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46)) continue;
    hex = false;
    if (length !== UUID_LENGTH) return false;
    const at = i - start;
    if (code !== DASH || (at !== 8 && at !== 13 && at !== 18 && at !== 23)) return false;
  }
  if (digits || (hex && length >= LONG_HEX)) return true;
  // A UUID: 36 chars, hex but for dashes, and (checked above) dashes only at 8, 13, 18 and 23.
  return length === UUID_LENGTH && path.charCodeAt(start + 8) === DASH && path.charCodeAt(start + 13) === DASH && path.charCodeAt(start + 18) === DASH && path.charCodeAt(start + 23) === DASH;
}

/**
 * The route of a request answered 404 that no framework route or setServerRoute named: a path
 * nothing serves, often a scanner's probe (`/wp-login.php`, `/.env`). Named after its path, each
 * such request would be an operation of its own, without end; they share this one instead, and
 * the path stays in `http.path`.
 */
export const UNMATCHED_ROUTE = '<unmatched>';

const names = new Map<string, Map<string, string>>();
let namesHeld = 0;
/** Past this many distinct `METHOD target` names the cache starts over (an app naming routes by raw path). */
const MAX_NAMES = 4096;

/**
 * `METHOD target`, the same string object each time for the same pair: the ring's string table
 * and its last-operation check then compare identities instead of building and hashing a new
 * string per request.
 */
export function operationName(method: string, target: string): string {
  let byTarget = names.get(method);
  if (byTarget === undefined) {
    byTarget = new Map();
    names.set(method, byTarget);
  }
  let name = byTarget.get(target);
  if (name === undefined) {
    if (namesHeld >= MAX_NAMES) {
      for (const held of names.values()) held.clear();
      namesHeld = 0;
    }
    name = `${method} ${target}`;
    byTarget.set(target, name);
    namesHeld++;
  }
  return name;
}
