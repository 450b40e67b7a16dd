/**
 * `teracron/winston`: a winston transport that records through the app's running agent.
 *
 *   logger.add(new TeracronTransport());
 *
 * winston runs in the app's thread, so each log goes into the agent's ring like `log.info()`,
 * joined to the current span, and ships with the agent's batches; TERACRON_LOG_LEVEL applies
 * as well as the transport's own `level`. Without a running agent nothing is recorded, and
 * winston goes on as before. winston-transport is an optional peer dependency: winston brings it.
 */
import type TransportStream from 'winston-transport';
import { TeracronConfigError } from '../../errors';
import { recordLog } from '../log';
import { logState } from '../log-state';
import { levelIndexOf, messageOf, optionsOf } from './winston-info';
import type { WinstonInfo } from './winston-info';

export type TeracronTransportOptions = TransportStream.TransportStreamOptions;

const Base = loadTransportStream();

export class TeracronTransport extends Base {
  constructor(options?: TeracronTransportOptions) {
    super(options);
  }

  override log(info: WinstonInfo, callback: () => void): void {
    const level = levelIndexOf(info);
    // The cheap test first: no agent, or below its level, costs no mapping.
    if (logState.recorder !== null && level >= logState.minLevel) {
      try {
        recordLog(level, messageOf(info), optionsOf(info), TeracronTransport.prototype.log);
      } catch {
        // The app's log call never fails because of the agent.
      }
    }
    setImmediate(() => this.emit('logged', info));
    callback();
  }
}

function loadTransportStream(): typeof TransportStream {
  try {
    return require('winston-transport') as typeof TransportStream;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw cause;
    throw new TeracronConfigError(
      'teracron/winston needs winston-transport, which is not installed here: it is an optional peer dependency that winston itself depends on. Install it next to winston with `npm install winston winston-transport`.',
      { cause },
    );
  }
}
