/**
 * The issues routes (docs/query-api.md, "Logs and issues"): the list, one issue, and PATCH of
 * its status, the one request of the query API that changes anything. Its body is small and
 * read within a small cap; every way it can be wrong is a 400 that names the problem.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyIdle, BodyTooLarge, readBody } from './body-reader';
import { sendError, sendJson } from './http-util';
import { BadParameter, readLimit } from './query-params';
import type { QueryStore } from './store-backend';
import type { IssueStatus, IssuesQuery } from './store/types';
import type { Upload } from './upload-admission';

const STATUSES: readonly IssueStatus[] = ['open', 'resolved', 'ignored'];
const SORTS: ReadonlyArray<IssuesQuery['sort']> = ['last_seen', 'count'];
const FINGERPRINT = /^[0-9a-f]{64}$/;
/** `{"status": "resolved"}` is 22 bytes: room for whitespace around it, nothing more. */
const MAX_PATCH_BYTES = 1024;
const PATCH_IDLE_MS = 5000;
const DEFAULT_HOURS = 24;
const MAX_HOURS = 720;
const PATCH_HINT = 'send the JSON body {"status": "resolved"} (or "open", or "ignored")';
/** A body this small is not charged to the uploads' budget (upload-admission.ts). */
const UNBUDGETED: Upload = { grow: () => true, reserved: 0, release: () => undefined };

export async function answerIssues(store: QueryStore, slug: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
  const sort = params.get('sort') || 'last_seen';
  if (!(SORTS as readonly string[]).includes(sort)) throw new BadParameter(`sort=${JSON.stringify(sort.slice(0, 40))} is not a sort of issues`, 'use sort=last_seen (the default) or sort=count');
  const query: IssuesQuery = { limit: readLimit(params, 50), sort: sort as IssuesQuery['sort'] };
  const status = params.get('status');
  if (status !== null && status !== '') query.status = checkStatus(status, `status=${JSON.stringify(status.slice(0, 40))}`, 'use status=open, resolved or ignored, or leave it out for all');
  const service = params.get('service');
  if (service !== null && service !== '') query.service = service;
  sendJson(res, 200, { issues: await store.issues(slug, query) });
}

export async function answerIssue(store: QueryStore, slug: string, fingerprint: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
  checkFingerprint(fingerprint);
  const detail = await store.issue(slug, fingerprint, readHours(params), Date.now());
  if (detail === null) return notFound(res, slug, fingerprint);
  sendJson(res, 200, detail);
}

export async function patchIssue(store: QueryStore, slug: string, fingerprint: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  checkFingerprint(fingerprint);
  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? undefined : Number(declaredHeader);
  if (declared !== undefined && declared > MAX_PATCH_BYTES) {
    return sendError(res, 413, `the body is ${declared} bytes; an issue's status takes at most ${MAX_PATCH_BYTES}`, PATCH_HINT, { connection: 'close' });
  }
  let body: Buffer;
  try {
    body = await readBody(req, { maxBytes: MAX_PATCH_BYTES, declared, upload: UNBUDGETED, idleMs: PATCH_IDLE_MS });
  } catch (err) {
    if (err instanceof BodyTooLarge) return sendError(res, 413, `the body exceeds ${MAX_PATCH_BYTES} bytes`, PATCH_HINT, { connection: 'close' });
    if (err instanceof BodyIdle) return sendError(res, 408, err.message, 'send the whole body without pausing', { connection: 'close' });
    return sendError(res, 400, `the body could not be read: ${(err as Error).message}`, PATCH_HINT);
  }
  const status = readStatusBody(body);
  const issue = await store.setIssueStatus(slug, fingerprint, status, Date.now());
  if (issue === null) return notFound(res, slug, fingerprint);
  sendJson(res, 200, { issue });
}

function readStatusBody(body: Buffer): IssueStatus {
  const text = body.toString('utf8');
  if (text.trim() === '') throw new BadParameter('the body is empty', PATCH_HINT);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadParameter(`the body is not JSON (${(err as Error).message})`, PATCH_HINT);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadParameter(`the body is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`, PATCH_HINT);
  }
  const keys = Object.keys(value);
  const unknown = keys.filter((key) => key !== 'status');
  if (unknown.length > 0) throw new BadParameter(`the body has keys other than "status": ${unknown.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}`, PATCH_HINT);
  const status = (value as { status?: unknown }).status;
  if (status === undefined) throw new BadParameter('the body has no "status"', PATCH_HINT);
  return checkStatus(status, `"status" ${typeof status === 'string' ? JSON.stringify(status.slice(0, 40)) : JSON.stringify(status)}`, PATCH_HINT);
}

function checkStatus(value: unknown, what: string, hint: string): IssueStatus {
  if (typeof value === 'string' && (STATUSES as readonly string[]).includes(value)) return value as IssueStatus;
  throw new BadParameter(`${what} is not an issue status`, hint);
}

function checkFingerprint(fingerprint: string): void {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new BadParameter(`fingerprint ${JSON.stringify(fingerprint.slice(0, 80))} is not 64 lowercase hex characters`, 'use the fingerprint field of an issue (GET /api/v1/issues) or of an error log');
  }
}

function readHours(params: URLSearchParams): number {
  const raw = params.get('hours');
  if (raw === null || raw === '') return DEFAULT_HOURS;
  if (!/^\d{1,6}$/.test(raw)) throw new BadParameter(`hours=${JSON.stringify(raw.slice(0, 40))} is not a whole number`, `use a whole number of hours from 1 to ${MAX_HOURS} (default ${DEFAULT_HOURS})`);
  return Math.min(MAX_HOURS, Math.max(1, Number(raw)));
}

function notFound(res: ServerResponse, slug: string, fingerprint: string): void {
  sendError(res, 404, `no issue ${fingerprint} in project ${slug}`, 'check the fingerprint (GET /api/v1/issues lists them); issues not seen within the retention period are deleted');
}
