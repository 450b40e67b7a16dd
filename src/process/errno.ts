/**
 * Turns an operating-system failure while reading a process into the typed error a caller can
 * branch on. Both readers use it: the addon throws errors carrying `code` (the errno name) and
 * `path`, as node:fs does.
 */
import { ProcessAccessError, ProcessNotFoundError, TeracronProcessError } from '../errors';

interface SystemErrorLike {
  code?: unknown;
  path?: unknown;
  message?: unknown;
}

export function processError(pid: number, err: unknown): TeracronProcessError {
  if (err instanceof TeracronProcessError) return err;
  const { code, path, message } = (err ?? {}) as SystemErrorLike;
  const where = typeof path === 'string' ? `${path}: ${String(code)}` : String(message ?? err);
  switch (code) {
    case 'ENOENT':
    case 'ESRCH':
      return new ProcessNotFoundError(pid, where, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ProcessAccessError(pid, where, { cause: err });
    default:
      return new TeracronProcessError('unreadable', pid, `could not read process ${pid}: ${where}. This is unexpected; please report it with your OS and kernel version.`, { cause: err });
  }
}

/** PIDs are positive integers; anything else is a caller's mistake, said plainly. */
export function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new TypeError(`teracron/process: a PID must be a positive integer, got ${JSON.stringify(pid) ?? String(pid)}`);
  }
  return pid;
}
