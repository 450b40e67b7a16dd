/** Scanning JSON text without parsing it: the scanners that run before JSON.parse share this. */

/** The index of the quote that closes the string opened at `open` (text.length if it never closes). */
export function jsonStringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22 /* " */) return i;
  }
  return text.length;
}
