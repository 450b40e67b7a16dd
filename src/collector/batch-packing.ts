/**
 * How the ingest pool hands a validated batch to the store, chosen by the store: SQLite's writer
 * thread takes the batch itself (batch-transfer.ts), ClickHouse's writer takes rows already in its
 * insert format (clickhouse/packed-rows.ts). Either way the work is done on the pool's thread, not
 * on the collector's event loop.
 */
import { packInput } from './batch-transfer';
import { packRows } from './clickhouse/packed-rows';
import type { IngestInput } from './store/types';

export type BatchPacking = 'ingest-input' | 'clickhouse-rows';

export function packBatch(packing: BatchPacking, slug: string, input: IngestInput): Uint8Array {
  return packing === 'clickhouse-rows' ? packRows(slug, input, Date.now()) : packInput(input);
}
