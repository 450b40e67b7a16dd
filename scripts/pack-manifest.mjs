// The package.json that `npm pack` and `npm publish` ship. npm tars package.json as it is on
// disk, and a consumer's npm 11 lists every dependency whose manifest has an install or prepare
// script as "not yet covered by allowScripts" (and runs it). The repository needs those scripts
// (`npm ci` here builds TypeScript and the addon); the published package needs none: it ships
// dist/ and the prebuilt addon, and no binding.gyp at its root, which would make npm run
// `node-gyp rebuild` (native/binding.gyp says why). So between prepack and the end of the pack,
// package.json holds the published manifest, and the repository's own is put back afterwards:
//
//   strip    (prepack)  keep the repository's package.json in package.json.before-pack, start a
//                       guard, write the published manifest over package.json
//   restore  (postpack) put package.json back; under `npm publish` it is left to the guard,
//                       because publish reads package.json again after postpack and sends that
//                       to the registry as the version's metadata
//   guard    (detached) waits for the npm process that ran prepack to end, however it ends
//                       (success, error, Ctrl-C, kill -9), then puts package.json back
//
// Restoring is a rename of the backup onto package.json: atomic, and whichever of postpack and
// the guard comes second finds nothing left to do.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), '..');
const MANIFEST = join(ROOT, 'package.json');
const BACKUP = join(ROOT, 'package.json.before-pack');

// Fields only the repository's own install reads: scripts (npm ci's build, the dev commands),
// devDependencies, and overrides/allowScripts, which npm applies to the root project only and
// which would mislead a reader of the published manifest.
const DEV_ONLY_FIELDS = ['scripts', 'devDependencies', 'overrides', 'allowScripts'];
const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'ksh', 'busybox']);
const GUARD_POLL_MS = 100;

function publishedManifest(repositoryManifestText) {
  const manifest = JSON.parse(repositoryManifestText);
  for (const field of DEV_ONLY_FIELDS) delete manifest[field];
  // `npm publish` sends the registry package.json as read from this folder, where binding.gyp
  // (the repository's build) is: without an install script and without this, npm adds
  // `"install": "node-gyp rebuild"` to the version's metadata, and every consumer's npm would
  // then count teracron as a package with an install script.
  manifest.gypfile = false;
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function strip() {
  // The guard watches the npm that runs this; run by hand, nothing would end to restore package.json.
  if (process.env.npm_lifecycle_event !== 'prepack') {
    const from = process.env.npm_lifecycle_event === undefined ? 'by hand' : `from the "${process.env.npm_lifecycle_event}" script`;
    throw new Error(`strip runs from npm's prepack (\`npm pack\`, \`npm publish\`), not ${from}: the published manifest is put back when that npm ends`);
  }
  settleLeftoverBackup();
  const npmPid = packingNpmPid();
  const original = readFileSync(MANIFEST, 'utf8');
  writeFileSync(BACKUP, original);
  // The guard starts before package.json changes, so no moment exists where it is modified and
  // nothing would put it back.
  startGuard(npmPid);
  const temporary = `${MANIFEST}.published`;
  writeFileSync(temporary, publishedManifest(original));
  renameSync(temporary, MANIFEST);
}

function restore() {
  if (process.env.npm_command === 'publish') return;
  restoreNow();
}

function restoreNow() {
  try {
    renameSync(BACKUP, MANIFEST);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}

/**
 * A backup left beside package.json: a strip that failed before writing the manifest leaves one
 * equal to package.json (dropped here); anything else means a pack was cut short where not even
 * the guard could run (the machine went down), which needs a person to look.
 */
function settleLeftoverBackup() {
  if (!existsSync(BACKUP)) return;
  if (readFileSync(BACKUP, 'utf8') === readFileSync(MANIFEST, 'utf8')) {
    rmSync(BACKUP);
    return;
  }
  throw new Error(
    `${BACKUP} is left from a pack that did not finish, and differs from package.json. ` +
      `If package.json is the published manifest (it has no "scripts"), put the repository's back with \`mv ${basename(BACKUP)} package.json\`; ` +
      `otherwise compare the two, keep the right one as package.json and delete ${basename(BACKUP)}. Then pack again.`,
  );
}

function startGuard(npmPid) {
  // Detached, in its own session: Ctrl-C on the terminal must not reach it. stdio ignored: npm
  // waits for the prepack script's output pipes to close, and the guard outlives the script.
  const guard = spawn(process.execPath, [SELF, 'guard', String(npmPid)], { detached: true, stdio: 'ignore' });
  guard.unref();
}

function guard(npmPid) {
  const timer = setInterval(() => {
    if (isAlive(npmPid)) return;
    clearInterval(timer);
    restoreNow();
  }, GUARD_POLL_MS);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * The npm (or other package manager) process that runs this lifecycle script: the first ancestor
 * that is not the shell npm runs scripts through (`sh -c "npm run compile && … && node …"`).
 */
function packingNpmPid() {
  let pid = process.ppid;
  for (let depth = 0; depth < 8; depth += 1) {
    const parent = describe(pid);
    if (parent === null || !SHELLS.has(parent.name)) return pid;
    pid = parent.ppid;
  }
  throw new Error(`found no package manager among the ancestors of process ${process.pid}; run it through \`npm pack\` or \`npm publish\``);
}

/** Name and parent of a process: /proc on Linux, ps(1) elsewhere. Null when it is gone. */
function describe(pid) {
  if (existsSync('/proc/self/stat')) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return { name, ppid };
  }
  try {
    const [ppid, ...command] = execFileSync('ps', ['-o', 'ppid=', '-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim().split(/\s+/);
    return { name: basename(command.join(' ')), ppid: Number(ppid) };
  } catch {
    return null;
  }
}

const [command, argument] = process.argv.slice(2);
try {
  if (command === 'strip') strip();
  else if (command === 'restore') restore();
  else if (command === 'guard' && /^\d+$/.test(argument ?? '')) guard(Number(argument));
  else {
    process.stderr.write(`pack-manifest: unknown command ${JSON.stringify(process.argv.slice(2).join(' '))}; expected strip, restore or guard <npm pid> (npm runs it from prepack and postpack)\n`);
    process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`pack-manifest: ${err.message}\n`);
  process.exitCode = 1;
}
