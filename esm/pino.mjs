// ESM entry of `teracron/pino`: the same CommonJS instance as `require('teracron/pino')`, so
// pinoMixin reads the spans of the agent that `import 'teracron'` started.
import pinoModule from '../dist/src/logs/pino/index.js';

export const { pinoMixin } = pinoModule;
export default pinoModule.default;
