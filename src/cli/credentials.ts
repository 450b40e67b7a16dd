/**
 * `~/.teracron/credentials.json` (or `$TERACRON_HOME/credentials.json`): the domain and API key
 * kept by `teracron login`. The key is what the collector's query API accepts as a bearer
 * credential, so the file is treated like an SSH private key: written 0600 in a 0700 directory,
 * refused when others can read it, never followed through a symbolic link, and zeroed on disk
 * before it is deleted.
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TeracronConfigError } from '../errors';

export const CREDENTIALS_FILE = 'credentials.json';
export const HOME_ENV = 'TERACRON_HOME';

export interface StoredCredentials {
  /** The origin as `parseDomain` normalised it (`https://host[:port]`), so the scheme survives. */
  domain: string;
  api_key: string;
  project_slug: string;
  /** ISO 8601. */
  saved_at: string;
}

const IS_POSIX = process.platform !== 'win32';
// O_NOFOLLOW does not exist on Windows; there, 0 leaves the flags as they are.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export function credentialsDir(env: NodeJS.ProcessEnv = process.env): string {
  const custom = env[HOME_ENV];
  return custom !== undefined && custom.trim() !== '' ? resolve(custom) : join(homedir(), '.teracron');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(credentialsDir(env), CREDENTIALS_FILE);
}

/** The stored credentials, or null when there is no file. Throws when the file is unsafe or malformed. */
export function readCredentials(env: NodeJS.ProcessEnv = process.env): StoredCredentials | null {
  const path = credentialsPath(env);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | NOFOLLOW);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') {
      throw new TeracronConfigError(`${path} is a symbolic link; credentials are read only from a regular file: remove it (teracron logout) and run teracron login again.`, { cause });
    }
    throw new TeracronConfigError(`${path} cannot be opened (${code ?? String(cause)}): check its permissions, or remove it and run teracron login again.`, { cause });
  }
  try {
    // fstat on the open descriptor: the checks apply to the very file that is read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new TeracronConfigError(`${path} is not a regular file: remove it and run teracron login again.`);
    }
    if (IS_POSIX) {
      const uid = process.getuid?.();
      if (uid !== undefined && stat.uid !== uid) {
        throw new TeracronConfigError(`${path} belongs to user id ${stat.uid}, not to you (${uid}): refusing credentials someone else could have written; remove it and run teracron login again.`);
      }
      const loose = stat.mode & 0o077;
      if (loose !== 0) {
        const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
        const what = loose & 0o044 ? 'readable' : 'writable';
        throw new TeracronConfigError(
          `${path} is ${what} by group/others (mode ${mode}), so other users of this machine could use or change the API key in it: run \`chmod 600 ${path}\` (or teracron logout, then teracron login).`,
        );
      }
    }
    return parseCredentials(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

function parseCredentials(text: string, path: string): StoredCredentials {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new TeracronConfigError(`${path} is not valid JSON: remove it (teracron logout) and run teracron login again.`, { cause });
  }
  const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  for (const field of ['domain', 'api_key'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new TeracronConfigError(`${path} has no "${field}" string: run teracron login again.`);
    }
  }
  return {
    domain: record.domain as string,
    api_key: record.api_key as string,
    project_slug: typeof record.project_slug === 'string' ? record.project_slug : '',
    saved_at: typeof record.saved_at === 'string' ? record.saved_at : '',
  };
}

/**
 * Writes the file through a fresh 0600 temporary file and a rename, so a reader never sees half
 * a file and a symbolic link at the final path is replaced rather than written through.
 */
export function writeCredentials(credentials: StoredCredentials, env: NodeJS.ProcessEnv = process.env): string {
  const dir = credentialsDir(env);
  const path = join(dir, CREDENTIALS_FILE);
  // `mode` applies only to directories this call creates; an existing TERACRON_HOME is left as it is.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${CREDENTIALS_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
  try {
    try {
      // The umask can only take bits away from 0600, but not every file system honours the create mode.
      if (IS_POSIX) fchmodSync(fd, 0o600);
      writeAll(fd, Buffer.from(`${JSON.stringify(credentials, null, 2)}\n`, 'utf8'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed or never written.
    }
    throw err;
  }
  syncDir(dir);
  return path;
}

export interface RemoveResult {
  path: string;
  /** False when there was no file. */
  removed: boolean;
  /** Bytes overwritten with zeros before the delete (0 for a symbolic link, which is only unlinked). */
  zeroedBytes: number;
  wasSymlink: boolean;
}

/** Overwrites the file with zeros (same length), fsyncs, then deletes it. */
export function removeCredentials(env: NodeJS.ProcessEnv = process.env): RemoveResult {
  const path = credentialsPath(env);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | NOFOLLOW);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, removed: false, zeroedBytes: 0, wasSymlink: false };
    if (code === 'ELOOP') {
      // Zeroing through the link would destroy whatever it points to; only the link goes.
      unlinkSync(path);
      return { path, removed: true, zeroedBytes: 0, wasSymlink: true };
    }
    throw new TeracronConfigError(`${path} cannot be opened for overwriting (${code ?? String(cause)}): check its permissions and remove it by hand.`, { cause });
  }
  let size = 0;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new TeracronConfigError(`${path} is not a regular file; refusing to overwrite it: remove it by hand.`);
    }
    size = stat.size;
    writeAll(fd, Buffer.alloc(size), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  syncDir(credentialsDir(env));
  return { path, removed: true, zeroedBytes: size, wasSymlink: false };
}

function writeAll(fd: number, data: Buffer, position?: number): void {
  let offset = 0;
  while (offset < data.length) {
    offset += writeSync(fd, data, offset, data.length - offset, position === undefined ? null : position + offset);
  }
}

/** Makes a rename or unlink durable; not every platform lets a directory be fsynced. */
function syncDir(dir: string): void {
  if (!IS_POSIX) return;
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort.
  }
}
