/** The `teracron/express`, `teracron/fastify` and `teracron/koa` entries, as a user's require and import see them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from '../helpers/child';
import { repoRoot } from '../../support/repo-root';
import { teracronErrorHandler, teracronMiddleware } from '../../src/integrations/express';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

async function runScript(args: string[]): Promise<any> {
  // At the repository root `teracron/…` resolves to this package through its `exports`.
  const result = await runCommand(process.execPath, args, { env: { PATH: process.env.PATH }, cwd: repoRoot() });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

test('require() of the three entries gives exactly their exports and loads no framework', async () => {
  const out = await runScript([
    '-e',
    `const entries = { express: require('teracron/express'), fastify: require('teracron/fastify'), koa: require('teracron/koa') };
     const exports = Object.fromEntries(Object.entries(entries).map(([name, m]) => [name, Object.keys(m).sort()]));
     const frameworks = Object.keys(require.cache).filter((file) => /node_modules[\\\\/](express4?|fastify|koa|@koa|router)[\\\\/]/.test(file));
     const plugin = entries.fastify.teracronFastify;
     console.log(JSON.stringify({ exports, frameworks, skipOverride: plugin[Symbol.for('skip-override')], sameDefault: entries.fastify.default === plugin }));`,
  ]);
  assert.deepEqual(out.exports, {
    express: ['teracronErrorHandler', 'teracronMiddleware'],
    fastify: ['default', 'teracronFastify'],
    koa: ['teracronKoa'],
  });
  assert.deepEqual(out.frameworks, []);
  assert.equal(out.skipOverride, true);
  assert.equal(out.sameDefault, true);
});

test('import of the three entries shares the CommonJS instance; the default of teracron/fastify is the plugin', async () => {
  const out = await runScript([
    '--input-type=module',
    '-e',
    `import { createRequire } from 'node:module';
     import * as express from 'teracron/express';
     import teracronFastify, * as fastify from 'teracron/fastify';
     import * as koa from 'teracron/koa';
     const require = createRequire(process.cwd() + '/');
     console.log(JSON.stringify({
       express: Object.keys(express).sort(), fastify: Object.keys(fastify).sort(), koa: Object.keys(koa).sort(),
       shared: express.teracronMiddleware === require('teracron/express').teracronMiddleware && koa.teracronKoa === require('teracron/koa').teracronKoa,
       plugin: teracronFastify === require('teracron/fastify').teracronFastify,
     }));`,
  ]);
  assert.deepEqual(out.express, ['default', 'teracronErrorHandler', 'teracronMiddleware']);
  assert.deepEqual(out.fastify, ['default', 'teracronFastify']);
  assert.deepEqual(out.koa, ['default', 'teracronKoa']);
  assert.equal(out.shared, true);
  assert.equal(out.plugin, true);
});

test('the Express error handler declares four parameters, which is how Express recognises one', () => {
  assert.equal(teracronErrorHandler().length, 4);
  assert.equal(teracronMiddleware().length, 3);
});
