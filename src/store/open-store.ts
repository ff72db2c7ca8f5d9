/** The store the configuration asks for (one place to choose, for the server and the CLI alike). */
import type { VisageConfig } from '../config.js';
import pg from 'pg';
import { AtRestCipher, AtRestKeyError } from './at-rest-cipher.js';
import { configuredStoreLocation, describeStoreLocation, type StoreLocation } from './location.js';
import { clientConfig } from './postgres/database.js';
import { readPostgresSchemaVersion } from './postgres/migrations.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import type { SchemaVersion } from './sqlite/migrations.js';
import { inspectSqliteSchema, openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Total number of groups, `default` included. */
  groupLimit?: number;
  /** PostgreSQL connections in the pool. */
  poolSize?: number;
  /**
   * SQLite: the start-up consistency check (default true). False when a server may be running on the
   * same directory with a registration in flight (the command-line tools).
   */
  checkConsistency?: boolean;
  /** SQLite: encrypts embeddings, originals and crops at rest. */
  cipher?: AtRestCipher;
}

/** Opens the store a location names: PostgreSQL or SQLite. */
export function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.kind === 'postgres') {
    // The PostgreSQL store has no at-rest encryption yet: refuse rather than store plaintext silently.
    if (options.cipher) return Promise.reject(new AtRestKeyError(ENCRYPTION_UNSUPPORTED));
    return openPostgresStore({ url: location.url, groupLimit: options.groupLimit, poolSize: options.poolSize });
  }
  return openSqliteStore({
    dataDir: location.dataDir,
    groupLimit: options.groupLimit,
    checkConsistency: options.checkConsistency ?? true,
    ...(options.cipher ? { cipher: options.cipher } : {}),
  });
}

export const ENCRYPTION_UNSUPPORTED =
  'VISAGE_ENCRYPTION_KEY is not supported with VISAGE_DATABASE_URL yet: the PostgreSQL store does not encrypt at rest. Unset one of them.';

export interface StoreSchema {
  /** Where the store is (a file path, a URL without its password). */
  location: string;
  /** Undefined when no store exists there yet (the first start creates it). */
  schema: SchemaVersion | undefined;
}

/** The configured store's schema version, read without migrating it (`visage doctor`). */
export async function inspectStoreSchema(config: Pick<VisageConfig, 'dataDir' | 'databaseUrl'>): Promise<StoreSchema> {
  const location = configuredStoreLocation(config);
  if (location.kind === 'sqlite') return inspectSqliteSchema(location.dataDir);
  const client = new pg.Client(clientConfig({ url: location.url }));
  await client.connect();
  try {
    const schema = await readPostgresSchemaVersion(client);
    return { location: describeStoreLocation(location), schema: schema.applied === 0 ? undefined : schema };
  } finally {
    await client.end();
  }
}

export function openConfiguredStore(
  config: Pick<VisageConfig, 'dataDir' | 'groupLimit' | 'encryptionKey' | 'databaseUrl' | 'databasePoolSize'>,
  options: Pick<OpenStoreOptions, 'checkConsistency' | 'poolSize'> = {},
): Promise<Store> {
  return openStore(configuredStoreLocation(config), {
    groupLimit: config.groupLimit,
    poolSize: options.poolSize ?? config.databasePoolSize,
    checkConsistency: options.checkConsistency ?? true,
    ...(config.encryptionKey === undefined ? {} : { cipher: new AtRestCipher(config.encryptionKey) }),
  });
}
