/**
 * The embedded store: `<data>/teracron.db`. Reads run on the event loop's own connection (in
 * WAL mode they never wait for the writer), writes on the writer thread (store-writer.ts).
 */
import { join } from 'node:path';
import { CollectorStore } from './store';
import type { QueryStore, StoreBackend } from './store-backend';
import { StoreWriter } from './store-writer';

/** The query connection's page cache; the OS keeps the rest of the file in its own cache. */
const READER_CACHE_KIB = 16 * 1024;

export async function openSqliteBackend(dataDir: string, log: (line: string) => void): Promise<StoreBackend> {
  const file = join(dataDir, 'teracron.db');
  // Opened here first, so that a file this collector cannot use (a newer schema, a driver that
  // does not load) is reported as before; this connection then serves the queries. Each
  // connection has its own page cache: the writer's is the large one.
  const store = CollectorStore.open(file, { cacheKiB: READER_CACHE_KIB });
  let writer: StoreWriter;
  try {
    writer = await StoreWriter.start(file, log);
  } catch (err) {
    store.close();
    throw err;
  }
  return {
    description: `SQLite ${file}`,
    packing: 'ingest-input',
    queries: sqliteQueries(store),
    writer,
    async close() {
      // The writer first: every batch answered 202 was committed before its answer.
      await writer.close();
      store.close();
    },
  };
}

/** The synchronous store behind the asynchronous interface; a throw becomes a rejection. */
function sqliteQueries(store: CollectorStore): QueryStore {
  const answer = async <T>(read: () => T): Promise<T> => read();
  return {
    runs: (slug, query) => answer(() => store.runs(slug, query)),
    workflows: (slug, limit, since) => answer(() => store.workflows(slug, limit, since)),
    traceSpans: (slug, traceId) => answer(() => store.traceSpans(slug, traceId)),
    traceIdsWithPrefix: (slug, prefix, limit) => answer(() => store.traceIdsWithPrefix(slug, prefix, limit)),
    span: (slug, spanId) => answer(() => store.span(slug, spanId)),
    events: (slug, query) => answer(() => store.events(slug, query)),
    metrics: (slug, query) => answer(() => store.metrics(slug, query)),
    pids: (slug) => answer(() => store.pids(slug)),
    services: (slug) => answer(() => store.services(slug)),
    counts: (slug) => answer(() => store.counts(slug)),
    logs: (slug, query) => answer(() => store.logs(slug, query)),
    issues: (slug, query) => answer(() => store.issues(slug, query)),
    issue: (slug, fingerprint, hours, now) => answer(() => store.issue(slug, fingerprint, hours, now)),
    setIssueStatus: (slug, fingerprint, status, now) => answer(() => store.setIssueStatus(slug, fingerprint, status, now)),
  };
}
