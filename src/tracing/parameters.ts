/**
 * Reads a function's parameter names from its source text, once, when `trace()` wraps it, so
 * that `capture: ['orderId']` can be resolved to an argument index up front.
 *
 * A small scanner rather than a regular expression: default values may hold strings, template
 * literals, comments, regular expressions and nested brackets, any of which can contain the
 * commas and parentheses a regular expression would split on. The scanner knows just enough
 * JavaScript to skip those: it finds the parameter list (or, for a class, the constructor's),
 * splits it on top-level commas and keeps each parameter's leading identifier.
 *
 * Destructured parameters have no name of their own and come back as '' so that the others keep
 * their positions. Anything the scanner does not understand yields null rather than a guess: a
 * wrong index would record the wrong argument.
 */

type TokenKind = 'ident' | 'punct' | 'literal' | 'eof';

interface Token {
  kind: TokenKind;
  /** The identifier or punctuator text; empty for literals and the end. */
  value: string;
}

interface Scanner {
  src: string;
  pos: number;
  /** The last token read, which decides whether a `/` starts a regular expression. */
  prev: Token | null;
}

/** Thrown inside the scanner for text it cannot read; never escapes `parameterNames`. */
class Unreadable extends Error {}

const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;
const NUMBER = /(?:0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)n?/y;
const EOF: Token = { kind: 'eof', value: '' };
const LITERAL: Token = { kind: 'literal', value: '' };

// After these keywords an expression starts, so a `/` opens a regular expression.
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else',
  'yield', 'await',
]);

export interface ParameterList {
  /** In order; '' for a destructured parameter, the bare name for a rest parameter. */
  names: string[];
  /** Whether the last parameter is a rest parameter (`...name`). */
  rest: boolean;
}

/**
 * The names of `fn`'s parameters in order ('' for a destructured one, the bare name for a rest
 * parameter), or null when its source is not available (native and bound functions) or cannot
 * be read. Never throws.
 */
export function parameterNames(fn: Function): string[] | null {
  return readParameterList(fn)?.names ?? null;
}

/** `parameterNames`, plus whether the last parameter gathers the remaining arguments. */
export function readParameterList(fn: Function): ParameterList | null {
  if (typeof fn !== 'function') return null;
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return null;
  }
  if (typeof source !== 'string' || NATIVE_CODE.test(source)) return null;
  try {
    return readParameters({ src: source, pos: 0, prev: null });
  } catch {
    // Unreadable, or a stack overflow on absurdly nested source.
    return null;
  }
}

function readParameters(s: Scanner): ParameterList | null {
  const first = next(s);
  const second = next(s);
  // `a => …`, including a parameter that happens to be called `async`.
  if (first.kind === 'ident' && isPunct(second, '=>')) return { names: [identifierName(first.value)], rest: false };
  if (first.kind === 'ident' && first.value === 'async' && second.kind === 'ident' && second.value !== 'function') {
    if (isPunct(next(s), '=>')) return { names: [identifierName(second.value)], rest: false };
  }
  // `class(a) {}` is an object method named `class`; a class has a name, `extends` or its body next.
  if (first.kind === 'ident' && first.value === 'class' && (second.kind === 'ident' || isPunct(second, '{'))) {
    return constructorParameters(s, second);
  }
  s.pos = 0;
  s.prev = null;
  // Functions, parenthesised arrows and methods (whose text starts at the name, possibly
  // computed): the parameters are the first parenthesised list outside square brackets.
  let depth = 0;
  for (;;) {
    const t = next(s);
    if (t.kind === 'eof') throw new Unreadable();
    if (t.kind !== 'punct') continue;
    if (t.value === '[') depth++;
    else if (t.value === ']') depth--;
    else if (depth === 0) {
      if (t.value === '(') return parameterList(s);
      if (t.value === '{' || t.value === '=>' || t.value === '=') throw new Unreadable();
    }
  }
}

/** Reads from after `(` to its matching `)`. */
function parameterList(s: Scanner): ParameterList {
  const names: string[] = [];
  let rest = false;
  for (;;) {
    let t = next(s);
    if (isPunct(t, ')')) return { names, rest }; // `()` or a trailing comma
    if (rest) throw new Unreadable(); // nothing may follow a rest parameter
    if (isPunct(t, '...')) {
      rest = true;
      t = next(s);
    }
    if (t.kind === 'ident') {
      names.push(identifierName(t.value));
    } else if (isPunct(t, '{') || isPunct(t, '[')) {
      skipBalanced(s);
      names.push('');
    } else {
      throw new Unreadable();
    }
    t = next(s);
    if (isPunct(t, '=')) t = skipDefault(s);
    if (isPunct(t, ')')) return { names, rest };
    if (!isPunct(t, ',')) throw new Unreadable();
  }
}

/**
 * A class's source is the whole class: its parameters are those of the `constructor` member of
 * the body. Without one, a base class takes none and a derived class forwards whatever it is
 * given to its parent, which has no names to read.
 */
function constructorParameters(s: Scanner, afterClass: Token): ParameterList | null {
  let derived = false;
  let depth = 0;
  for (let t = afterClass; !(depth === 0 && isPunct(t, '{')); t = next(s)) {
    if (t.kind === 'eof') throw new Unreadable();
    if (depth === 0 && t.kind === 'ident' && t.value === 'extends') derived = true;
    depth += bracketDelta(t);
  }
  for (;;) {
    const before = s.prev;
    const t = next(s);
    if (t.kind === 'eof') throw new Unreadable();
    if (depth === 0 && isPunct(t, '}')) return derived ? null : { names: [], rest: false };
    depth += bracketDelta(t);
    if (depth !== 0 || t.kind !== 'ident' || t.value !== 'constructor') continue;
    // `static constructor()` is an ordinary static method; `x = a.constructor` is an expression.
    if (before !== null && (isPunct(before, '.') || isPunct(before, '?.') || (before.kind === 'ident' && before.value === 'static'))) continue;
    if (isPunct(next(s), '(')) return parameterList(s);
  }
}

/** Skips a default value; returns the `,` or `)` that ends it. */
function skipDefault(s: Scanner): Token {
  let depth = 0;
  for (;;) {
    const t = next(s);
    if (t.kind === 'eof') throw new Unreadable();
    if (depth === 0 && (isPunct(t, ',') || isPunct(t, ')'))) return t;
    depth += bracketDelta(t);
    if (depth < 0) throw new Unreadable();
  }
}

/** Skips to the bracket that closes the one just read. */
function skipBalanced(s: Scanner): void {
  let depth = 1;
  while (depth > 0) {
    const t = next(s);
    if (t.kind === 'eof') throw new Unreadable();
    depth += bracketDelta(t);
  }
}

function bracketDelta(t: Token): number {
  if (t.kind !== 'punct') return 0;
  switch (t.value) {
    case '(':
    case '[':
    case '{':
      return 1;
    case ')':
    case ']':
    case '}':
      return -1;
    default:
      return 0;
  }
}

function isPunct(t: Token, value: string): boolean {
  return t.kind === 'punct' && t.value === value;
}

/** Resolves `\uXXXX` and `\u{…}` escapes, which are legal in identifiers. */
function identifierName(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\u\{([\da-fA-F]+)\}|\\u([\da-fA-F]{4})/g, (_m, braced: string | undefined, four: string | undefined) =>
    String.fromCodePoint(parseInt((braced ?? four)!, 16)),
  );
}

// --- the scanner -------------------------------------------------------------------------------

function next(s: Scanner): Token {
  const t = scan(s);
  s.prev = t;
  return t;
}

function scan(s: Scanner): Token {
  const src = s.src;
  skipTrivia(s);
  if (s.pos >= src.length) return EOF;
  const start = s.pos;
  const c = src[start]!;
  const code = src.charCodeAt(start);

  if (c === '"' || c === "'") {
    skipString(s, c);
    return LITERAL;
  }
  if (c === '`') {
    s.pos++;
    skipTemplate(s);
    return LITERAL;
  }
  if (isIdentifierStart(code)) {
    let i = start;
    while (i < src.length && isIdentifierPart(src.charCodeAt(i))) {
      // `\u{…}`: the braces belong to the escape, not to the code around it.
      if (src[i] === '\\' && src[i + 2] === '{') {
        const close = src.indexOf('}', i);
        if (close < 0) throw new Unreadable();
        i = close + 1;
      } else {
        i++;
      }
    }
    s.pos = i;
    return { kind: 'ident', value: src.slice(start, i) };
  }
  if (isDigit(code) || (c === '.' && isDigit(src.charCodeAt(start + 1)))) {
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(src);
    s.pos = match === null ? start + 1 : start + match[0].length;
    return LITERAL;
  }
  if (c === '/' && regexAllowed(s.prev)) {
    skipRegex(s);
    return LITERAL;
  }
  return { kind: 'punct', value: readPunctuator(s) };
}

function readPunctuator(s: Scanner): string {
  const src = s.src;
  const start = s.pos;
  const c = src[start]!;
  const c1 = src[start + 1];
  let length = 1;
  if (c === '.' && src.startsWith('..', start + 1)) length = 3;
  else if (c === '=' && c1 === '>') length = 2;
  else if (c === '?' && c1 === '.' && !isDigit(src.charCodeAt(start + 2))) length = 2;
  else if ((c === '+' || c === '-') && c1 === c) length = 2;
  else if ('=!<>'.includes(c) && c1 === '=') length = c !== '<' && c !== '>' && src[start + 2] === '=' ? 3 : 2;
  s.pos = start + length;
  return src.slice(start, start + length);
}

function skipTrivia(s: Scanner): void {
  const src = s.src;
  while (s.pos < src.length) {
    const c = src[s.pos]!;
    if (/\s/.test(c)) {
      s.pos++;
    } else if (c === '/' && src[s.pos + 1] === '/') {
      s.pos += 2;
      while (s.pos < src.length && !isLineTerminator(src[s.pos]!)) s.pos++;
    } else if (c === '/' && src[s.pos + 1] === '*') {
      const end = src.indexOf('*/', s.pos + 2);
      if (end < 0) throw new Unreadable();
      s.pos = end + 2;
    } else {
      return;
    }
  }
}

function skipString(s: Scanner, quote: string): void {
  const src = s.src;
  let i = s.pos + 1;
  for (;;) {
    if (i >= src.length) throw new Unreadable();
    const c = src[i]!;
    if (c === quote) break;
    if (c === '\\') i += src[i + 1] === '\r' && src[i + 2] === '\n' ? 3 : 2;
    else if (c === '\n' || c === '\r') throw new Unreadable();
    else i++;
  }
  s.pos = i + 1;
}

/** From just after a backtick to just after its closing one, through `${…}` expressions. */
function skipTemplate(s: Scanner): void {
  const src = s.src;
  for (;;) {
    if (s.pos >= src.length) throw new Unreadable();
    const c = src[s.pos]!;
    if (c === '`') {
      s.pos++;
      return;
    }
    if (c === '\\') {
      s.pos += 2;
    } else if (c === '$' && src[s.pos + 1] === '{') {
      s.pos += 2;
      s.prev = null; // an expression starts: a `/` here is a regular expression
      skipBalanced(s);
    } else {
      s.pos++;
    }
  }
}

function skipRegex(s: Scanner): void {
  const src = s.src;
  let i = s.pos + 1;
  let inClass = false;
  for (;;) {
    if (i >= src.length) throw new Unreadable();
    const c = src[i]!;
    if (isLineTerminator(c)) throw new Unreadable();
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) break;
    i++;
  }
  i++;
  while (i < src.length && isIdentifierPart(src.charCodeAt(i))) i++; // flags
  s.pos = i;
}

/** The usual heuristic: a `/` after an operand divides, anywhere else it opens a regex. */
function regexAllowed(prev: Token | null): boolean {
  if (prev === null) return true;
  switch (prev.kind) {
    case 'literal':
      return false;
    case 'ident':
      return KEYWORDS_BEFORE_EXPRESSION.has(prev.value);
    case 'punct':
      return !(prev.value === ')' || prev.value === ']' || prev.value === '}' || prev.value === '++' || prev.value === '--');
    default:
      return true;
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isIdentifierStart(code: number): boolean {
  return (
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    code === 36 || // $
    code === 95 || // _
    code === 35 || // # (private names)
    code === 92 || // \ (unicode escape)
    (code > 127 && !/\s/.test(String.fromCharCode(code)))
  );
}

function isIdentifierPart(code: number): boolean {
  return isIdentifierStart(code) || isDigit(code);
}

function isLineTerminator(c: string): boolean {
  return c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029';
}
