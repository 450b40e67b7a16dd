// ESM entry of `teracron/fastify`. The default export is the plugin itself, so that
// `fastify.register(import('teracron/fastify'))` works as well as the named import.
import fastifyModule from '../dist/src/integrations/fastify.js';

export const { teracronFastify } = fastifyModule;
export default teracronFastify;
