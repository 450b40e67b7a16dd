// ESM entry of `teracron/koa`: the same CommonJS instance as `require('teracron/koa')`.
import koaModule from '../dist/src/integrations/koa.js';

export const { teracronKoa } = koaModule;
export default koaModule;
