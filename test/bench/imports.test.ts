/**
 * The benches depend on nothing under test/: their project, keys and collector come from
 * bench/project.ts and support/, so moving or changing a test fixture (the wire vectors above
 * all) cannot break `npm run bench`. This follows every relative import (import, export from,
 * require, import()) from each bench file through the files it reaches in bench/, support/ and
 * src/, and names the chain of any that ends under test/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../support/repo-root';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

/** The .ts file a relative specifier names, or the bare path when no such file exists. */
function resolveImport(fromFile: string, specifier: string): string {
  const target = resolve(dirname(fromFile), specifier);
  const candidates = [target, `${target}.ts`, target.replace(/\.js$/, '.ts'), join(target, 'index.ts')];
  return candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate)) ?? target;
}

function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.map((imported) => imported.fileName).filter((name) => name.startsWith('.'));
}

/** Every import chain, from a .ts file directly in `<root>/bench`, that reaches `<root>/test`. */
function benchImportsOfTest(root: string): string[] {
  const testDir = join(root, 'test') + sep;
  const chains: string[] = [];
  const entries = readdirSync(join(root, 'bench')).filter((name) => name.endsWith('.ts')).map((name) => join(root, 'bench', name));
  for (const entry of entries) {
    const seen = new Set<string>([entry]);
    const queue: string[][] = [[entry]];
    while (queue.length > 0) {
      const chain = queue.shift()!;
      const file = chain[chain.length - 1]!;
      for (const specifier of relativeImports(file)) {
        const target = resolveImport(file, specifier);
        if (target.startsWith(testDir)) {
          chains.push([...chain, target].map((path) => relative(root, path)).join(' → '));
        } else if (target.endsWith('.ts') && !seen.has(target)) {
          seen.add(target);
          queue.push([...chain, target]);
        }
      }
    }
  }
  return chains;
}

test('no bench file imports anything under test/, directly or through support/ and src/', { timeout: 60_000 }, () => {
  const chains = benchImportsOfTest(repoRoot());
  assert.deepEqual(chains, [], `benches must not depend on test/ (use bench/project.ts and support/ instead):\n${chains.join('\n')}`);
});

test('the check names the bench file and the whole chain when a bench reaches test/', { timeout: 60_000 }, (t) => {
  const root = mkdtempSync(join(tmpdir(), 'teracron-bench-imports-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const dir of ['bench', 'support', 'test/helpers']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'bench', 'direct.ts'), "import type { EnvelopeVectors } from '../test/helpers/vectors';\n");
  writeFileSync(join(root, 'bench', 'through.ts'), "import { here } from './local';\nexport const x = here;\n");
  writeFileSync(join(root, 'bench', 'local.ts'), "export { keys as here } from '../support/keys';\n");
  writeFileSync(join(root, 'bench', 'required.ts'), "const helpers = require('../test/helpers');\n");
  writeFileSync(join(root, 'bench', 'clean.ts'), "import { join } from 'node:path';\nimport { keys } from '../support/clean';\n");
  writeFileSync(join(root, 'support', 'keys.ts'), "export const keys = import('../test/helpers/vectors.js');\n");
  writeFileSync(join(root, 'support', 'clean.ts'), 'export const keys = 1;\n');
  writeFileSync(join(root, 'test', 'helpers', 'vectors.ts'), 'export interface EnvelopeVectors {}\n');

  assert.deepEqual(benchImportsOfTest(root).sort(), [
    'bench/direct.ts → test/helpers/vectors.ts',
    'bench/local.ts → support/keys.ts → test/helpers/vectors.ts',
    'bench/required.ts → test/helpers',
    'bench/through.ts → bench/local.ts → support/keys.ts → test/helpers/vectors.ts',
  ]);
});
