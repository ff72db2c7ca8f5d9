/** The audit log and the API keys on SQLite: small tables beside the library, kept apart from it here. */
import type Database from 'better-sqlite3';
import type { ApiKeyRecord, AuditEntry, AuditPage, NewAuditEntry, Page } from '../store.js';
import { type ApiKeySql, toApiKey } from '../sql-rows.js';

export class SqliteAccessRecords {
  private readonly sql;

  constructor(db: Database.Database) {
    this.sql = {
      appendAudit: db.prepare<[string, string, string, string]>(
        'INSERT INTO audit_log (at, actor, action, target) VALUES (?, ?, ?, ?)',
      ),
      countAudit: db.prepare<[], { total: number }>('SELECT count(*) AS total FROM audit_log'),
      pageAudit: db.prepare<[number, number], AuditEntry>(
        'SELECT id, at, actor, action, target FROM audit_log ORDER BY id LIMIT ? OFFSET ?',
      ),
      insertKey: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO api_keys (key_id, label, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      keyById: db.prepare<[string], ApiKeySql>('SELECT * FROM api_keys WHERE key_id = ?'),
      allKeys: db.prepare<[], ApiKeySql>('SELECT * FROM api_keys ORDER BY pk'),
      revokeKey: db.prepare<[string, string]>('UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL'),
    };
  }

  appendAudit(entry: NewAuditEntry): AuditEntry {
    const id = Number(this.sql.appendAudit.run(entry.at, entry.actor, entry.action, entry.target).lastInsertRowid);
    return { id, ...entry };
  }

  listAudit(page: Page): AuditPage {
    return { total: this.sql.countAudit.get()!.total, entries: this.sql.pageAudit.all(page.size, page.offset) };
  }

  createApiKey(key: ApiKeyRecord): void {
    this.sql.insertKey.run(key.keyId, key.label, JSON.stringify(key.scopes), key.secretHash, key.createdAt);
  }

  getApiKey(keyId: string): ApiKeyRecord | undefined {
    const row = this.sql.keyById.get(keyId);
    return row ? toApiKey(row) : undefined;
  }

  listApiKeys(): ApiKeyRecord[] {
    return this.sql.allKeys.all().map(toApiKey);
  }

  revokeApiKey(keyId: string, at: string): boolean {
    return this.sql.revokeKey.run(at, keyId).changes > 0;
  }
}
