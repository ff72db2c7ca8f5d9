/** The store the configuration asks for (one place to choose, for the server and the CLI alike). */
import type { VisageConfig } from '../config.js';
import { AtRestCipher } from './at-rest-cipher.js';
import type { SchemaVersion } from './sqlite/migrations.js';
import { inspectSqliteSchema, openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** False for tools that open the store beside a running server (see SqliteStoreOptions). */
  checkConsistency?: boolean;
}

export interface StoreSchema {
  /** Where the store is (a file path, a URL without its password). */
  location: string;
  /** Undefined when no store exists there yet (the first start creates it). */
  schema: SchemaVersion | undefined;
}

/** The configured store's schema version, read without migrating it (`visage doctor`). */
export async function inspectStoreSchema(config: Pick<VisageConfig, 'dataDir'>): Promise<StoreSchema> {
  return inspectSqliteSchema(config.dataDir);
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
