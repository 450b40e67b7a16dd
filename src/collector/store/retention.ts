/**
 * Deletes what is older than the retention window, in one transaction, project by project so
 * every delete walks a (project, time) index.
 *
 * Traces go whole: a run older than the cutoff (by its started_at) is deleted with every span of
 * its trace, so no trace is left half-shown and no run's span_count goes stale. Events, metric
 * samples and batch ids go by their own timestamp / received_at. Once a batch id is forgotten, a
 * retry of that batch would be stored again (spans still dedupe by span id while they are kept).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './open';

const DAY_MS = 86_400_000;

interface Cutoff {
  project: number;
  cutoff: number;
}

export interface RetentionState {
  apply: BetterSqlite3.Transaction<(cutoff: number) => number>;
}

export function createRetention(db: Db): RetentionState {
  const projects = db.prepare<[], number>('SELECT id FROM projects').pluck();
  const deletes = [
    'DELETE FROM spans WHERE project = @project AND trace_id IN (SELECT trace_id FROM runs WHERE project = @project AND started_at < @cutoff)',
    'DELETE FROM runs WHERE project = @project AND started_at < @cutoff',
    'DELETE FROM events WHERE project = @project AND timestamp < @cutoff',
    'DELETE FROM metric_samples WHERE project = @project AND timestamp < @cutoff',
    'DELETE FROM batches_seen WHERE project = @project AND received_at < @cutoff',
  ].map((sql) => db.prepare<[Cutoff]>(sql));
  return {
    apply: db.transaction((cutoff: number): number => {
      let deleted = 0;
      for (const project of projects.all()) {
        for (const statement of deletes) deleted += statement.run({ project, cutoff }).changes;
      }
      return deleted;
    }),
  };
}

/** Returns the number of rows deleted across all tables. */
export function applyRetention(state: RetentionState, days: number, now: number): number {
  if (!(days > 0) || !Number.isFinite(days)) {
    throw new RangeError(`Retention must be a positive number of days, got ${days}: a zero or negative window would delete everything.`);
  }
  return state.apply.immediate(now - days * DAY_MS);
}
