/**
 * Python's json.dumps writes float nan and inf as the bare tokens NaN, Infinity and -Infinity,
 * which JSON.parse refuses, so one such value in a span's metadata would lose its whole batch.
 * Outside strings, those tokens become the strings "NaN", "Infinity" and "-Infinity": a value
 * that is only shown keeps what the sender meant, and a number field holding one is refused by
 * the validator with its place named.
 *
 * Only called after JSON.parse has failed, so a batch without such tokens never pays for it.
 */
import { jsonStringEnd } from './json-scan';

const TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;

/** The text with each bare non-finite token quoted, or null when there was none. */
export function quoteNonFiniteTokens(text: string): string | null {
  let out = '';
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = jsonStringEnd(text, i);
      continue;
    }
    if (c !== 0x2d /* - */ && c !== 0x49 /* I */ && c !== 0x4e /* N */) continue;
    const token = TOKENS.find((t) => text.startsWith(t, i));
    if (token === undefined) continue;
    out += `${text.slice(copiedUpTo, i)}"${token}"`;
    i += token.length - 1;
    copiedUpTo = i + 1;
  }
  return copiedUpTo === 0 ? null : out + text.slice(copiedUpTo);
}
