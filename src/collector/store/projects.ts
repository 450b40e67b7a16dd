/**
 * Project slugs map to small integer ids, and every table is keyed by that id: a one-byte key
 * instead of a 14-character slug in every row and every index entry. Ids are created outside any
 * batch transaction (a rolled-back batch must not leave a cached id that SQLite would hand out
 * again) and never deleted, so the cache never goes stale.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './open';

/** Never assigned (INTEGER PRIMARY KEY starts at 1): queries for an unknown slug match nothing. */
const NO_PROJECT = 0;

export interface ProjectState {
  ids: Map<string, number>;
  select: BetterSqlite3.Statement<[string], number>;
  insert: BetterSqlite3.Statement<[string]>;
}

export function createProjects(db: Db): ProjectState {
  return {
    ids: new Map(),
    select: db.prepare<[string], number>('SELECT id FROM projects WHERE slug = ?').pluck(),
    insert: db.prepare<[string]>('INSERT INTO projects (slug) VALUES (?) ON CONFLICT (slug) DO NOTHING'),
  };
}

/** The id of `slug` for reading; NO_PROJECT when nothing was ever stored for it. */
export function projectId(state: ProjectState, slug: string): number {
  const cached = state.ids.get(slug);
  if (cached !== undefined) return cached;
  const id = state.select.get(slug);
  if (id === undefined) return NO_PROJECT;
  state.ids.set(slug, id);
  return id;
}

/** The id of `slug` for writing, created (and committed) on first use. */
export function ensureProjectId(state: ProjectState, slug: string): number {
  const id = projectId(state, slug);
  if (id !== NO_PROJECT) return id;
  state.insert.run(slug);
  return projectId(state, slug);
}
