/** The store the configuration asks for (one place to choose, for the server and the CLI alike). */
import type { VisageConfig } from '../config.js';
import { AtRestCipher } from './at-rest-cipher.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** False for tools that open the store beside a running server (see SqliteStoreOptions). */
  checkConsistency?: boolean;
}

export function openConfiguredStore(
  config: Pick<VisageConfig, 'dataDir' | 'groupLimit' | 'encryptionKey'>,
  options: OpenStoreOptions = {},
): Promise<Store> {
  return openSqliteStore({
    dataDir: config.dataDir,
    groupLimit: config.groupLimit,
    checkConsistency: options.checkConsistency ?? true,
    ...(config.encryptionKey === undefined ? {} : { cipher: new AtRestCipher(config.encryptionKey) }),
  });
}
