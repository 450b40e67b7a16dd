/** `teracron/fastify` with Fastify 5, with and without the preload. */
import { frameworkSuite } from './framework-suite';

frameworkSuite('fastify', 'Fastify 5');
