#!/usr/bin/env node
/** The `teracron-agent` executable: the sidecar, the same as `teracron agent`. */
import { writeSync } from 'node:fs';
import { run } from './agent';

run(['agent', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    writeSync(2, `teracron-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
