/**
 * Where telemetry may go. The rules (SPEC §3, Endpoints) exist so that one stray variable
 * cannot redirect a project's telemetry: https unless the host is this machine, and a host
 * outside teracron.com needs a second, explicit opt-in in the environment.
 *
 * Every check runs on the hostname as WHATWG URL normalises it (lower case, punycode,
 * `127.1` → `127.0.0.1`), which is the host the transport will actually connect to.
 */
import { BlockList, isIP } from 'node:net';
import { TeracronConfigError } from '../errors';
import { parseBooleanText, show } from './env';
import type { Env } from './env';

export const DEFAULT_DOMAIN = 'www.teracron.com';
export const ALLOW_CUSTOM_DOMAIN_ENV = 'TERACRON_ALLOW_CUSTOM_DOMAIN';
const TERACRON_APEX = 'teracron.com';

export interface Endpoint {
  /** Origin without a trailing slash: `https://www.teracron.com`, `http://127.0.0.1:7777`. */
  baseUrl: string;
  /** `host[:port]`, the port only when it is not the scheme's default. */
  domain: string;
  /** Hostname alone; IPv6 in brackets. */
  hostname: string;
  secure: boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True for `localhost`, 127.0.0.0/8 and ::1 (with or without brackets, IPv4-mapped forms
 * included). Other names are not trusted to resolve to loopback: that is up to the resolver.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 0) return false;
  return loopback.check(name, family === 6 ? 'ipv6' : 'ipv4');
}

/** teracron.com itself or a subdomain; the dot before the suffix rules out `evilteracron.com`. */
export function isTeracronHost(hostname: string): boolean {
  let name = hostname.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === TERACRON_APEX || name.endsWith(`.${TERACRON_APEX}`);
}

/**
 * Parses `host`, `host:port` or `http(s)://host[:port][/]` and applies the endpoint rules.
 * `name` is what messages call the setting (`TERACRON_DOMAIN` or `option domain`).
 */
export function parseDomain(value: string, env: Env, name = 'TERACRON_DOMAIN'): Endpoint {
  const label = `${name}=${show(value)}`;
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') {
    throw new TeracronConfigError(`${label} is empty: give a host such as "${DEFAULT_DOMAIN}" or "collector.example.com:8443", or unset it for the default.`);
  }

  let scheme: 'http' | 'https' = 'https';
  let authority = text;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (schemeMatch !== null) {
    const given = (schemeMatch[1] ?? '').toLowerCase();
    if (given !== 'http' && given !== 'https') {
      throw new TeracronConfigError(`${label} uses the scheme "${given}://": use https://host[:port], or just host[:port] (https is the default).`);
    }
    scheme = given;
    authority = text.slice(schemeMatch[0].length);
  }

  if (authority.endsWith('/')) authority = authority.slice(0, -1);
  const extra = /[/\\?#]/.exec(authority); // URL reads `\` as `/` for http(s)
  if (extra !== null) {
    throw new TeracronConfigError(
      `${label} has a path or query (${show(authority.slice(extra.index))}): give only the host[:port], e.g. "collector.example.com:8443"; the agent adds /api/ingest and /api/v1/… itself.`,
    );
  }
  if (authority.includes('@')) {
    throw new TeracronConfigError(`${label} contains "@" (user credentials): the domain takes only host[:port]; the API key already identifies the project.`);
  }
  // A bare IPv6 address (`::1`) cannot carry a port, so its colons are not a port separator.
  if (!authority.startsWith('[') && isIP(authority) === 6) authority = `[${authority}]`;

  let url: URL;
  try {
    url = new URL(`${scheme}://${authority}`);
  } catch {
    throw new TeracronConfigError(`${label} is not a valid host[:port] (port 1–65535; IPv6 in brackets, e.g. "[::1]:7777").`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TeracronConfigError(`${label} is not a plain host[:port]: give only the host and port, e.g. "collector.example.com:8443".`);
  }
  if (url.hostname === '') {
    throw new TeracronConfigError(`${label} has no host: give one, e.g. "${DEFAULT_DOMAIN}".`);
  }
  if (url.port === '0') {
    throw new TeracronConfigError(`${label} uses port 0, which cannot be connected to: use a port from 1 to 65535 or none for the default.`);
  }

  const isLoopback = isLoopbackHost(url.hostname);
  if (scheme === 'http' && !isLoopback) {
    throw new TeracronConfigError(
      `${label} uses plain http://, which is allowed only for loopback hosts (localhost, 127.0.0.0/8, [::1]) so that telemetry never crosses a network unencrypted: use https:// (and caFile / TERACRON_CA_FILE if the collector's certificate is self-signed).`,
    );
  }
  if (!isLoopback && !isTeracronHost(url.hostname) && !customDomainAllowed(env)) {
    throw new TeracronConfigError(
      `${label} is outside teracron.com: telemetry goes only to teracron.com, *.teracron.com or loopback unless ${ALLOW_CUSTOM_DOMAIN_ENV}=1 is also set in the environment. If "${url.hostname}" is your own collector, set ${ALLOW_CUSTOM_DOMAIN_ENV}=1; otherwise fix or unset the domain.`,
    );
  }

  return { baseUrl: url.origin, domain: url.host, hostname: url.hostname, secure: scheme === 'https' };
}

function customDomainAllowed(env: Env): boolean {
  const text = env[ALLOW_CUSTOM_DOMAIN_ENV];
  if (text === undefined || text.trim() === '') return false;
  const allowed = parseBooleanText(text);
  if (allowed === undefined) {
    throw new TeracronConfigError(
      `${ALLOW_CUSTOM_DOMAIN_ENV}=${show(text)} is not a boolean: set it to 1 to allow a domain outside teracron.com, or unset it.`,
    );
  }
  return allowed;
}
