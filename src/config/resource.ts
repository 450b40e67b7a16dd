/** The `resource` a batch carries (SPEC §3): who sent it, from the config and the process. */
import { SDK_NAME, SDK_VERSION } from '../version';
import type { WireResource } from '../wire/batch-codec';
import type { TeracronConfig } from './resolve';

export function wireResource(config: Pick<TeracronConfig, 'service' | 'environment'>, pid: number, host: string): WireResource {
  return {
    service: config.service,
    environment: config.environment,
    host,
    pid,
    sdk: { name: SDK_NAME, version: SDK_VERSION },
    runtime: { name: 'node', version: process.versions.node },
  };
}
