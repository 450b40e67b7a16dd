#!/usr/bin/env node
/**
 * `teracron <command> [options]`: one module per command, each exporting `run(argv)` that
 * resolves to the process exit code. Modules load on demand, so `teracron whoami` never loads
 * the collector or its database driver.
 */
import { writeSync } from 'node:fs';
import { COMMANDS } from './commands';

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return `usage: teracron <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nQuery commands take --json, --domain and --api-key (or TERACRON_DOMAIN / TERACRON_API_KEY, or teracron login).\n`;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...args] = argv;
  if (first === undefined) {
    writeSync(2, usage());
    return 2;
  }
  const isHelp = first === 'help' || first === '--help' || first === '-h';
  if (isHelp && args[0] === undefined) {
    writeSync(1, usage());
    return 0;
  }
  // `teracron help run` is `teracron run --help`.
  const name = isHelp ? args[0]! : first;
  const rest = isHelp ? ['--help'] : args;
  const command = COMMANDS[name];
  if (command === undefined) {
    writeSync(2, `teracron: unknown command ${JSON.stringify(name)}.\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run([name, ...rest]);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    writeSync(2, `teracron: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
