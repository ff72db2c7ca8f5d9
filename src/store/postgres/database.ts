/**
 * Connections to PostgreSQL: the pool, the client settings every connection shares, and transactions
 * that retry when PostgreSQL aborts one to resolve a deadlock.
 */
import pg from 'pg';
import type { Page } from '../store.js';

export interface PostgresConnection {
  /** postgres://user:password@host:port/database (libpq-style query options allowed). */
  url: string;
  /** Tables live in this schema (created if missing) instead of the user's default `public`. */
  schema?: string;
  /** Connections in the pool. */
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;

/** bigint columns as JS numbers: ids and sequences stay far below 2^53. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (text: string) => Number(text) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function clientConfig(connection: PostgresConnection): pg.ClientConfig {
  const { schema } = connection;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  return {
    connectionString: connection.url,
    types,
    keepAlive: true,
    application_name: 'visage',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
}

export function createPool(connection: PostgresConnection): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(connection), max: connection.poolSize ?? 10 });
  // An idle connection that dies (server restart) is replaced on the next checkout; it must not crash us.
  pool.on('error', (error) => console.warn(`visage: idle PostgreSQL connection failed: ${error.message}`));
  return pool;
}

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;

/** The unique or foreign-key constraint a 23xxx error names. */
export const violatedConstraint = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'constraint' in error && typeof error.constraint === 'string'
    ? error.constraint
    : undefined;

export type TransactionMode = 'read write' | 'read only';

/**
 * Runs `work` in one transaction on one pooled connection. READ COMMITTED plus explicit row and
 * advisory locks; a read-only transaction is REPEATABLE READ, so its several queries see one snapshot.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  mode: TransactionMode = 'read write',
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(mode === 'read only' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection itself failed: do not return it to the pool
      }
      if (attempt < 5 && RETRYABLE.has(sqlState(error) ?? '')) continue;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * One page of `rowsSql` (ORDER BY included; LIMIT and OFFSET are added here) and the count of all its rows by
 * `countSql`; both take `params`. Run it in a read-only transaction so the count and the page agree.
 */
export async function queryPage<Row extends pg.QueryResultRow>(
  client: pg.ClientBase,
  countSql: string,
  rowsSql: string,
  params: unknown[],
  page: Page,
): Promise<{ total: number; rows: Row[] }> {
  const total = await client.query<{ total: number }>(countSql, params);
  const limit = params.length + 1;
  const { rows } = await client.query<Row>(`${rowsSql} LIMIT $${limit} OFFSET $${limit + 1}`, [...params, page.size, page.offset]);
  return { total: total.rows[0]!.total, rows };
}
