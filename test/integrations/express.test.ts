/** `teracron/express` with Express 5 and Express 4, with and without the preload. */
import { frameworkSuite } from './framework-suite';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

frameworkSuite('express', 'Express 5');
frameworkSuite('express4', 'Express 4');
