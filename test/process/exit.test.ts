/**
 * The addon and process exit: a Node process that exits while a worker thread is inside an addon
 * call must keep its exit code. Built without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, an addon
 * that throws (or whose napi calls fail) in a thread being torn down aborts the whole process
 * (SIGABRT, "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"), which the agent's worker
 * did now and then when an application ended while it was taking a sample.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixturePath, runNode } from '../helpers/child';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

test('a process that exits while a worker thread is reading through the addon ends with its own exit code', async () => {
  for (let run = 0; run < 5; run++) {
    const result = await runNode([fixturePath('exit-during-native-read')], {}, 30_000);
    assert.equal(result.signal, null, `run ${run}: killed by ${result.signal}: ${result.stderr.slice(0, 400)}`);
    assert.equal(result.code, 0, `run ${run}: ${result.stderr.slice(0, 400)}`);
  }
});
