/**
 * Values written into SQL text. Debian's ClickHouse 18.16 has no query parameters, so every value
 * a query carries is a literal made here, never text pasted in: strings are quoted with their
 * backslashes and quotes escaped, numbers must be finite.
 */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`${value} is not a finite number for a ClickHouse query`);
  return String(value);
}

/** A whole number (limits, pids); anything else is a bug in the caller. */
export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${value} is not a whole number for a ClickHouse query`);
  return String(value);
}
