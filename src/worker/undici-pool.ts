/**
 * undici's Pool with its request() method, and nothing else of undici. The package's index
 * loads every dispatcher, the mocks, the caches and the interceptors: 140 ms of the 230 ms of
 * CPU the worker spent starting here, more than a second on a loaded machine. For a script that
 * records and ends at once, the worker's start is on the exit path, inside the exit budget.
 * The index attaches request() to Dispatcher.prototype; this does the same, for request() only.
 * Should a later undici move these files, the full index is loaded instead.
 */
import type { Pool as UndiciPool } from 'undici';

type PoolClass = typeof UndiciPool;

function load(): PoolClass {
  try {
    const Pool = require('undici/lib/dispatcher/pool') as PoolClass;
    const Dispatcher = require('undici/lib/dispatcher/dispatcher') as { prototype: object };
    const request = require('undici/lib/api/api-request') as UndiciPool['request'];
    if (typeof Pool === 'function' && typeof request === 'function' && Pool.prototype instanceof (Dispatcher as unknown as new () => object)) {
      Object.assign(Dispatcher.prototype, { request });
      return Pool;
    }
  } catch {
    // Moved or renamed in this undici: the index below has them wherever they are.
  }
  return (require('undici') as typeof import('undici')).Pool;
}

export const Pool: PoolClass = load();
export type Pool = UndiciPool;
