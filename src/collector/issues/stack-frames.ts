/**
 * The in-app frames of a V8 stack, as `function (file:line)` or `file:line` when the frame has
 * no function name. Columns are left out: a rebuild that reformats a line moves them.
 *
 * Only the first (outermost) error's frames count: the agent appends the stacks of causes
 * (`Caused by: …`) and of an AggregateError's errors after it, so frames are taken from the
 * first `at` line up to the first line after it that is not one.
 *
 * Frames that are not in-app: `node:` and `internal/` modules, anything under `node_modules`,
 * `<anonymous>`, `native`, `eval` code, and positions without a file (`index 0` of Promise.all).
 *
 * Paths. The agent sends paths relative to its process's working directory, which only it
 * knows. Here a `file://` URL becomes its path, backslashes become slashes, and an absolute path
 * is kept as it is, except for the leading `/app/` or `/usr/src/app/` that container images put
 * their code under, which is stripped. Nothing else is guessed (a home directory, say, is kept).
 */
const AT_LINE = /^\s*at\s+(.*)$/;
const WITH_LOCATION = /^(.*?) \((.*)\)$/;
const POSITION = /^(.*?):(\d+)(?::\d+)?$/;
const ALIAS = /\s*\[as [^\]]*\]$/;
const ASYNC = /^async\s+/;
const CONTAINER_ROOT = /^\/(?:usr\/src\/)?app\//;

/** How many in-app frames make a fingerprint. */
export const TOP_FRAMES = 5;

export function inAppFrames(stack: string | null | undefined, max = TOP_FRAMES): string[] {
  if (stack == null || stack === '') return [];
  const frames: string[] = [];
  let started = false;
  for (const line of stack.split('\n')) {
    const at = AT_LINE.exec(line);
    if (at === null) {
      if (started) break;
      continue;
    }
    started = true;
    const frame = formatFrame(at[1]!.trim());
    if (frame === null) continue;
    frames.push(frame);
    if (frames.length === max) break;
  }
  return frames;
}

/** `fn (file:line)` or `file:line` for an in-app frame; null for any other. */
function formatFrame(body: string): string | null {
  const withLocation = WITH_LOCATION.exec(body);
  const name = withLocation === null ? '' : withLocation[1]!.replace(ASYNC, '').replace(ALIAS, '').trim();
  const position = POSITION.exec(withLocation === null ? body.replace(ASYNC, '') : withLocation[2]!);
  if (position === null) return null;
  const file = appPath(position[1]!);
  if (file === null) return null;
  const where = `${file}:${position[2]}`;
  return name === '' ? where : `${name} (${where})`;
}

/** The path as shown in a frame, or null when the file is not the application's own. */
function appPath(raw: string): string | null {
  let path = raw;
  if (path.startsWith('file://')) {
    path = path.slice('file://'.length);
    try {
      path = decodeURIComponent(path);
    } catch {
      // A malformed escape: the path as sent is still a stable name for the file.
    }
  }
  path = path.replace(/\\/g, '/');
  if (
    path === '' || path.startsWith('node:') || path.startsWith('internal/') || path.includes('node_modules/') ||
    path.includes('<anonymous>') || path === 'native' || path.startsWith('eval at ')
  ) {
    return null;
  }
  return path.replace(CONTAINER_ROOT, '');
}
