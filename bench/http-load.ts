/**
 * The load generator of bench/http.ts: autocannon (from bench/node_modules) in a process of its
 * own, forked with an IPC channel, so that its event loop shares nothing with the bench process,
 * which during the teracron runs also answers the agent's uploads.
 *
 *   → { type: 'run', url, connections, seconds }   ← { type: 'result', ... } when the run ends
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface LoadRun {
  type: 'run';
  url: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  type: 'result';
  /** Responses received (any status). */
  requests: number;
  seconds: number;
  /** Response times measured by autocannon (from write to response), to the microsecond. */
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx, connection errors, timeouts: all must be 0. */
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface AutocannonRun extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseMs: number) => void): void;
}

const requirePeer = createRequire(join(__dirname, '..', '..', 'bench', 'package.json'));

/** autocannon's own percentiles are whole milliseconds; a hello world answers in a fraction of one. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function run(message: LoadRun): Promise<LoadResult> {
  const autocannon = requirePeer('autocannon') as (options: Record<string, unknown>) => AutocannonRun;
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  const running = autocannon({ url: message.url, connections: message.connections, duration: message.seconds, pipelining: 1 });
  running.on('response', (_client, _status, _bytes, responseMs) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = responseMs;
  });
  const result = await running;
  const sorted = latencies.subarray(0, count).sort();
  return {
    type: 'result',
    requests: result.requests.total,
    seconds: result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

if (require.main === module) {
  if (process.send === undefined) throw new Error('http-load: start it with child_process.fork (it reports over IPC)');
  process.on('message', (message: LoadRun) => {
    if (message.type !== 'run') throw new Error(`http-load: unknown message ${JSON.stringify(message)}`);
    void run(message).then((result) => process.send!(result));
  });
  process.on('disconnect', () => process.exit(0));
}
