/** `teracron/koa` with Koa 2 and @koa/router, with and without the preload. */
import { frameworkSuite } from './framework-suite';

frameworkSuite('koa', 'Koa 2');
