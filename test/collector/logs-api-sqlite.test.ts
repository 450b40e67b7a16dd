/** The shared logs-and-issues suite (logs-suite.ts) against a collector on SQLite, the default store. */
import { fileTimeout } from '../helpers/file-timeout';
import { defineLogsSuite } from './logs-suite';

fileTimeout(120_000);

defineLogsSuite(() => 'sqlite');
