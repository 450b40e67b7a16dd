/**
 * `npm start [-- --duration <s>] [--port <n>] [--data <dir>] [--rate <requests/s>]`: the whole
 * loop on one machine. A collector (in this process) on 127.0.0.1, the payments service and
 * the shop (child processes, instrumented with the agent), and customers driving load at the
 * shop; a status line every few seconds, and a clean stop on Ctrl-C or after --duration that
 * lets every agent ship what it holds before the collector closes.
 */
import { existsSync, readdirSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { TeracronStats } from 'teracron';
import { readProcess } from 'teracron/process';
import { createProject } from '../../src/cli/keygen';
import { DEFAULT_PORT, startCollector } from '../../src/collector/collector';
import type { RunningCollector } from '../../src/collector/collector';
import { loadProjectKeys } from '../../src/collector/keys';
import { startLoad } from './load';
import type { Load } from './load';
import { startService } from './service-process';
import type { ServiceProcess } from './service-process';

const USAGE = `usage: npm start -- [--duration <s>] [--port <n>] [--data <dir>] [--rate <requests/s>]
  --duration <s>   stop after that many seconds (default: run until Ctrl-C)
  --port <n>       the collector's port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 takes any free port)
  --data <dir>     keys and database (default .teracron in the current directory)
  --rate <n>       requests per second at the shop (default 50)
`;
const STATUS_EVERY_MS = 3000;
const MIB = 1024 * 1024;
/** npm forwards the terminal's Ctrl-C to the demo, which the terminal also signals: one press, two signals. */
const SAME_PRESS_MS = 500;

interface Options {
  durationS: number | null;
  port: number;
  dataDir: string;
  rate: number;
}

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

function complain(line: string): void {
  writeSync(2, `demo: ${line}\n`);
}

function parseOptions(argv: string[]): Options | number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        port: { type: 'string', default: String(DEFAULT_PORT) },
        data: { type: 'string', default: '.teracron' },
        rate: { type: 'string', default: '50' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    writeSync(2, `demo: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    writeSync(1, USAGE);
    return 0;
  }
  const durationS = values.duration === undefined ? null : Number(values.duration);
  const port = Number(values.port);
  const rate = Number(values.rate);
  const problems = [
    durationS !== null && !(durationS > 0 && durationS <= 7 * 24 * 3600) ? `--duration ${JSON.stringify(values.duration)} must be a number of seconds above 0` : null,
    !/^\d+$/.test(values.port) || port > 65535 ? `--port ${JSON.stringify(values.port)} must be a whole number from 0 to 65535` : null,
    !(rate >= 0.1 && rate <= 5000) ? `--rate ${JSON.stringify(values.rate)} must be a number of requests per second from 0.1 to 5000` : null,
    values.data === '' ? '--data must name a directory' : null,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) {
    writeSync(2, `demo: ${problems.join('; ')}\n${USAGE}`);
    return 2;
  }
  return { durationS, port, dataDir: resolve(values.data), rate };
}

/** The first project in `<data>/keys/`, made there (as `teracron keygen` would) when there is none. */
async function projectKey(dataDir: string): Promise<{ slug: string; apiKey: string }> {
  const keysDir = join(dataDir, 'keys');
  if (!existsSync(keysDir) || !readdirSync(keysDir).some((name) => name.endsWith('.pem'))) {
    say(`demo: making a project key in ${keysDir} (RSA-4096, a few seconds; later runs reuse it)`);
    await createProject(dataDir);
  }
  const [project] = loadProjectKeys(dataDir).values();
  return { slug: project!.slug, apiKey: project!.apiKey };
}

async function openCollector(options: Options): Promise<RunningCollector | null> {
  try {
    return await startCollector({ dataDir: options.dataDir, host: '127.0.0.1', port: options.port, log: (line) => writeSync(2, `[collector] ${line}\n`) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      complain(
        `port ${options.port} on 127.0.0.1 is already in use (another demo or collector still running?). ` +
          `Stop it, or give the demo another port: npm start -- --port ${options.port === DEFAULT_PORT ? DEFAULT_PORT + 1 : options.port + 1} (or --port 0 for any free one).`,
      );
    } else {
      complain(`the collector did not start: ${(error as Error).message}`);
    }
    return null;
  }
}

interface Window {
  at: number;
  requests: number;
  errors: number;
  produced: number;
  sent: number;
}

function dropped(stats: TeracronStats): number {
  return stats.droppedRingFull + stats.droppedSendFailed;
}

function statusLine(elapsedS: number, load: Load, shop: ServiceProcess, stats: TeracronStats | null, last: Window, now: number): string {
  const seconds = (now - last.at) / 1000;
  const perSecond = (count: number): string => (count / seconds).toFixed(1);
  let rss = '?';
  try {
    rss = (readProcess(shop.pid).rss / MIB).toFixed(1);
  } catch {
    // The shop is gone or going; the next line says so.
  }
  return (
    `status  ${elapsedS.toFixed(0).padStart(4)} s` +
    `  requests/s ${perSecond(load.counters.requests - last.requests)}` +
    `  errors/s ${perSecond(load.counters.errors - last.errors)}` +
    (stats === null
      ? '  spans/s ?  (the shop did not answer)'
      : `  spans/s ${perSecond(stats.produced - last.produced)}  sent/s ${perSecond(stats.sent - last.sent)}  dropped ${dropped(stats)}`) +
    `  shop rss ${rss} MiB`
  );
}

async function summary(elapsedS: number, load: Load | null, loadS: number, services: ServiceProcess[], collector: RunningCollector, slug: string): Promise<string> {
  const parts = [`demo: stopped after ${elapsedS.toFixed(1)} s`];
  if (load !== null) {
    const { requests, errors, errorsByStatus, skipped } = load.counters;
    const byStatus = [...errorsByStatus].sort(([a], [b]) => a - b).map(([status, count]) => `${status === 0 ? 'no answer' : status} ×${count}`);
    parts.push(`${requests} requests (${(requests / loadS).toFixed(1)}/s), ${errors} failed${byStatus.length > 0 ? ` (${byStatus.join(', ')})` : ''}${skipped > 0 ? `, ${skipped} skipped while the shop was behind` : ''}`);
  }
  for (const service of services.toReversed()) {
    const stats = service.finalStats();
    if (stats !== null) parts.push(`${service.name} sent ${stats.sent} spans and events, dropped ${dropped(stats)}`);
  }
  try {
    const counts = await collector.store.counts(slug);
    parts.push(`the collector holds ${counts.spans} spans, ${counts.events} events and ${counts.metric_samples} metric samples in ${collector.storeDescription}`);
  } catch {
    // Counting is a courtesy; the data is there either way.
  }
  return parts.join('; ');
}

/** Why the demo stops: a signal, --duration, or a service that died; the first reason wins. */
class StopRequest {
  reason: string | null = null;
  readonly requested: Promise<string>;
  #resolve!: (reason: string) => void;

  constructor() {
    this.requested = new Promise((resolve) => (this.#resolve = resolve));
  }

  request(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.#resolve(reason);
  }

  /** Ends the start-up early (caught below) when a stop was asked for while it ran. */
  check(): void {
    if (this.reason !== null) throw STOPPED_DURING_START;
  }
}

const STOPPED_DURING_START = new Error('stopped during start-up');

function onSignals(stop: StopRequest): void {
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstAt === 0) {
      firstAt = Date.now();
      say(`\ndemo: ${signal}: stopping (Ctrl-C again to quit at once)`);
      stop.request(signal);
    } else if (Date.now() - firstAt > SAME_PRESS_MS) {
      complain('quitting at once; the services stop by themselves when they see the demo gone');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (typeof options === 'number') return options;
  const stop = new StopRequest();
  onSignals(stop);

  let project: { slug: string; apiKey: string };
  try {
    project = await projectKey(options.dataDir);
  } catch (error) {
    complain((error as Error).message);
    return 1;
  }
  if (stop.reason !== null) return 0;
  const collector = await openCollector(options);
  if (collector === null) return 1;

  const services: ServiceProcess[] = [];
  let load: Load | null = null;
  const startedAt = performance.now();
  let loadStartedAt = startedAt;
  let code = 0;
  let statusTimer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  try {
    stop.check();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TERACRON_API_KEY: project.apiKey,
      TERACRON_DOMAIN: collector.url,
      // Small intervals so that metrics and spans show up within seconds.
      TERACRON_INTERVAL: '5',
      TERACRON_MAX_BUFFER: '1',
      TERACRON_TRACE_FLUSH_INTERVAL: '1',
    };
    const shopDir = join(__dirname, '..', 'shop');
    // Each service's request spans are runs of a workflow named after it.
    const payments = await startService('payments', join(shopDir, 'payments.js'), ['--port', '0'], { ...env, TERACRON_SERVICE: 'payments', TERACRON_HTTP_WORKFLOW: 'payments' });
    services.push(payments);
    stop.check();
    const shop = await startService('shop', join(shopDir, 'main.js'), ['--port', '0', '--payments', payments.url], { ...env, TERACRON_SERVICE: 'shop', TERACRON_HTTP_WORKFLOW: 'shop' });
    services.push(shop);
    for (const service of services) {
      void service.exited.then((exitCode) => {
        if (stop.reason !== null) return;
        complain(`${service.name} exited unexpectedly (code ${exitCode}); its output is above, prefixed [${service.name}]`);
        code = 1;
        stop.request('exit');
      });
    }
    stop.check();

    say(`project:   ${project.slug} (keys in ${join(options.dataDir, 'keys')})`);
    say(`collector: ${collector.url} (data in ${options.dataDir})`);
    say(`payments:  ${payments.url} (pid ${payments.pid})`);
    say(`shop:      ${shop.url} (pid ${shop.pid})`);
    load = await startLoad(shop.url, options.rate);
    loadStartedAt = performance.now();
    say(`load:      ${options.rate} requests/s at the shop (browsing and checkouts)`);
    say('');
    say(`dashboard: ${collector.url}/`);
    say(`api key: ${project.apiKey}`);
    say(
      `Open the dashboard and sign in with the api key above. ` +
        (options.durationS === null ? 'Ctrl-C to stop.' : `Stopping after ${options.durationS} s (or Ctrl-C).`) +
        ` Status every ${STATUS_EVERY_MS / 1000} s.`,
    );

    const activeLoad = load;
    let last: Window = { at: performance.now(), requests: 0, errors: 0, produced: 0, sent: 0 };
    let sampling = false;
    statusTimer = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void shop.stats().then((stats) => {
        sampling = false;
        if (stop.reason !== null) return;
        const now = performance.now();
        say(statusLine((now - startedAt) / 1000, activeLoad, shop, stats, last, now));
        last = { at: now, requests: activeLoad.counters.requests, errors: activeLoad.counters.errors, produced: stats?.produced ?? last.produced, sent: stats?.sent ?? last.sent };
      });
    }, STATUS_EVERY_MS);
    if (options.durationS !== null) durationTimer = setTimeout(() => stop.request('duration'), options.durationS * 1000);
    await stop.requested;
  } catch (error) {
    if (error !== STOPPED_DURING_START) {
      complain((error as Error).message);
      code = 1;
    }
  } finally {
    stop.request('finished');
    clearInterval(statusTimer);
    clearTimeout(durationTimer);
    if (load !== null) await load.stop();
    const loadS = (performance.now() - loadStartedAt) / 1000;
    // The shop first: it still calls payments while it finishes. Each ships what it holds to
    // the collector before exiting, so the collector closes last.
    for (const service of services.toReversed()) {
      const exitCode = await service.stop();
      if (exitCode !== 0 && code === 0) complain(`${service.name} exited with code ${exitCode}`);
    }
    say(await summary((performance.now() - startedAt) / 1000, load, loadS, services, collector, project.slug));
    await collector.close();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    complain(`unexpected error: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
