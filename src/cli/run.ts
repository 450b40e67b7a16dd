/**
 * `teracron run [--children] [--api-key k] [--domain d] [--interval s] -- <command> [args…]`:
 * runs the command with inherited stdio, samples its memory and CPU (with `--children`, every
 * descendant too, each as its own series tagged with pid, ppid and command name), forwards
 * SIGINT, SIGTERM and SIGHUP to it, and exits with its exit code, or 128 + the signal number
 * when a signal ended it. Without a usable key the command still runs, unmonitored, with one
 * message saying why.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { wantsHelp } from './commands';
import { MONITOR_OPTIONS, startMonitor } from './monitor';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const USAGE = 'usage: teracron run [--children] [--api-key k] [--domain d] [--interval s] [--service name] [--debug] -- <command> [args…]';
const HELP = `${USAGE}

Runs <command> with this terminal's stdin, stdout and stderr, samples its memory and CPU and
sends them to the collector; exits with the command's exit code. Everything after \`--\` (or
from the first word that is not one of these flags) is the command, untouched.

  --children     also every descendant of the command, each as its own series
  --api-key k    the project's key (tcn_…); default TERACRON_API_KEY
  --domain d     where to send: host[:port] or http(s)://host[:port]; default TERACRON_DOMAIN,
                 else www.teracron.com (a local collector: --domain http://127.0.0.1:7777)
  --interval s   seconds between samples, 5–300; default TERACRON_INTERVAL, else 10
  --service name the service name on the samples; default TERACRON_SERVICE
  --debug        the agent's debug lines on stderr
  -h, --help     this text
`;

export async function run(argv: string[]): Promise<number> {
  const args = argv.slice(1);
  const { ownArgs, command } = splitCommand(args);
  if (wantsHelp(ownArgs)) {
    writeSync(1, HELP);
    return 0;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: ownArgs, options: { children: { type: 'boolean' }, ...MONITOR_OPTIONS }, strict: true }));
  } catch (err) {
    writeSync(2, `teracron run: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (command.length === 0) {
    writeSync(2, `teracron run: no command given.\n${USAGE}\n`);
    return 2;
  }
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  const started = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (started !== null) {
    const code = (started as NodeJS.ErrnoException).code;
    writeSync(2, `teracron run: cannot start ${JSON.stringify(command[0])}: ${started.message}\n`);
    return code === 'ENOENT' ? 127 : 126;
  }
  const exited = waitForExit(child);
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const client = startMonitor('teracron run', child.pid!, values.children === true, values);
  const { code, signal } = await exited;
  for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  // Ships the last buffered samples; bounded by the agent's exit budget.
  await client?.stop();
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

/**
 * Our flags, then the command: it starts after the first `--`, or at the first word that is
 * neither a flag nor the value of one. Only that first `--` is ours; a later one (and any
 * `--help`) belongs to the command.
 */
function splitCommand(args: string[]): { ownArgs: string[]; command: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { ownArgs: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith('-')) return { ownArgs: args.slice(0, i), command: args.slice(i) };
    const option = (MONITOR_OPTIONS as Record<string, { type: string }>)[arg.replace(/^--?/, '')];
    if (option?.type === 'string') i++;
  }
  return { ownArgs: args, command: [] };
}

function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
