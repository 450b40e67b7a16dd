/**
 * Every `teracron` command: its one-line summary and the module that runs it. A table of its
 * own, apart from main.ts (which runs on import), so that tests can go through every command
 * and a command added here is covered by them without being listed twice.
 */
export interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const COMMANDS: Record<string, Command> = {
  keygen: { summary: 'make an RSA-4096 key pair and a project slug: keygen --dir <dir> [--tls]', load: () => import('./keygen.js') },
  collector: { summary: 'run the collector: collector --data <dir> [--host 127.0.0.1] [--port 7777] [--tls-cert f --tls-key f]', load: () => import('./collector.js') },
  run: { summary: 'run a command and monitor its memory and CPU: run [--children] -- <command> [args…]', load: () => import('./run.js') },
  agent: { summary: 'the sidecar: monitor a running process until it exits: agent --pid <pid> [--children]', load: () => import('./agent.js') },
  whoami: { summary: 'which project the API key belongs to', load: () => import('./query-commands.js') },
  events: { summary: 'recent workflow runs: events [--workflow w] [--status s] [--limit n] [--since iso]', load: () => import('./query-commands.js') },
  workflows: { summary: 'workflows with run counts and failures', load: () => import('./query-commands.js') },
  trace: { summary: 'every span of one trace: trace <trace_id or its first 8+ characters>', load: () => import('./query-commands.js') },
  logs: { summary: 'the logs, newest first: logs [--level l] [--service s] [--grep text] [--trace id] [--since 30m] [--follow]', load: () => import('./logs.js') },
  issues: { summary: 'errors grouped into issues: issues [--status open|resolved|ignored] [--service s] [--sort last_seen|count]', load: () => import('./issues.js') },
  issue: { summary: 'one issue: its frames, latest stack and occurrences: issue <fingerprint or its first 8+ characters>', load: () => import('./issue.js') },
  simulate: { summary: 'turn a failed trace into a failure context, a diagnosis and an inert repro script: simulate <trace_id>', load: () => import('./simulate.js') },
  login: { summary: 'keep the domain and API key in ~/.teracron/credentials.json', load: () => import('./credentials-commands.js') },
  logout: { summary: 'forget the stored credentials', load: () => import('./credentials-commands.js') },
};

/** `--help` or `-h` among a command's own arguments. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
