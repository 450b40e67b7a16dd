#!/usr/bin/env node
/**
 * `teracron <command> [options]`: one module per command, each exporting `run(argv)` that
 * resolves to the process exit code. Modules load on demand, so `teracron whoami` never loads
 * the collector or its database driver.
 */
import { writeSync } from 'node:fs';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  keygen: { summary: 'make an RSA-4096 key pair and a project slug: keygen --dir <dir> [--tls]', load: () => import('./keygen.js') },
  collector: { summary: 'run the collector: collector --data <dir> [--host 127.0.0.1] [--port 7777] [--tls-cert f --tls-key f]', load: () => import('./collector.js') },
  run: { summary: 'run a command and monitor its memory and CPU: run [--children] -- <command> [args…]', load: () => import('./run.js') },
  agent: { summary: 'the sidecar: monitor a running process until it exits: agent --pid <pid> [--children]', load: () => import('./agent.js') },
  whoami: { summary: 'which project the API key belongs to', load: () => import('./query-commands.js') },
  events: { summary: 'recent workflow runs: events [--workflow w] [--status s] [--limit n] [--since iso]', load: () => import('./query-commands.js') },
  workflows: { summary: 'workflows with run counts and failures', load: () => import('./query-commands.js') },
  trace: { summary: 'every span of one trace: trace <trace_id>', load: () => import('./query-commands.js') },
  simulate: { summary: 'turn a failed trace into a failure context, a diagnosis and an inert repro script: simulate <trace_id>', load: () => import('./simulate.js') },
  login: { summary: 'keep the domain and API key in ~/.teracron/credentials.json', load: () => import('./credentials-commands.js') },
  logout: { summary: 'forget the stored credentials', load: () => import('./credentials-commands.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return `usage: teracron <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nQuery commands take --json, --domain and --api-key (or TERACRON_DOMAIN / TERACRON_API_KEY, or teracron login).\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    writeSync(name === undefined ? 2 : 1, usage());
    return name === undefined ? 2 : 0;
  }
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
