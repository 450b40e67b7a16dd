/**
 * An error message with what varies between occurrences of one error replaced by placeholders,
 * so that "order 123 failed" and "order 456 failed" group together. The rules run in this order,
 * each on what the ones before left, so that none eats another's match:
 *
 *   1. UUIDs                                  → <uuid>       (before hex and numbers: a UUID is
 *                                                              not hex runs and numbers joined by -)
 *   2. ISO 8601 dates and times               → <timestamp>  (before numbers and IPv6: 12:30:45)
 *   3. email addresses                        → <email>      (before IPs and numbers in the domain)
 *   4. IPv6 (checked with net.isIPv6), IPv4   → <ip>
 *   5. quoted values '…' "…" `…`              → <str>        (a quote opens after a space or
 *                                                              punctuation, so "can't … user's"
 *                                                              is no quoted value)
 *   6. unix times of 10 or 13 digits          → <timestamp>  (2001 to 2100, before hex: they are
 *                                                              runs of 8+ hex digits too)
 *   7. 0x… and runs of 8+ hex characters
 *      holding a digit, also after _ or -     → <hex>        (ord_78bb1330a49b → ord_<hex>)
 *   8. other numbers (1, 4.5, 1.2.3)          → <num>        (not inside a word that starts
 *                                                              with a letter: utf8, sha256,
 *                                                              v2.1 and ipv4 are names)
 *
 * then whitespace is collapsed and trimmed. Placeholders hold no digits or hex runs, so later
 * rules leave them alone.
 */
import { isIPv6 } from 'node:net';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\w:])/gi;
const EMAIL = /[\w.%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi;
// Candidates only: isIPv6 decides, so "a::b" in code or "12:30" is not taken for an address.
const IPV6_CANDIDATE = /(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{1,4})?(?:%[\w.]+)?(?![\w:]|\.\d)/gi;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)/g;
const QUOTED = /(?<=^|[\s([{:=,<>/|])(?:'[^'\n]*'|"[^"\n]*"|`[^`\n]*`)(?=$|[\s)\]}:;,.!?<>/|])/g;
const UNIX_TIME = /(?<![\w.])[1-4]\d{9}(?:\d{3})?(?![\w.])/g;
// Bounded by anything but a letter or digit, not \b: prefixed ids (ord_78bb1330a49b, req-4f2a…) are common.
const HEX = /(?<![0-9a-z])0x[0-9a-f]+(?![0-9a-z])|(?<![0-9a-z])(?=[a-f]*\d)[0-9a-f]{8,}(?![0-9a-z])/gi;
const NUMBER = /(?<![A-Za-z_][\w.]*)\d+(?:\.\d+)*/g;
const WHITESPACE = /\s+/g;

export function normalizeMessage(message: string): string {
  return message
    .replace(UUID, '<uuid>')
    .replace(ISO_TIME, '<timestamp>')
    .replace(EMAIL, '<email>')
    .replace(IPV6_CANDIDATE, (candidate) => (isIPv6(candidate.replace(/%.*$/, '')) ? '<ip>' : candidate))
    .replace(IPV4, '<ip>')
    .replace(QUOTED, '<str>')
    .replace(UNIX_TIME, '<timestamp>')
    .replace(HEX, '<hex>')
    .replace(NUMBER, '<num>')
    .replace(WHITESPACE, ' ')
    .trim();
}
