/**
 * Loads better-sqlite3 and opens the database file with the settings the store relies on.
 *
 * The driver is an optional peer dependency with a native binary: `npm install teracron` leaves
 * it out, so that installing the agent compiles nothing, and whoever runs a collector installs it
 * next to teracron. It is required here, lazily, and nowhere at module top level: importing
 * `teracron` (the agent) must never load it, and a collector whose driver is missing or cannot
 * load must say what failed and how to fix it.
 *
 * Durability: WAL with `synchronous = NORMAL`. A transaction is committed once its frames are in
 * the WAL file; the OS keeps them even when the process is killed (`kill -9`, a crash), so
 * committed batches survive the collector dying. Only an OS crash or power loss can lose the last
 * transactions before a checkpoint (never corrupt the file); `FULL` would fsync every commit to
 * cover that too, at several times the cost per batch.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { TeracronStoreError } from './errors';

export type Driver = typeof BetterSqlite3;
export type Db = BetterSqlite3.Database;

/** The range of `peerDependencies['better-sqlite3']` in package.json (a test keeps them equal). */
export const DRIVER_RANGE = '^12.6.2';
const INSTALL_DRIVER = `npm install teracron "better-sqlite3@${DRIVER_RANGE}"`;
const FIX_BUILD = 'npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3';
const BUSY_TIMEOUT_MS = 5000;
// Span ids are random, so every insert lands on a different page of the span-id index and a
// 1,000-span batch dirties ~1,000 pages. At SQLite's default (checkpoint every 1,000 WAL pages,
// 2 MB cache) nearly every batch paid a checkpoint with its fsyncs: ~55k rows/s against ~140k
// with a 64 MiB WAL between checkpoints and a 64 MiB cache (measured here, 1,000-row batches).
const WAL_AUTOCHECKPOINT_PAGES = 16_384;
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** The default page cache: the writer's, whose random index inserts want the indexes in memory. */
export const DEFAULT_CACHE_KIB = 64 * 1024;

let driver: Driver | undefined;

export function loadDriver(): Driver {
  if (driver !== undefined) return driver;
  try {
    driver = require('better-sqlite3') as Driver;
  } catch (cause) {
    const notInstalled = (cause as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'better-sqlite3'/.test((cause as Error).message);
    if (notInstalled) {
      throw new TeracronStoreError(
        'driver-missing',
        'The collector stores data with better-sqlite3, which is not installed: it is an optional peer dependency, left out of `npm install teracron` so that installing the agent compiles nothing. ' +
          `Install both in the project you run the collector from with \`${INSTALL_DRIVER}\`, then let better-sqlite3 build or fetch its native binary: \`${FIX_BUILD}\`.`,
        { cause },
      );
    }
    throw driverLoadError(cause);
  }
  return driver;
}

function driverLoadError(cause: unknown): TeracronStoreError {
  const detail = firstLine(cause instanceof Error ? cause.message : String(cause));
  return new TeracronStoreError(
    'driver-load',
    `better-sqlite3 is installed but its native binary did not load (${detail}). ` +
      `npm blocks its install script until it is approved, so the binary was probably never built; fix it with \`${FIX_BUILD}\`.`,
    { cause },
  );
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

export interface OpenOptions {
  /** Path of `better_sqlite3.node` when the driver's binary lives elsewhere (bundled apps). */
  nativeBinding?: string;
  /** SQLite's page cache for this connection; each connection has its own. */
  cacheKiB?: number;
}

/** Opens (creating it and its folder if needed) the database file in WAL mode. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const Database = loadDriver();
  if (file !== ':memory:') {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (cause) {
      throw new TeracronStoreError('open', `Cannot create the folder of the database file ${file}: ${(cause as Error).message}.`, { cause });
    }
  }
  let db: Db;
  try {
    db = new Database(file, options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding });
  } catch (cause) {
    // The constructor loads the native binary on first use: anything but SQLite's own errors
    // (and argument checks) means the binary, not the file, is the problem.
    if (cause instanceof Database.SqliteError || cause instanceof TypeError) {
      throw new TeracronStoreError('open', `Cannot open the database file ${file}: ${(cause as Error).message}.`, { cause });
    }
    throw driverLoadError(cause);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // On so that any constraint a later migration declares is enforced; the tables declare none
    // today (see schema.ts).
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`cache_size = -${options.cacheKiB ?? DEFAULT_CACHE_KIB}`);
  } catch (cause) {
    db.close();
    throw new TeracronStoreError('open', `Cannot use the database file ${file}: ${(cause as Error).message}.`, { cause });
  }
  return db;
}
