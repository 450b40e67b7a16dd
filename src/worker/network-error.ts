/**
 * Turns a failed request into one line for people: stats().lastError, the stderr line when a
 * batch is dropped, and the --debug retry lines all carry it.
 *
 * One failure gets a hint, because on its own it explains nothing: TLS spoken to a server that
 * answers in plain HTTP. `TERACRON_DOMAIN=127.0.0.1:7777` (no scheme) means https, so against a
 * local collector started without --tls-cert every batch failed with OpenSSL's "wrong version
 * number" and a source path. The hint names the URL to use instead. For a host that is not
 * loopback, http:// is not allowed (SPEC §3), so the hint points at the TLS port instead.
 */
import { isLoopbackHost } from '../config/domain';

/** OpenSSL's reading of a first record that is not TLS, e.g. `HTTP/1.1 400`. */
const NOT_TLS_CODE = 'ERR_SSL_WRONG_VERSION_NUMBER';
const NOT_TLS_REASON = /wrong version number/i;

/** Ends without a full stop: the sender appends "; retry …" or " (counted in …)". */
export function describeNetworkError(err: unknown, baseUrl: string): string {
  if (!(err instanceof Error)) return String(err);
  const code = codeOf(err);
  const cause = (err as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && cause.message !== err.message ? ` (${messageOf(cause)})` : '';
  const text = `${code === null ? '' : `${code} `}${messageOf(err)}${causeText}`;
  return chain(err).some(isNotTls) ? `${text}: ${notTlsHint(baseUrl)}` : text;
}

function notTlsHint(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'the server answered without TLS';
  }
  if (url.protocol !== 'https:') return 'the server answered without TLS';
  if (isLoopbackHost(url.hostname)) {
    return `the server at ${url.host} speaks plain HTTP, not TLS (a domain without a scheme means https). Set the domain (TERACRON_DOMAIN or the domain option) to http://${url.host}, or start the collector with --tls-cert and --tls-key`;
  }
  return `the server at ${url.host} did not answer in TLS: it may speak plain HTTP on that port. Point the domain (TERACRON_DOMAIN or the domain option) at the server's TLS port; plain http:// is allowed only for loopback hosts`;
}

/** The error and its causes, outermost first (bounded: a cause cycle must not hang the worker). */
function chain(err: Error): Error[] {
  const errors: Error[] = [];
  for (let at: unknown = err; at instanceof Error && errors.length < 8; at = (at as { cause?: unknown }).cause) errors.push(at);
  return errors;
}

function isNotTls(err: Error): boolean {
  const reason = (err as { reason?: unknown }).reason;
  return codeOf(err) === NOT_TLS_CODE || NOT_TLS_REASON.test(typeof reason === 'string' ? reason : err.message);
}

function codeOf(err: Error): string | null {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

/**
 * OpenSSL's own message is an internal line (`80CC…:error:0A00010B:SSL routines:…:ssl3_record.c:350:`
 * and a newline); its `library` and `reason` say the same thing readably.
 */
function messageOf(err: Error): string {
  const { library, reason } = err as { library?: unknown; reason?: unknown };
  if (typeof library === 'string' && typeof reason === 'string') return `${library}: ${reason}`;
  return err.message.trim();
}
