/** `teracron/fastify` with Fastify 5, with and without the preload. */
import { frameworkSuite } from './framework-suite';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(120_000);

frameworkSuite('fastify', 'Fastify 5');
