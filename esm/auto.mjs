// `node --import teracron/auto app.mjs`: the same CommonJS module as `-r teracron/auto`, so
// giving both flags loads it once.
import '../dist/src/auto.js';
