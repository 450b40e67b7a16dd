/**
 * A real ClickHouse server for tests and benches, started by the caller itself: a fresh temp dir holds its
 * config, users and data; it listens on loopback ports nobody held a moment before, and answers
 * as the default user with no password. Each caller gets a fresh database on it.
 *
 * Debian's clickhouse-server (18.16, what .ci/run installs) and a current single `clickhouse`
 * binary both read this config: both take `<yandex>` as the root, and each ignores the keys only
 * the other knows (max_server_memory_usage is the newer versions' server-wide cap; 18.16 caps
 * the default user's queries together through its profile instead).
 *
 * Ports are found free by binding port 0 and closing, so another process may take one before
 * ClickHouse binds it. The server then exits ("Address already in use") and the start is retried
 * on new ports; and a server that answers on our port is only taken for ours when it answers with
 * the display name this start gave it, so a neighbour's server is never mistaken for it.
 *
 * The server must not outlive the test process: where util-linux's setpriv exists it runs with a
 * parent-death signal (so even a test process that is SIGKILLed takes it along), and every server
 * still running is SIGKILLed on process 'exit'.
 *
 * With CLICKHOUSE_URL set (http://[user:password@]host:port), that server is used instead: the
 * caller gets a fresh database there, and stop() drops that database only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePorts } from './free-ports';
import { waitFor } from './wait';

export interface ClickHouseServer {
  /** The HTTP interface: http://127.0.0.1:<port> (or CLICKHOUSE_URL). */
  url: string;
  /** A fresh database created for the caller. */
  database: string;
  /** clickhouse://default:@127.0.0.1:<port>/<database>: the collector's --store value. */
  storeUrl: string;
  /** Ends the server and removes its temp dir (on CLICKHOUSE_URL: drops the database). Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Ends the server process at once (SIGKILL, as a crash or an outage would), keeping its data dir
   * and ports for restart(). Throws on CLICKHOUSE_URL, where the server is not ours to kill.
   */
  kill(): Promise<void>;
  /** Starts a killed server again on the same ports and data; resolves once it answers. */
  restart(): Promise<void>;
}

/** A 2-core CI machine with 24 GiB, shared with the tests and maybe a second server: small caches, firm caps. */
const MARK_CACHE_BYTES = 64 * 1024 * 1024;
const SERVER_MEMORY_BYTES = 4 * 1024 ** 3;
const QUERY_MEMORY_BYTES = 2 * 1024 ** 3;

/**
 * On SIGTERM the server waits for every open HTTP connection, an idle keep-alive one included, up
 * to its keep-alive timeout (10 s by default): a test process whose fetch pool holds one made every
 * stop() take 8 s. Clients honour the timeout the server announces (undici keeps a socket 1 s less),
 * so a short one costs nothing but a reconnect.
 */
const KEEP_ALIVE_SECONDS = 2;

const START_ATTEMPTS = 5;
/** A bound on failure only: 18.16 answers within a second here, a loaded machine takes longer. */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** How much of the server's own output is kept for error messages: the end of it. */
const OUTPUT_LIMIT = 64 * 1024;

const INSTALL_HINT =
  'no ClickHouse server found (looked for clickhouse-server on PATH, /usr/sbin/clickhouse-server and clickhouse on PATH): ' +
  "install Debian's package with `apt-get install clickhouse-server` (.ci/run does), put a current `clickhouse` binary on PATH, " +
  'or set CLICKHOUSE_URL to a running server (e.g. http://127.0.0.1:8123)';

interface ServerCommand {
  file: string;
  /** What goes before --config-file=: nothing for clickhouse-server, `server` for the single binary. */
  args: string[];
}

/** null when a server binary is found (or CLICKHOUSE_URL is set); otherwise how to install one. */
export function clickHouseAvailable(): string | null {
  return process.env.CLICKHOUSE_URL || findServerCommand() !== null ? null : INSTALL_HINT;
}

export async function startClickHouse(options: { database?: string } = {}): Promise<ClickHouseServer> {
  const database = options.database ?? `teracron_test_${randomBytes(6).toString('hex')}`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new Error(`startClickHouse: database ${JSON.stringify(database)} is not a plain identifier; use letters, digits and _ (not starting with a digit)`);
  }
  const external = process.env.CLICKHOUSE_URL;
  if (external) return useExternal(external.replace(/\/+$/, ''), database);

  const command = findServerCommand();
  if (command === null) throw new Error(INSTALL_HINT);
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(command);
    if ('url' in started) {
      try {
        await clickHouseQuery({ url: started.url, database: 'default' }, `CREATE DATABASE IF NOT EXISTS \`${database}\``);
      } catch (err) {
        await started.stop();
        throw err;
      }
      const { port } = new URL(started.url);
      return { url: started.url, database, storeUrl: `clickhouse://default:@127.0.0.1:${port}/${database}`, stop: started.stop, kill: started.kill, restart: started.restart };
    }
    if (!started.portTaken || attempt === START_ATTEMPTS) {
      throw new Error(`ClickHouse (${[command.file, ...command.args].join(' ')}) exited before it answered (${started.exit}), attempt ${attempt} of ${START_ATTEMPTS}; its output:\n${started.output}`);
    }
  }
}

/** POSTs `sql` to the server, in its database; resolves with the answer's text, throws with the server's error on anything but 200. */
export async function clickHouseQuery(server: Pick<ClickHouseServer, 'url' | 'database'>, sql: string): Promise<string> {
  const url = new URL(server.url);
  const headers: Record<string, string> = {};
  // fetch refuses a URL with credentials in it; ClickHouse takes them as basic auth as well.
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.pathname = '/';
  url.searchParams.set('database', server.database);
  const response = await fetch(url, { method: 'POST', body: sql, headers });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`ClickHouse at ${server.url.replace(/\/\/[^/@]*@/, '//')} answered ${response.status} to ${JSON.stringify(sql.length > 200 ? `${sql.slice(0, 200)}…` : sql)}: ${text.trim()}`);
  }
  return text;
}

async function useExternal(url: string, database: string): Promise<ClickHouseServer> {
  await clickHouseQuery({ url, database: 'default' }, `CREATE DATABASE IF NOT EXISTS \`${database}\``);
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  const user = parsed.username || 'default';
  let stopping: Promise<void> | undefined;
  return {
    url,
    database,
    storeUrl: `clickhouse://${user}:${parsed.password}@${parsed.hostname}:${port}/${database}`,
    stop: () => (stopping ??= clickHouseQuery({ url, database: 'default' }, `DROP DATABASE IF EXISTS \`${database}\``).then(() => undefined)),
    kill: () => Promise.reject(new Error(`kill: ClickHouse at ${parsed.host} comes from CLICKHOUSE_URL and is not this process's to kill; unset CLICKHOUSE_URL to run tests that need an outage`)),
    restart: () => Promise.reject(new Error(`restart: ClickHouse at ${parsed.host} comes from CLICKHOUSE_URL; unset it to run tests that need an outage`)),
  };
}

function findServerCommand(): ServerCommand | null {
  const server = onPath('clickhouse-server') ?? (isExecutable('/usr/sbin/clickhouse-server') ? '/usr/sbin/clickhouse-server' : null);
  if (server !== null) return { file: server, args: [] };
  const single = onPath('clickhouse');
  return single === null ? null : { file: single, args: ['server'] };
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

type StartResult = { url: string; stop: () => Promise<void>; kill: () => Promise<void>; restart: () => Promise<void> } | { exit: string; portTaken: boolean; output: string };

/** One run of the server process on a prepared dir; a restart is a second one on the same dir. */
interface Launch {
  child: ChildProcess;
  exited: Promise<void>;
  /** How it ended (exit code, signal, spawn error), or null while it runs. */
  exit(): string | null;
  /** The end of its stdout and stderr. */
  output(): string;
}

function launch(command: ServerCommand, dir: string, configFile: string): Launch {
  const setpriv = isExecutable('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;
  const [file, args] =
    setpriv === null
      ? [command.file, [...command.args, `--config-file=${configFile}`]]
      : [setpriv, ['--pdeathsig', 'KILL', '--', command.file, ...command.args, `--config-file=${configFile}`]];
  const child = spawn(file, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  killAllOnExit();
  let output = '';
  const keep = (chunk: string): void => void (output = (output + chunk).slice(-OUTPUT_LIMIT));
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let exit: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exit = `could not run: ${err.message}`;
      running.delete(child);
      resolve();
    });
  });
  return { child, exited, exit: () => exit, output: () => output };
}

/** Resolves 'ready' once the server answering on `url` is this launch (by display name), 'exited' if it ended first. */
function awaitReady(run: Launch, url: string, displayName: string): Promise<'ready' | 'exited'> {
  return waitFor(
    `ClickHouse to answer on ${url}/ping`,
    async () => {
      if (run.exit() !== null) return 'exited' as const;
      const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5_000) });
      if ((await ping.text()).trim() !== 'Ok.') return false;
      // /ping carries no display name in 18.16; a query's answer does.
      const who = await fetch(`${url}/?query=SELECT%201`, { signal: AbortSignal.timeout(5_000) });
      await who.text();
      return who.headers.get('x-clickhouse-server-display-name') === displayName && ('ready' as const);
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, seen: () => `its output: ${run.output() || '(none)'}` },
  );
}

/** Ends a launch: SIGTERM and up to STOP_TIMEOUT_MS for a clean shutdown, or SIGKILL at once (as a crash). */
async function end(run: Launch, how: 'clean' | 'crash'): Promise<void> {
  if (run.exit() !== null) return;
  if (how === 'crash') {
    run.child.kill('SIGKILL');
    return run.exited;
  }
  run.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([run.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS, false)))]);
  clearTimeout(timer);
  if (!ended) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
}

/** One try: on free ports as found a moment ago, which another process may have taken since. */
async function startOnce(command: ServerCommand): Promise<StartResult> {
  const [httpPort, tcpPort, interserverPort] = await freePorts(3);
  const dir = mkdtempSync(join(tmpdir(), 'teracron-clickhouse-'));
  const displayName = `teracron-test-${randomBytes(6).toString('hex')}`;
  const configFile = join(dir, 'config.xml');
  writeFileSync(configFile, configXml(dir, displayName, httpPort!, tcpPort!, interserverPort!));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);

  const url = `http://127.0.0.1:${httpPort}`;
  let current = launch(command, dir, configFile);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await end(current, 'clean');
      rmSync(dir, { recursive: true, force: true });
    })());
  const kill = (): Promise<void> => end(current, 'crash');
  const restart = async (): Promise<void> => {
    if (stopping !== undefined) throw new Error('restart: this ClickHouse was stopped (its data is gone); start a new one');
    if (current.exit() === null) throw new Error(`restart: ClickHouse on ${url} is still running; kill() it first`);
    current = launch(command, dir, configFile);
    // Same ports and data: a port taken meanwhile by another process cannot be moved, so it is an error here.
    if ((await awaitReady(current, url, displayName)) === 'exited') {
      throw new Error(`ClickHouse exited (${current.exit()}) on restart on ${url}; its output:\n${current.output() || '(none)'}`);
    }
  };

  let state: 'ready' | 'exited';
  try {
    state = await awaitReady(current, url, displayName);
  } catch (err) {
    await stop();
    throw err;
  }
  if (state === 'ready') return { url, stop, kill, restart };
  const output = current.output() || '(none)';
  const exit = current.exit() ?? 'unknown';
  await stop();
  return { exit, portTaken: /already in use/i.test(output), output };
}

function configXml(dir: string, displayName: string, httpPort: number, tcpPort: number, interserverPort: number): string {
  const path = (name: string): string => {
    mkdirSync(join(dir, name));
    return `${join(dir, name)}/`;
  };
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <display_name>${displayName}</display_name>
  <listen_host>127.0.0.1</listen_host>
  <keep_alive_timeout>${KEEP_ALIVE_SECONDS}</keep_alive_timeout>
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interserverPort}</interserver_http_port>
  <path>${path('data')}</path>
  <tmp_path>${path('tmp')}</tmp_path>
  <user_files_path>${path('user_files')}</user_files_path>
  <format_schema_path>${path('format_schemas')}</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>${MARK_CACHE_BYTES}</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <max_server_memory_usage>${SERVER_MEMORY_BYTES}</max_server_memory_usage>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>${QUERY_MEMORY_BYTES}</max_memory_usage>
      <max_memory_usage_for_user>${SERVER_MEMORY_BYTES}</max_memory_usage_for_user>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** On 'exit' only synchronous work runs: a signal to each server still up, nothing awaited. */
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
