/** Small HTTP helpers for the collector: JSON answers in one shape. */
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Every error answer: what was wrong, and what to do about it. */
export function sendError(res: ServerResponse, status: number, error: string, hint: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, hint }, headers);
}
