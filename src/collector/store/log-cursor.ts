/**
 * The `next_cursor` of a page of logs: where the page ended, as the last log's timestamp and id
 * (the order is timestamp, then id, both descending). Opaque to clients, base64url so it needs no
 * escaping in a URL. Shared by the stores, whose ids differ; each checks the id's form itself
 * and throws InvalidCursorError, which the query API answers with a 400.
 */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  readonly hint = "pass a page's next_cursor as it came, with the same filters, or leave cursor out for the newest logs";

  constructor(cursor: string) {
    super(`cursor=${JSON.stringify(cursor.length > 40 ? `${cursor.slice(0, 40)}…` : cursor)} is not a cursor this API gave`);
  }
}

export interface LogCursor {
  timestamp: number;
  id: string;
}

const DECODED = /^(\d{1,16})\.([0-9A-Za-z_-]{1,64})$/;

export function encodeLogCursor(cursor: LogCursor): string {
  return Buffer.from(`${cursor.timestamp}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeLogCursor(text: string): LogCursor {
  const match = /^[0-9A-Za-z_-]{1,120}$/.test(text) ? DECODED.exec(Buffer.from(text, 'base64url').toString('utf8')) : null;
  if (match === null) throw new InvalidCursorError(text);
  return { timestamp: Number(match[1]), id: match[2]! };
}
