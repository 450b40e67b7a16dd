/**
 * One winston `info` → the arguments of recordLog. winston hands a transport the object its
 * formats made: `level` and `message`, the call's metadata as other own keys, and the call's
 * arguments under Symbol.for('splat'). An error can arrive four ways, all taken:
 *
 *   logger.error(err)                         info is the Error itself
 *   logger.error('failed', err)               the Error is in info[SPLAT] (winston copied its stack to info.stack)
 *   logger.error('failed', { err })           an own key holds the Error
 *   format.errors({ stack: true })            only strings are left: info.stack (its first line names the class)
 *
 * and `info.error`, whatever it holds, wins, as `error` does for log.error().
 */
import { LOG_LEVELS } from '../../wire/batch-codec';
import type { LogOptions } from '../log';

const LEVEL = Symbol.for('level');
const SPLAT = Symbol.for('splat');

/** winston's npm and syslog levels; any other is info. */
const LEVELS: Record<string, (typeof LOG_LEVELS)[number]> = {
  emerg: 'fatal',
  alert: 'fatal',
  crit: 'fatal',
  error: 'error',
  warning: 'warn',
  warn: 'warn',
  notice: 'info',
  info: 'info',
  http: 'info',
  verbose: 'debug',
  debug: 'debug',
  silly: 'debug',
};

export type WinstonInfo = Record<string | symbol, unknown>;

export function levelIndexOf(info: WinstonInfo): number {
  // Symbol.for('level') is the level before format.colorize() painted `level`.
  const level = info[LEVEL] ?? info['level'];
  return LOG_LEVELS.indexOf(typeof level === 'string' ? (LEVELS[level] ?? 'info') : 'info');
}

export function messageOf(info: WinstonInfo): string {
  const message = info['message'];
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  return message === undefined ? '' : String(message);
}

/** module, error and extra; `info` itself is left untouched (other transports read it too). */
export function optionsOf(info: WinstonInfo): LogOptions {
  const module = info['module'] ?? info['label'];
  const moduleKey = info['module'] !== undefined ? 'module' : 'label';
  let error: unknown;
  let errorKey: string | null = null;
  if (info['error'] !== undefined) {
    error = info['error'];
    errorKey = 'error';
  } else if (info instanceof Error) {
    error = info;
  } else if (info['message'] instanceof Error) {
    error = info['message'];
  } else {
    errorKey = Object.keys(info).find((key) => info[key] instanceof Error) ?? null;
    if (errorKey !== null) error = info[errorKey];
    else error = splatError(info) ?? stackError(info);
  }
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message' || key === 'stack' || key === errorKey || (key === moduleKey && module !== undefined && module !== null)) continue;
    // winston copies an error's cause next to its stack; the error's stack has it already.
    if (key === 'cause' && error !== undefined) continue;
    extra ??= {};
    extra[key] = info[key];
  }
  const options: LogOptions = {};
  if (module !== undefined && module !== null) options.module = String(module);
  if (error !== undefined) options.error = error;
  if (extra !== undefined) options.extra = extra;
  return options;
}

function splatError(info: WinstonInfo): Error | undefined {
  const splat = info[SPLAT];
  return Array.isArray(splat) ? splat.find((arg): arg is Error => arg instanceof Error) : undefined;
}

/** After format.errors({ stack: true }) the Error is gone; its stack's first line still names its class. */
function stackError(info: WinstonInfo): { name: string; message: string; stack: string } | undefined {
  const stack = info['stack'];
  if (typeof stack !== 'string' || stack === '') return undefined;
  const name = /^([A-Za-z_$][\w$]*)(?::|\n|$)/.exec(stack)?.[1] ?? 'Error';
  return { name, message: messageOf(info), stack };
}
