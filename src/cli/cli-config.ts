/** The server's configuration (environment variables), as the command-line tools read it. */
import { ConfigError, loadConfig, type VisageConfig } from '../config.js';
import { openConfiguredStore as openStoreOf, type OpenStoreOptions } from '../store/open-store.js';
import { AtRestKeyError } from '../store/at-rest-cipher.js';
import type { Store } from '../store/store.js';
import { CliError } from './cli-error.js';

/** loadConfig, with a bad variable reported as a CliError (a message, no stack trace). */
export function loadCliConfig(): VisageConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * The configured store. No start-up sweep unless asked: a server may be running on it. A wrong or missing
 * at-rest key is reported as a CliError (a message, no stack trace).
 */
export async function openConfiguredStore(options: OpenStoreOptions = {}, config: VisageConfig = loadCliConfig()): Promise<Store> {
  try {
    return await openStoreOf(config, { checkConsistency: false, ...options });
  } catch (error) {
    if (error instanceof AtRestKeyError) throw new CliError(error.message);
    throw error;
  }
}
