/** The server's configuration (environment variables), as the command-line tools read it. */
import { ConfigError, loadConfig, type VisageConfig } from '../config.js';
import { openConfiguredStore as openStoreOf, type OpenStoreOptions } from '../store/open-store.js';
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

/** The configured store. No start-up sweep unless asked: a server may be running on it. */
export function openConfiguredStore(options: OpenStoreOptions = {}): Promise<Store> {
  return openStoreOf(loadCliConfig(), { checkConsistency: false, ...options });
}
