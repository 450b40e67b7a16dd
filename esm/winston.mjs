// ESM entry of `teracron/winston`: the same CommonJS instance as `require('teracron/winston')`.
import winstonModule from '../dist/src/logs/winston/index.js';

export const { TeracronTransport } = winstonModule;
export default winstonModule;
