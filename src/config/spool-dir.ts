/**
 * Where a project's spool lives when no spoolDir is given: the user's cache directory, so that
 * the next process of the same project (a restart, another run of the script) finds what this
 * one could not send. One directory per project slug: processes of different projects never
 * replay each other's batches, which their keys could not open anyway.
 */
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Env } from './env';

export function defaultSpoolDir(slug: string, env: Env, platform: NodeJS.Platform = process.platform): string {
  return join(cacheDir(env, platform), 'teracron', 'spool', slug);
}

function cacheDir(env: Env, platform: NodeJS.Platform): string {
  if (platform === 'win32' && env.LOCALAPPDATA) return env.LOCALAPPDATA;
  if (platform !== 'win32' && platform !== 'darwin' && env.XDG_CACHE_HOME?.startsWith('/')) return env.XDG_CACHE_HOME;
  const home = safeHome();
  if (home !== null) return platform === 'darwin' ? join(home, 'Library', 'Caches') : join(home, '.cache');
  // No home (a service account without one): a directory of this user's under the temp dir.
  return join(tmpdir(), `teracron-cache-${safeUser()}`);
}

function safeHome(): string | null {
  try {
    const home = homedir();
    return home === '' ? null : home;
  } catch {
    return null;
  }
}

function safeUser(): string {
  try {
    return String(userInfo().uid);
  } catch {
    return 'user';
  }
}
