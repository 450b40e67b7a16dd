// ESM entry of `teracron/express`: the same CommonJS instance as `require('teracron/express')`.
import expressModule from '../dist/src/integrations/express.js';

export const { teracronMiddleware, teracronErrorHandler } = expressModule;
export default expressModule;
