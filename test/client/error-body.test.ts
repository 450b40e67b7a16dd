/**
 * An endpoint answering 500 with a 100 MB body must not cost the host process 100 MB (it once
 * took an application from 106 to 994 MiB RSS): the agent runs in a child process against a
 * loopback server that streams the body, and the child reports its peak RSS. A run against the
 * same error with a short body is the baseline, so the worker's own footprint cancels out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileTimeout } from '../helpers/file-timeout';
import { runFixture } from '../helpers/child';
import { serve } from '../helpers/http';
import { streamHugeBody } from '../helpers/misbehaving-body';
import { envelopeVectors } from '../helpers/vectors';

fileTimeout(180_000);

const vectors = envelopeVectors();
const HUGE = 100 * 1024 * 1024;
const ERROR_LINE = 'upstream exploded: the database is on fire';
const ATTEMPTS = 3;
const SPANS = 10;
/** Well under one copy of the body, well over the noise between two runs of the same child. */
const RSS_GROWTH_LIMIT = 32 * 1024 * 1024;

interface Run {
  stats: Record<string, unknown>;
  maxRssBytes: number;
  requests: number;
  stderr: string;
}

async function runAgainst500(bodyBytes: number): Promise<Run> {
  let requests = 0;
  const server = await serve((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(500, { 'content-type': 'text/plain' });
      void streamHugeBody(res, ERROR_LINE, bodyBytes);
    });
  });
  try {
    const result = await runFixture('flush-and-measure', {
      TERACRON_API_KEY: vectors.api_key,
      TERACRON_DOMAIN: server.url,
      TERACRON_METRICS_ENABLED: 'false',
      TERACRON_MAX_SEND_ATTEMPTS: String(ATTEMPTS),
      SPANS: String(SPANS),
    }, 120_000);
    assert.equal(result.code, 0, result.stderr);
    const line = result.lines.find((l) => 'maxRssBytes' in l) as { stats: Record<string, unknown>; maxRssBytes: number } | undefined;
    assert.ok(line, `the fixture printed its stats; stdout: ${result.stdout}`);
    return { ...line, requests, stderr: result.stderr };
  } finally {
    await server.close();
  }
}

test('a 500 with a 100 MB body leaves the host process RSS where a short error leaves it, and keeps the error text', async () => {
  const baseline = await runAgainst500(0);
  const huge = await runAgainst500(HUGE);
  const growth = huge.maxRssBytes - baseline.maxRssBytes;
  assert.ok(growth < RSS_GROWTH_LIMIT, `peak RSS ${mib(huge.maxRssBytes)} against ${mib(baseline.maxRssBytes)} with a short body: grew ${mib(growth)}`);

  for (const run of [baseline, huge]) {
    assert.equal(run.requests, ATTEMPTS, 'each attempt reached the server once');
    assert.equal(run.stats.retries, ATTEMPTS - 1);
    assert.equal(run.stats.sent, 0);
    assert.equal(run.stats.droppedSendFailed, SPANS);
    assert.equal(run.stats.rejected, 0, 'a 500 is a failure, not a refusal');
    assert.equal(run.stats.pending, 0);
    assert.match(run.stderr, new RegExp(`dropped ${SPANS} trace items after ${ATTEMPTS} attempts: /api/v1/traces answered 500: ${ERROR_LINE}`));
  }
  assert.match(String(huge.stats.lastError), new RegExp(`^/api/v1/traces answered 500: ${ERROR_LINE}x+…$`));
  assert.ok(Buffer.byteLength(String(huge.stats.lastError)) <= 1024);
});

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
