/**
 * `teracron-agent [--pid <pid>] [--children]` (also `teracron agent`): the sidecar. Samples the
 * process given by --pid or TERACRON_TARGET_PID until it exits, then says so and stops after a
 * final flush. SIGINT/SIGTERM stop it the same way.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TeracronProcessError } from '../errors';
import { wantsHelp } from './commands';
import { readProcess } from '../process';
import { MONITOR_OPTIONS, isSameProcess, startMonitor } from './monitor';

/** How often the sidecar checks that its target still runs. */
const LIVENESS_POLL_MS = 500;
const USAGE = 'usage: teracron agent --pid <pid> [--children] [--api-key k] [--domain d] [--interval s] [--service name] [--debug]  (also teracron-agent; or TERACRON_TARGET_PID)';
const HELP = `${USAGE}

The sidecar: samples the memory and CPU of a process that is already running and sends them to
the collector, until that process exits (or this one gets SIGINT/SIGTERM).

  --pid pid      the process to watch; default TERACRON_TARGET_PID
  --children     also every descendant of it, each as its own series
  --api-key k    the project's key (tcn_…); default TERACRON_API_KEY
  --domain d     where to send: host[:port] or http(s)://host[:port]; default TERACRON_DOMAIN,
                 else www.teracron.com (a local collector: --domain http://127.0.0.1:7777)
  --interval s   seconds between samples, 5–300; default TERACRON_INTERVAL, else 10
  --service name the service name on the samples; default TERACRON_SERVICE
  --debug        the agent's debug lines on stderr
  -h, --help     this text
`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv.slice(1))) {
    writeSync(1, HELP);
    return 0;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: argv.slice(1), options: { pid: { type: 'string' }, children: { type: 'boolean' }, ...MONITOR_OPTIONS }, strict: true }));
  } catch (err) {
    writeSync(2, `teracron-agent: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const raw = values.pid ?? process.env.TERACRON_TARGET_PID;
  if (raw === undefined || raw === '') {
    writeSync(2, `teracron-agent: which process? Pass --pid <pid> or set TERACRON_TARGET_PID.\n${USAGE}\n`);
    return 2;
  }
  const pid = Number(raw);
  if (!Number.isInteger(pid) || pid < 1) {
    writeSync(2, `teracron-agent: ${JSON.stringify(raw)} is not a process id; pass a positive whole number.\n`);
    return 2;
  }
  let startTime: number | null;
  try {
    startTime = readProcess(pid).startTime;
  } catch (err) {
    if (!(err instanceof TeracronProcessError)) throw err;
    writeSync(2, `teracron-agent: ${err.message}\n`);
    return 1;
  }
  const client = startMonitor('teracron-agent', pid, values.children === true, values);
  if (client === null) return 1;
  writeSync(2, `teracron-agent: monitoring process ${pid}${values.children ? ' and its descendants' : ''}\n`);
  const reason = await new Promise<string>((resolve) => {
    const timer = setInterval(() => {
      if (!isSameProcess(pid, startTime)) done(`process ${pid} has exited`);
    }, LIVENESS_POLL_MS);
    const onSignal = (signal: NodeJS.Signals): void => done(`received ${signal}`);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    function done(why: string): void {
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(why);
    }
  });
  writeSync(2, `teracron-agent: ${reason}; sending the last samples and stopping\n`);
  await client.stop();
  const stats = client.stats();
  writeSync(2, `teracron-agent: stopped; ${stats.metricsSent} samples sent, ${stats.metricsDropped} dropped\n`);
  return 0;
}
