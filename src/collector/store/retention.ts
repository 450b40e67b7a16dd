/**
 * Deletes what is older than the retention window, in small chunks: each chunk is one short
 * transaction that deletes at most a few hundred traces' rows (and as many events, samples and
 * batch ids), so neither ingest nor queries wait long behind it, and the collector yields to its
 * event loop between chunks (a one-transaction sweep of 400k rows held everything for 4.7 s).
 * Every delete walks a (project, time) index, or the run index of spans.
 *
 * Traces go whole: a run older than the cutoff (by its started_at) is deleted with every span of
 * its trace, in the same chunk, so no trace is left half-shown and no run's span_count goes
 * stale. Events, metric samples, logs, issue occurrences and batch ids go by their own
 * timestamp / received_at; an issue goes once its last occurrence is older than the cutoff
 * (its count then covers occurrences already deleted, which is what it counted). Once a
 * batch id is forgotten, a retry of that batch would be stored again (spans still dedupe by span
 * id while they are kept).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './open';
import { createWorkflowHours, HourDeltas } from './workflow-hours';
import type { RunFacts } from './workflow-hours';

const DAY_MS = 86_400_000;
/** Traces (and rows of each other table) per chunk: tens of milliseconds of work. */
export const RETENTION_CHUNK = 500;

interface Cutoff {
  project: number;
  cutoff: number;
  chunk: number;
}

interface OldRun extends RunFacts {
  id: number;
}

/** A chunk of issues not seen since the cutoff, the same rows for both statements that use it. */
const OLD_ISSUES = 'SELECT fingerprint FROM issues WHERE project = @project AND last_seen < @cutoff ORDER BY last_seen, fingerprint LIMIT @chunk';

export interface RetentionState {
  /** Deletes one chunk older than the cutoff; returns the rows deleted (0: nothing left). */
  chunk: BetterSqlite3.Transaction<(cutoff: number) => number>;
}

export function createRetention(db: Db): RetentionState {
  const projects = db.prepare<[], number>('SELECT id FROM projects').pluck();
  const oldRuns = db.prepare<[Cutoff], OldRun>(
    'SELECT rowid AS id, workflow, status, started_at, duration_ms FROM runs WHERE project = @project AND started_at < @cutoff LIMIT @chunk',
  );
  // The chunk's run ids as a JSON array: one statement for any number of them.
  const runDeletes = [
    'DELETE FROM spans WHERE run IN (SELECT value FROM json_each(?))',
    'DELETE FROM runs WHERE rowid IN (SELECT value FROM json_each(?))',
  ].map((sql) => db.prepare<[string]>(sql));
  const deletes = [
    'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE project = @project AND timestamp < @cutoff LIMIT @chunk)',
    'DELETE FROM metric_samples WHERE id IN (SELECT id FROM metric_samples WHERE project = @project AND timestamp < @cutoff LIMIT @chunk)',
    `DELETE FROM batches_seen WHERE project = @project AND batch_id IN
       (SELECT batch_id FROM batches_seen WHERE project = @project AND received_at < @cutoff LIMIT @chunk)`,
    'DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE project = @project AND timestamp < @cutoff LIMIT @chunk)',
    'DELETE FROM issue_occurrences WHERE id IN (SELECT id FROM issue_occurrences WHERE project = @project AND timestamp < @cutoff LIMIT @chunk)',
    // Services first: they are found through the issues, which the next statement deletes.
    `DELETE FROM issue_services WHERE project = @project AND fingerprint IN (${OLD_ISSUES})`,
    `DELETE FROM issues WHERE project = @project AND fingerprint IN (${OLD_ISSUES})`,
  ].map((sql) => db.prepare<[Cutoff]>(sql));
  const hours = createWorkflowHours(db);
  return {
    chunk: db.transaction((cutoff: number): number => {
      let deleted = 0;
      for (const project of projects.all()) {
        const at: Cutoff = { project, cutoff, chunk: RETENTION_CHUNK };
        const runs = oldRuns.all(at);
        if (runs.length > 0) {
          const ids = JSON.stringify(runs.map((run) => run.id));
          for (const statement of runDeletes) deleted += statement.run(ids).changes;
          // The deleted runs leave their hours' aggregates, which stay equal to what is stored.
          const deltas = new HourDeltas();
          for (const run of runs) deltas.add(project, run, -1);
          deltas.flush(hours);
        }
        for (const statement of deletes) deleted += statement.run(at).changes;
        if (deleted > 0) return deleted;
      }
      return deleted;
    }),
  };
}

export function retentionCutoff(days: number, now: number): number {
  if (!(days > 0) || !Number.isFinite(days)) {
    throw new RangeError(`Retention must be a positive number of days, got ${days}: a zero or negative window would delete everything.`);
  }
  return now - days * DAY_MS;
}

/** One chunk of the sweep; returns the rows it deleted (0 once nothing is older than the cutoff). */
export function applyRetentionChunk(state: RetentionState, cutoff: number): number {
  return state.chunk.immediate(cutoff);
}
