/**
 * The query API from the command line: where to send (flags, then TERACRON_DOMAIN /
 * TERACRON_API_KEY, then `teracron login`'s file), and one GET that turns every way it can go
 * wrong into a sentence saying what happened and what to check.
 *
 * The key travels only in the Authorization header, redirects are not followed (a redirect
 * would carry the header to another host), and a stored key is sent only to the domain it was
 * stored with.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { DEFAULT_DOMAIN, parseDomain } from '../config/domain';
import { TeracronConfigError, TeracronKeyError } from '../errors';
import { USER_AGENT } from '../version';
import { decodeApiKey } from '../wire/api-key';
import { credentialsPath, readCredentials } from './credentials';
import type { StoredCredentials } from './credentials';
import { RequestError, clean } from './output';

export const DOMAIN_ENV = 'TERACRON_DOMAIN';
export const API_KEY_ENV = 'TERACRON_API_KEY';
export const CA_FILE_ENV = 'TERACRON_CA_FILE';

export interface TargetFlags {
  domain?: string | undefined;
  apiKey?: string | undefined;
}

export interface Target {
  /** `https://host[:port]` (http only for loopback). */
  baseUrl: string;
  apiKey: string;
  /** The project slug inside the key. */
  slug: string;
  /** Extra CA from TERACRON_CA_FILE, trusted on top of the system roots. */
  caPem: string | null;
  /** Where the domain and the key came from, for messages: `--domain`, `TERACRON_API_KEY`, … */
  domainSource: string;
  keySource: string;
  /** No flag, variable or stored login named a domain, so the hosted default is asked. */
  domainIsDefault: boolean;
}

const DEFAULT_SOURCE = 'the default domain';
/** What `teracron collector` listens on unless told otherwise (its --host and --port defaults). */
const LOCAL_COLLECTOR = 'http://127.0.0.1:7777';

/**
 * After `teracron keygen`, the key is for the user's own collector, but with no domain given the
 * query goes to the hosted service, which cannot be reached or does not know the key. Said
 * when that is what happened, so the user learns how to point the command at the collector.
 */
function defaultDomainAdvice(target: Target): string {
  if (!target.domainIsDefault) return '';
  return (
    ` No domain was given (--domain, ${DOMAIN_ENV} or teracron login), so the default ${DEFAULT_DOMAIN} was used.` +
    ` For your own collector, pass --domain ${LOCAL_COLLECTOR} (the URL \`teracron collector\` printed) or set ${DOMAIN_ENV},` +
    ` or run \`teracron login --domain ${LOCAL_COLLECTOR}\` once.`
  );
}

function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** Flags, then environment, then the credentials file; throws config/key errors that name the source. */
export function resolveTarget(flags: TargetFlags = {}, env: NodeJS.ProcessEnv = process.env): Target {
  const domainFlagOrEnv = given(flags.domain) ? { value: flags.domain, source: '--domain' } : given(env[DOMAIN_ENV]) ? { value: env[DOMAIN_ENV], source: DOMAIN_ENV } : undefined;
  const keyFlagOrEnv = given(flags.apiKey) ? { value: flags.apiKey, source: '--api-key' } : given(env[API_KEY_ENV]) ? { value: env[API_KEY_ENV], source: API_KEY_ENV } : undefined;

  // The file is read only when something is missing, so a broken file never blocks explicit flags.
  const stored: StoredCredentials | null = domainFlagOrEnv === undefined || keyFlagOrEnv === undefined ? readCredentials(env) : null;
  const fileLabel = `domain in ${credentialsPath(env)}`;

  const domain = domainFlagOrEnv ?? (stored !== null ? { value: stored.domain, source: fileLabel } : { value: DEFAULT_DOMAIN, source: DEFAULT_SOURCE });
  const endpoint = parseDomain(domain.value, env, domain.source);

  let key = keyFlagOrEnv;
  if (key === undefined && stored !== null) {
    // A stored key goes only to the domain it was stored with: `--domain other` must not leak it.
    if (storedBaseUrl(stored, env) === endpoint.baseUrl) {
      key = { value: stored.api_key, source: credentialsPath(env) };
    } else {
      throw new TeracronKeyError(
        `No API key for ${endpoint.baseUrl}: the stored credentials are for ${clean(stored.domain)} and are never sent to another domain. Pass --api-key or set ${API_KEY_ENV}, or run \`teracron login --domain ${endpoint.baseUrl}\`.`,
      );
    }
  }
  if (key === undefined) {
    throw new TeracronKeyError(
      `No API key: pass --api-key, set ${API_KEY_ENV}, or run \`teracron login\` once (the key starts with "tcn_"; \`teracron keygen\` makes one).`,
    );
  }

  const apiKey = key.value.trim();
  let slug: string;
  try {
    slug = decodeApiKey(apiKey).slug;
  } catch (err) {
    if (err instanceof TeracronKeyError) throw new TeracronKeyError(`${key.source}: ${err.message}`, { cause: err });
    throw err;
  }

  return {
    baseUrl: endpoint.baseUrl,
    apiKey,
    slug,
    caPem: endpoint.secure ? readCaFile(env) : null,
    domainSource: domain.source,
    keySource: key.source,
    domainIsDefault: domain.source === DEFAULT_SOURCE,
  };
}

function storedBaseUrl(stored: StoredCredentials, env: NodeJS.ProcessEnv): string | null {
  try {
    return parseDomain(stored.domain, env).baseUrl;
  } catch {
    return null;
  }
}

function readCaFile(env: NodeJS.ProcessEnv): string | null {
  const path = env[CA_FILE_ENV];
  if (!given(path)) return null;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new TeracronConfigError(`${CA_FILE_ENV}=${JSON.stringify(path)} cannot be read (${code}): give the path of the collector's CA certificate (PEM), or unset it to trust only the system CAs.`, { cause });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TeracronConfigError(`${CA_FILE_ENV}=${JSON.stringify(path)} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line): give the collector's CA certificate in PEM form.`);
  }
  return pem;
}

export type Query = Record<string, string | number | undefined>;

export interface QueryOptions {
  /** Connect, headers and body timeout each; default 30 s. */
  timeoutMs?: number;
}

const MAX_BODY_PREVIEW = 200;

/** GET `path` with the bearer key; the parsed JSON body, or a RequestError that explains the failure. */
export async function queryApi(target: Target, path: string, query: Query = {}, options: QueryOptions = {}): Promise<unknown> {
  const url = new URL(path, `${target.baseUrl}/`);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dispatcher = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // `ca` replaces Node's trust store, so the extra CA is added to the system roots.
    connect: target.caPem === null ? undefined : { ca: [...rootCertificates, target.caPem] },
  });
  const where = `GET ${url.pathname}${url.search}`;
  try {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher,
        headers: { authorization: `Bearer ${target.apiKey}`, accept: 'application/json', 'user-agent': USER_AGENT },
      });
    } catch (cause) {
      throw new RequestError(unreachable(url, cause, timeoutMs) + defaultDomainAdvice(target), null, { cause });
    }
    let text: string;
    try {
      text = await readBody(res.body);
    } catch (cause) {
      if (cause instanceof RequestError) throw new RequestError(`${where} on ${target.baseUrl}: ${cause.message}`, res.statusCode);
      throw new RequestError(`${where} on ${target.baseUrl}: the answer (${res.statusCode}) was cut off: ${describeCause(cause)}; try again.`, res.statusCode, { cause });
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const advice = res.statusCode === 401 ? defaultDomainAdvice(target) : '';
      throw new RequestError(errorMessage(where, target.baseUrl, res.statusCode, res.headers, text) + advice, res.statusCode);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new RequestError(
        `${where} on ${target.baseUrl} answered ${res.statusCode} but not with JSON (it starts ${JSON.stringify(clean(preview(text)))}): is ${target.baseUrl} a Teracron collector?`,
        res.statusCode,
        { cause },
      );
    }
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

/** A whole trace is large but bounded; a body past this is not an answer worth holding in memory. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

async function readBody(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new RequestError(`the answer is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB; narrow the query (--limit).`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const STATUS_HINTS: Record<number, string> = {
  400: 'check the flags (ids are lowercase hex, --limit a number, --since an ISO 8601 time).',
  401: `check that the API key (--api-key, ${API_KEY_ENV} or teracron login) belongs to a project this collector serves.`,
  403: 'the key is not allowed to read this; check which project it belongs to (teracron whoami).',
  404: 'the id is not known to this project; check the id and the project (teracron whoami).',
  409: 'the trace id prefix starts more than one trace; give more of its characters.',
  429: 'too many requests with this key; wait and try again.',
};

/** `GET /api/v1/traces/ab on https://host answered 401 Unauthorized: <error>. Hint: <hint>. Retry after 30 s.` */
export function errorMessage(where: string, baseUrl: string, status: number, headers: Headers, text: string): string {
  let error: string | undefined;
  let hint: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; hint?: unknown };
    if (typeof body.error === 'string') error = body.error;
    if (typeof body.hint === 'string') hint = body.hint;
  } catch {
    // Not the QUERY_API.md shape: the start of the body is shown instead.
  }
  let head = `${where} on ${baseUrl} answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
  if (error !== undefined) head += `: ${clean(error)}`;
  else if (text.trim() !== '') head += ` (body: ${JSON.stringify(clean(preview(text.trim())))})`;
  const sentences = [head];
  if (status >= 300 && status < 400) {
    const location = header(headers, 'location');
    sentences.push(
      `Redirects are not followed, so the API key is never sent elsewhere${location ? ` (it points to ${JSON.stringify(clean(preview(location)))})` : ''}: give the final domain with --domain`,
    );
  }
  const fallback = STATUS_HINTS[status];
  if (hint !== undefined) sentences.push(`Hint: ${clean(hint)}`);
  else if (fallback !== undefined) sentences.push(`Hint: ${fallback}`);
  if (status === 429) {
    const retryAfter = header(headers, 'retry-after');
    if (retryAfter !== undefined && retryAfter.trim() !== '') {
      const seconds = Number(retryAfter);
      sentences.push(`Retry after ${Number.isFinite(seconds) ? `${seconds} s` : clean(preview(retryAfter))}`);
    }
  }
  return `${sentences.map((sentence) => sentence.replace(/[.\s]+$/, '')).join('. ')}.`;
}

function preview(text: string): string {
  return text.length > MAX_BODY_PREVIEW ? `${text.slice(0, MAX_BODY_PREVIEW)}…` : text;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeCause(err: unknown): string {
  const code = errorCode(err);
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.cause instanceof Error && err.cause.message !== '') message = err.cause.message;
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** `could not reach https://host/api/v1/events (ECONNREFUSED …): <what to check>`. */
export function unreachable(url: URL, err: unknown, timeoutMs: number): string {
  const code = errorCode(err) ?? '';
  const shown = `${url.origin}${url.pathname}`;
  const domainHint = `the domain comes from --domain, ${DOMAIN_ENV} or teracron login`;
  let hint: string;
  if (code === 'ECONNREFUSED') {
    hint = `nothing is listening there: is the collector running (\`teracron collector --data <dir>\` prints the URL it listens on), and are the host and port right? (${domainHint})`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    hint = `the host name does not resolve: check it for typos, and your DNS or network (${domainHint})`;
  } else if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    hint = `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}: check the network path and firewalls, and whether the collector is overloaded`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    hint = `the server's certificate is not for ${url.hostname}: use the host name the certificate was made for`;
  } else if (TLS_TRUST.test(code)) {
    hint = `the server's TLS certificate is not trusted: if it is your own collector's certificate, set ${CA_FILE_ENV} to its CA certificate (PEM)`;
  } else if (code === 'EPROTO' || code.startsWith('ERR_SSL')) {
    hint = `the TLS handshake failed: if the collector serves plain http on this machine, give the domain as http://${url.host}`;
  } else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    hint = `the connection was closed: check that the server speaks ${url.protocol === 'https:' ? 'https (a plain-http collector on this machine needs http:// in the domain)' : 'plain http'}, and for proxies in between`;
  } else {
    hint = `check the domain (${domainHint}), the network, and that the collector is running`;
  }
  return `could not reach ${shown} (${clean(describeCause(err))}): ${hint}.`;
}
