// ESM entry of `teracron/process`: the same CommonJS instance, so the reader is chosen once.
import processModule from '../dist/src/process/index.js';

export const {
  readProcess,
  listChildren,
  processReader,
  TeracronProcessError,
  ProcessNotFoundError,
  ProcessAccessError,
} = processModule;
export default processModule;
