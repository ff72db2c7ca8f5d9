import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toApiKey, type ApiKeySql } from '../src/store/sql-rows.js';

const row = (scopes: ApiKeySql['scopes'], revokedAt: string | null = null): ApiKeySql => ({
  key_id: '0123456789abcdef',
  label: 'door 3',
  scopes,
  secret_hash: 'ab'.repeat(32),
  created_at: '2026-11-26T12:00:00.000Z',
  revoked_at: revokedAt,
});

test('an api_keys row maps to the same record from either store', () => {
  const expected = {
    keyId: '0123456789abcdef',
    label: 'door 3',
    scopes: ['read', 'admin'],
    secretHash: 'ab'.repeat(32),
    createdAt: '2026-11-26T12:00:00.000Z',
  };
  assert.deepEqual(toApiKey(row('["read","admin"]')), expected); // SQLite: JSON text
  assert.deepEqual(toApiKey(row(['read', 'admin'])), expected); // PostgreSQL: text[]
  assert.deepEqual(toApiKey(row(['read'], '2026-11-26T13:00:00.000Z')).revokedAt, '2026-11-26T13:00:00.000Z');
});

test('an api_keys row whose scopes are not a list of names is refused, not half-read', () => {
  assert.throws(() => toApiKey(row('"read"')), /not a list of names/);
  assert.throws(() => toApiKey(row('[1]')), /not a list of names/);
});
