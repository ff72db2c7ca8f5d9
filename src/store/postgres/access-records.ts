/** The audit log and the API keys on PostgreSQL: small tables beside the library, kept apart from it here. */
import type pg from 'pg';
import type { ApiKeyRecord, AuditEntry, AuditPage, NewAuditEntry, Page } from '../store.js';
import { type ApiKeySql, toApiKey } from '../sql-rows.js';
import { inTransaction, queryPage } from './database.js';

export class PostgresAccessRecords {
  constructor(private readonly pool: pg.Pool) {}

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const { rows } = await this.pool.query<{ id: number }>(
      'INSERT INTO audit_log (at, actor, action, target) VALUES ($1, $2, $3, $4) RETURNING id',
      [entry.at, entry.actor, entry.action, entry.target],
    );
    return { id: rows[0]!.id, ...entry };
  }

  async listAudit(page: Page): Promise<AuditPage> {
    return inTransaction(
      this.pool,
      async (client) => {
        const { total, rows } = await queryPage<AuditEntry>(
          client,
          'SELECT count(*) AS total FROM audit_log',
          'SELECT id, at, actor, action, target FROM audit_log ORDER BY id',
          [],
          page,
        );
        return { total, entries: rows };
      },
      'read only',
    );
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_keys (key_id, label, scopes, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)',
      [key.keyId, key.label, key.scopes, key.secretHash, key.createdAt],
    );
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<ApiKeySql>('SELECT * FROM api_keys WHERE key_id = $1', [keyId]);
    return rows[0] ? toApiKey(rows[0]) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<ApiKeySql>('SELECT * FROM api_keys ORDER BY pk');
    return rows.map(toApiKey);
  }

  async revokeApiKey(keyId: string, at: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL',
      [at, keyId],
    );
    return rowCount !== 0;
  }
}
