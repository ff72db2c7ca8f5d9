/**
 * PostgreSQL for tests: the URL comes from VISAGE_TEST_DATABASE_URL (scripts/pg-test-cluster.sh sets
 * it, and .ci/run uses that script). Without it the PostgreSQL tests are skipped with a message saying
 * how to run them. Each store gets a schema of its own, dropped when the test file ends.
 */
import { after } from 'node:test';
import pg from 'pg';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';

export const testDatabaseUrl: string | undefined = process.env.VISAGE_TEST_DATABASE_URL || undefined;

export const SKIP_WITHOUT_POSTGRES =
  testDatabaseUrl === undefined
    ? 'VISAGE_TEST_DATABASE_URL is not set: run `scripts/pg-test-cluster.sh npm test` to include the PostgreSQL tests'
    : false;

const createdSchemas: string[] = [];
const createdDatabases: string[] = [];
let counter = 0;

/** A fresh, unused schema name; dropped after the test file. */
export function freshSchema(prefix = 'visage_test'): string {
  const schema = `${prefix}_${process.pid}_${++counter}`;
  createdSchemas.push(schema);
  return schema;
}

export async function openTestPostgresStore(options: Partial<PostgresStoreOptions> = {}): Promise<Store> {
  if (testDatabaseUrl === undefined) throw new Error(String(SKIP_WITHOUT_POSTGRES));
  return openPostgresStore({ url: testDatabaseUrl, schema: options.schema ?? freshSchema(), poolSize: 4, ...options });
}

/** A query on a short-lived connection to the test database (`schema` first in the search path). */
export async function adminQuery<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = [], url = testDatabaseUrl): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A new empty database (servers take a URL, not a schema); its URL. Dropped after the test file. */
export async function freshDatabase(): Promise<string> {
  if (testDatabaseUrl === undefined) throw new Error(String(SKIP_WITHOUT_POSTGRES));
  const name = `visage_test_${process.pid}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  createdDatabases.push(name);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

after(async () => {
  if (testDatabaseUrl === undefined) return;
  for (const schema of createdSchemas.splice(0)) await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  for (const name of createdDatabases.splice(0)) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});
