/**
 * The real npm, run the way a user runs it: in a temp folder, without this test run's npm_*
 * variables (set under `npm test`, they would point npm at the repository), optionally with a
 * PATH that holds nothing but node, npm and sh, i.e. a machine without a compiler or python.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment without npm_* and INIT_CWD; `path` replaces PATH when given. */
export function userEnv(path?: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && name !== 'INIT_CWD'));
  return path === undefined ? env : { ...env, PATH: path };
}

/** Runs a command to its end and reports how it ended; never rejects on a non-zero exit. */
export function runCommand(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** Like runCommand, but a non-zero exit is an error that shows npm's output. */
export async function mustRun(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  const ran = await runCommand(file, args, options);
  if (ran.code !== 0) {
    throw new Error(`\`${[file, ...args].join(' ')}\` in ${options.cwd} exited with ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`);
  }
  return ran;
}

/** The npm CLI this test run would use (the first `npm` on PATH), with symlinks resolved. */
export function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (dir !== '' && existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error(`no npm on PATH (${process.env.PATH ?? ''}); these tests run the real npm`);
}

/**
 * A folder holding only node, npm and sh (npm runs lifecycle scripts through sh), to be used as
 * the whole PATH: no cc, g++, make or python, so anything that tries to compile fails.
 */
export function compilerlessBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node'));
  symlinkSync(npmCli(), join(dir, 'npm'));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  const entries = readdirSync(dir).sort();
  if (entries.join(' ') !== 'node npm sh') throw new Error(`${dir} should hold node, npm and sh only, not ${entries.join(', ')}`);
  return dir;
}
