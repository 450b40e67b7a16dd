/**
 * What a log carries of an error: its type (the class name), its message and its full stack,
 * with the `cause` chain and an AggregateError's members appended, each with its own stack, the
 * way people read them in a terminal. Reading `stack` makes V8 format it, which is the one real
 * cost here; it is paid only by logs that carry an error, never by spans.
 */

export interface ErrorFields {
  type: string;
  message: string;
  stack: string | null;
}

/** Causes and members followed at most this deep (a cycle ends earlier). */
const MAX_DEPTH = 8;
/** The ring clips at 16,384 characters; stop building well before a runaway chain gets there. */
const MAX_STACK_CHARS = 16_384;

export function errorFields(error: unknown): ErrorFields {
  if (!isErrorLike(error)) return { type: nonErrorType(error), message: describe(error), stack: null };
  const stack = fullStack(error);
  return { type: typeOf(error), message: messageOf(error), stack: stack === '' ? null : stack };
}

function isErrorLike(value: unknown): value is Error {
  if (value instanceof Error) return true;
  return typeof value === 'object' && value !== null && typeof (value as { stack?: unknown }).stack === 'string' && 'message' in value;
}

/** The class name (`TypeError`, a user's `PaymentDeclined`), else the `name` property. */
function typeOf(error: Error): string {
  const ctor = safeRead(() => (error as { constructor?: { name?: unknown } }).constructor?.name);
  if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Object') return ctor;
  const name = safeRead(() => error.name);
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

function messageOf(error: Error): string {
  const message = safeRead(() => error.message);
  return typeof message === 'string' ? message : describe(message);
}

function fullStack(error: Error): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  let chars = 0;
  const visit = (value: unknown, label: string, depth: number): void => {
    if (chars >= MAX_STACK_CHARS || depth > MAX_DEPTH || seen.has(value)) return;
    seen.add(value);
    const own = isErrorLike(value) ? stackOf(value) : describe(value);
    const text = label === '' ? own : `${label}${own}`;
    parts.push(text);
    chars += text.length;
    if (!isErrorLike(value)) return;
    const members = safeRead(() => (value as { errors?: unknown }).errors);
    if (value instanceof AggregateError && Array.isArray(members)) {
      members.forEach((member, i) => visit(member, `[errors[${i}] of ${members.length}] `, depth + 1));
    }
    const cause = safeRead(() => (value as { cause?: unknown }).cause);
    if (cause !== undefined) visit(cause, 'Caused by: ', depth + 1);
  };
  visit(error, '', 0);
  return parts.join('\n');
}

function stackOf(error: Error): string {
  const stack = safeRead(() => error.stack);
  if (typeof stack === 'string' && stack !== '') return stack;
  return `${typeOf(error)}: ${messageOf(error)}`;
}

function nonErrorType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = safeRead(() => (value as { constructor?: { name?: unknown } }).constructor?.name);
  return typeof ctor === 'string' && ctor !== '' ? ctor : 'Object';
}

/** A thrown non-Error as text, never throwing itself (a hostile toString or a cycle). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 1024 ? `${json.slice(0, 1024)}…` : json;
  } catch {
    // A cycle or a throwing toJSON: fall through to the tag.
  }
  return Object.prototype.toString.call(value);
}

function safeRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
