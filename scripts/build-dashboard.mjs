// Builds the collector's dashboard into dist/dashboard: compiles dashboard/src for the browser
// with the repo's TypeScript, then copies the page, its styles and uPlot next to it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const out = join(root, 'dist', 'dashboard');
const uplot = join(root, 'node_modules', 'uplot', 'dist');

if (!existsSync(uplot)) {
  console.error('build-dashboard: node_modules/uplot is missing; run `npm install` (uplot is a devDependency)');
  process.exit(1);
}

// A clean directory, so a file removed from dashboard/ does not linger in what is served.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'dashboard', 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const file of ['index.html', 'styles.css', 'favicon.svg']) copyFileSync(join(root, 'dashboard', file), join(out, file));
for (const file of ['uPlot.esm.js', 'uPlot.min.css']) copyFileSync(join(uplot, file), join(out, file));
