/**
 * The repository's root folder (the one holding package.json), found from the compiled file's
 * place, so that tests and benches find dist/, fixtures and the CLI wherever they are run from.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
