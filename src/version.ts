import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read once from package.json (two levels up from dist/src). */
export const SDK_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export const SDK_NAME = 'teracron-node';

export const USER_AGENT = `${SDK_NAME}/${SDK_VERSION} node/${process.versions.node}`;
