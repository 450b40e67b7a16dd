/**
 * Errors of the collector's store. Kept here rather than in `src/errors.ts` because the store is
 * collector-only code; the `code` follows the same `TERACRON_ERR_*` scheme so the collector can
 * branch on it.
 */
/** What was thrown, as an Error: a batch's answer carries one whatever the driver threw. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

export type StoreErrorReason = 'driver-missing' | 'driver-load' | 'open' | 'schema';

export class TeracronStoreError extends Error {
  readonly code = 'TERACRON_ERR_STORE';
  /** Which step failed: the driver is not installed, its native binary does not load, the file cannot be opened, or the schema is unknown. */
  readonly reason: StoreErrorReason;

  constructor(reason: StoreErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.name = 'TeracronStoreError';
  }
}
