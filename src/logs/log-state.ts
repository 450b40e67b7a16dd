/**
 * Where logs go: the running client's recorder (null while none runs, which makes every log call
 * return false at once), the minimum level (TERACRON_LOG_LEVEL) and the scrubber. Apart from the
 * tracer's state, so that logs keep flowing with tracing turned off.
 */
import type { TracingScrubber } from '../config/options';
import { LOG_LEVELS } from '../wire/batch-codec';
import type { LogLevel } from '../wire/batch-codec';
import type { Recorder } from '../recorder/recorder';

export interface LogState {
  recorder: Recorder | null;
  /** Index into LOG_LEVELS: logs below it are not recorded. */
  minLevel: number;
  scrubber: TracingScrubber | undefined;
}

export const logState: LogState = { recorder: null, minLevel: 1, scrubber: undefined };

export function levelIndex(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

export function activateLogs(recorder: Recorder, minLevel: LogLevel, scrubber: TracingScrubber | undefined): void {
  logState.minLevel = levelIndex(minLevel);
  logState.scrubber = scrubber;
  logState.recorder = recorder;
}

export function deactivateLogs(recorder: Recorder): void {
  if (logState.recorder === recorder) logState.recorder = null;
}
