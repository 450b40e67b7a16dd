/** `teracron/koa` with Koa 2 and @koa/router, with and without the preload. */
import { frameworkSuite } from './framework-suite';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

frameworkSuite('koa', 'Koa 2');
