/**
 * A stack trace, one element per line. The frames an issue's fingerprint was made of (its in-app
 * frames, listed as `function (file:line)` with the file relative) stand out; frames in node:
 * internals and node_modules fade. A listed frame's file may be shorter than the stack's path
 * (the collector strips a container's /app/), so a line matches a listed frame when its path is
 * the frame's file or ends with `/` and it, on the same line number.
 */
import { h } from './dom.js';

type FrameKind = 'in-app' | 'library' | 'frame' | 'text';

interface FrameRef {
  file: string;
  line: string;
}

// `fn (file:line)` or a bare `file:line`; a failed span's `workflow › operation` matches neither.
const LISTED = /^(?:.*? \()?([^()]+?):(\d+)\)?$/;
// V8: `at fn (path:line:col)`, `at path:line:col`, `at async fn (file:///path:line:col)`.
const V8_FRAME = /^\s*at (?:.*? \()?(?:file:\/\/)?([^()]+?):(\d+):\d+\)?\s*$/;
const LIBRARY = /node_modules[\\/]|\((?:node:|internal\/)|^\s*at (?:node:|internal\/)|\(<anonymous>\)$|^\s*at <anonymous>$/;

function frameRefs(frames: readonly string[]): FrameRef[] {
  return frames.flatMap((frame) => {
    const match = LISTED.exec(frame.trim());
    return match === null ? [] : [{ file: match[1]!.replace(/\\/g, '/').replace(/^\.\//, ''), line: match[2]! }];
  });
}

function classifyLine(line: string, refs: readonly FrameRef[]): FrameKind {
  if (!/^\s*at /.test(line)) return 'text';
  if (LIBRARY.test(line)) return 'library';
  const match = V8_FRAME.exec(line);
  if (match === null) return 'frame';
  const path = match[1]!.replace(/\\/g, '/');
  const inApp = refs.some((ref) => match[2] === ref.line && (path === ref.file || path.endsWith(`/${ref.file}`)));
  return inApp ? 'in-app' : 'frame';
}

/**
 * `inApp` lists the frames; without it (a log not looked up as an issue) no line is
 * marked in-app and only the library frames fade.
 */
export function stackView(stack: string, inApp: readonly string[] = []): HTMLElement {
  const refs = frameRefs(inApp);
  const lines = stack.replace(/\s+$/, '').split('\n');
  return h('pre', { class: 'stack', 'data-testid': 'stack' }, ...lines.map((line) => {
    const kind = classifyLine(line, refs);
    return h('span', {
      class: `stack-line stack-${kind}`,
      'data-kind': kind,
      'data-testid': kind === 'in-app' ? 'stack-frame-in-app' : undefined,
      title: kind === 'in-app' ? 'In-app frame: part of the issue\'s fingerprint' : kind === 'library' ? 'Node internals or a dependency' : undefined,
    }, kind === 'in-app' ? h('span', { class: 'stack-mark', 'aria-hidden': 'true' }, '▸') : null, line === '' ? ' ' : line);
  }));
}

export function stackLegend(marksInApp: boolean): HTMLElement {
  return h('p', { class: 'stack-legend' },
    marksInApp ? h('span', { class: 'stack-in-app' }, h('span', { class: 'stack-mark', 'aria-hidden': 'true' }, '▸'), 'in-app frame (in the fingerprint)') : null,
    h('span', { class: 'stack-library' }, 'node internals and node_modules, faded'));
}
