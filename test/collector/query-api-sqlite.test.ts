/** The shared query-API suite (query-suite.ts) against a collector on SQLite, the default store. */
import { fileTimeout } from '../helpers/file-timeout';
import { defineQuerySuite } from './query-suite';

fileTimeout(120_000);

defineQuerySuite(() => 'sqlite');
