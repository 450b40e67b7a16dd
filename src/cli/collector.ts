/**
 * `teracron collector --data <dir> [--store sqlite|clickhouse://…] [--host 127.0.0.1] [--port 7777] [--tls-cert f --tls-key f]
 * [--retention-days 7] [--max-body-bytes 8388608] [--max-buffered-bytes 134217728]
 * [--max-uploads-per-project 32] [--body-idle-ms 5000] [--ingest-threads n] [--ingest-rate 500] [--query-rate 50]`: prints one line
 * `teracron collector listening on <url>` when ready and stops cleanly on SIGINT/SIGTERM.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, startCollector } from '../collector/collector';
import { defaultIngestThreads } from '../collector/ingest-pool';
import { STORE_ENV } from '../collector/store-location';
import { DEFAULT_UPLOAD_LIMITS, UPLOAD_OVERHEAD_BYTES } from '../collector/upload-admission';
import { wantsHelp } from './commands';

const USAGE = 'usage: teracron collector --data <dir> [--store sqlite|clickhouse://user:pass@host:8123/db] [--host 127.0.0.1] [--port 7777] [--tls-cert f --tls-key f] [--retention-days 7] [--max-body-bytes n] [--max-buffered-bytes n] [--max-uploads-per-project n] [--body-idle-ms 5000] [--ingest-rate 500] [--query-rate 50]';
const HELP = `${USAGE}

Receives what agents send to the projects whose keys are in <dir>/keys/ (made by
\`teracron keygen --dir <dir>\`), stores it in <dir>/teracron.db (or ClickHouse) and serves the
query API and the dashboard. Prints one line "teracron collector listening on <url>" when ready.

  --data dir            the directory holding keys/ (required)
  --store s             where the data goes: sqlite (default: <dir>/teracron.db) or
                        clickhouse://user:password@host:8123/database (clickhouses:// for
                        HTTPS), which several collectors can share; default \$${STORE_ENV} or sqlite
  --host h              the address to bind; default 127.0.0.1 (this machine only)
  --port p              default ${DEFAULT_PORT}; 0 picks a free port
  --tls-cert f          serve https with this certificate (PEM) …
  --tls-key f           … and its private key
  --retention-days n    delete data older than this, 1–3650; default 7
  --max-body-bytes n    the largest request body accepted; default ${DEFAULT_MAX_BODY_BYTES}
  --max-buffered-bytes n
                        memory request bodies may hold at once, over all uploads,
                        each also charged ${UPLOAD_OVERHEAD_BYTES} for its connection (past it: 503);
                        default ${DEFAULT_UPLOAD_LIMITS.maxBufferedBytes}
  --max-uploads-per-project n
                        uploads in flight for one project (past it: 429); default ${DEFAULT_UPLOAD_LIMITS.maxUploadsPerProject}
  --body-idle-ms n      a body that sends nothing for this long is refused (408); default ${DEFAULT_UPLOAD_LIMITS.idleMs}
  --ingest-threads n    threads that decrypt, decode and validate bodies beside the event
                        loop; 0 does it on the loop; default ${defaultIngestThreads()} (cores − 1, 1 to 4)
  --ingest-rate n       batches per second per project; default 500
  --query-rate n        queries per second per API key; default 50
  -h, --help            this text
`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv.slice(1))) {
    writeSync(1, HELP);
    return 0;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      options: {
        data: { type: 'string' },
        store: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: String(DEFAULT_PORT) },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'retention-days': { type: 'string', default: '7' },
        'max-body-bytes': { type: 'string', default: String(DEFAULT_MAX_BODY_BYTES) },
        'max-buffered-bytes': { type: 'string', default: String(DEFAULT_UPLOAD_LIMITS.maxBufferedBytes) },
        'max-uploads-per-project': { type: 'string', default: String(DEFAULT_UPLOAD_LIMITS.maxUploadsPerProject) },
        'body-idle-ms': { type: 'string', default: String(DEFAULT_UPLOAD_LIMITS.idleMs) },
        'ingest-threads': { type: 'string', default: String(defaultIngestThreads()) },
        'ingest-rate': { type: 'string', default: '500' },
        'query-rate': { type: 'string', default: '50' },
      },
      strict: true,
    }));
  } catch (err) {
    writeSync(2, `teracron collector: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.data === undefined) {
    writeSync(2, 'teracron collector: --data <dir> is required (the directory holding keys/, made by `teracron keygen --dir <dir>`)\n');
    return 2;
  }
  const port = wholeNumber(values.port, '--port', 0, 65535);
  const retentionDays = wholeNumber(values['retention-days'], '--retention-days', 1, 3650);
  const maxBodyBytes = wholeNumber(values['max-body-bytes'], '--max-body-bytes', 1024, 1024 * 1024 * 1024);
  const maxBufferedBytes = wholeNumber(values['max-buffered-bytes'], '--max-buffered-bytes', 1024 * 1024, 64 * 1024 * 1024 * 1024);
  const maxUploadsPerProject = wholeNumber(values['max-uploads-per-project'], '--max-uploads-per-project', 1, 100_000);
  const bodyIdleMs = wholeNumber(values['body-idle-ms'], '--body-idle-ms', 100, 600_000);
  const ingestThreads = wholeNumber(values['ingest-threads'], '--ingest-threads', 0, 64);
  const ingestRate = wholeNumber(values['ingest-rate'], '--ingest-rate', 1, 1_000_000);
  const queryRate = wholeNumber(values['query-rate'], '--query-rate', 1, 1_000_000);
  if (port === null || retentionDays === null || maxBodyBytes === null || maxBufferedBytes === null || maxUploadsPerProject === null || bodyIdleMs === null || ingestThreads === null || ingestRate === null || queryRate === null) return 2;
  if (maxBufferedBytes < maxBodyBytes + UPLOAD_OVERHEAD_BYTES) {
    writeSync(2, `teracron collector: --max-buffered-bytes ${maxBufferedBytes} is less than --max-body-bytes ${maxBodyBytes} plus one upload's overhead (${UPLOAD_OVERHEAD_BYTES}), so the largest batch could never be admitted: raise it to at least ${maxBodyBytes + UPLOAD_OVERHEAD_BYTES}\n`);
    return 2;
  }

  const collector = await startCollector({
    dataDir: values.data,
    ...(values.store !== undefined ? { store: values.store } : {}),
    host: values.host,
    port,
    retentionDays,
    maxBodyBytes,
    uploadLimits: { maxBufferedBytes, maxUploadsPerProject, idleMs: bodyIdleMs },
    ingestThreads,
    // Sustained rates per project (batches/s) and per key (queries/s); bursts of twice that, at least 4.
    ingestRatePerSecond: ingestRate,
    ingestBurst: Math.max(4, ingestRate * 2),
    queryRatePerSecond: queryRate,
    queryBurst: Math.max(4, queryRate * 2),
    ...(values['tls-cert'] !== undefined ? { tlsCertFile: values['tls-cert'] } : {}),
    ...(values['tls-key'] !== undefined ? { tlsKeyFile: values['tls-key'] } : {}),
    log: (line) => writeSync(2, `[collector] ${line}\n`),
  });
  writeSync(2, `[collector] store: ${collector.storeDescription}\n`);
  writeSync(1, `teracron collector listening on ${collector.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      writeSync(2, `[collector] ${signal}: finishing requests in flight, then closing the database\n`);
      collector.close().then(resolve, (err: unknown) => {
        writeSync(2, `[collector] error while stopping: ${(err as Error).message}\n`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

function wholeNumber(raw: string, flag: string, min: number, max: number): number | null {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    writeSync(2, `teracron collector: ${flag} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}\n`);
    return null;
  }
  return value;
}
