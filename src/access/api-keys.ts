/**
 * API keys: `vsg_<keyId>_<secret>`. The keyId (16 hex digits) is public and names the key in the audit
 * log; the secret is 32 random bytes (256 bits), so a plain SHA-256 of it is a safe thing to store: nobody
 * can guess their way back from the hash, and checking a key costs microseconds (no scrypt needed).
 * Only the hash is stored; the full key is shown once, when it is created.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, Store } from '../store/store.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const KEY_FORMAT = /^vsg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface CreatedApiKey {
  /** The full key: give it to the client; it cannot be recovered later. */
  key: string;
  record: ApiKeyRecord;
}

/** A valid key as the HTTP edge sees it. */
export interface AuthenticatedKey {
  keyId: string;
  scopes: ReadonlySet<Scope>;
}

const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export const isScope = (name: string): name is Scope => (SCOPES as readonly string[]).includes(name);

export class ApiKeys {
  constructor(private readonly store: Store) {}

  async create(label: string, scopes: readonly Scope[], now = new Date()): Promise<CreatedApiKey> {
    if (scopes.length === 0) throw new Error('a key needs at least one scope');
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      keyId,
      label,
      scopes: [...new Set(scopes)],
      secretHash: hashSecret(secret),
      createdAt: now.toISOString(),
    };
    await this.store.createApiKey(record);
    return { key: `vsg_${keyId}_${secret}`, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }

  revoke(keyId: string, now = new Date()): Promise<boolean> {
    return this.store.revokeApiKey(keyId, now.toISOString());
  }

  /** The key's id and scopes when `presented` is a valid, unrevoked key; undefined otherwise. */
  async authenticate(presented: string): Promise<AuthenticatedKey | undefined> {
    const match = KEY_FORMAT.exec(presented);
    if (!match) return undefined;
    const [, keyId, secret] = match as unknown as [string, string, string];
    const record = await this.store.getApiKey(keyId);
    if (!record || record.revokedAt !== undefined) return undefined;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = Buffer.from(hashSecret(secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return { keyId, scopes: new Set(record.scopes.filter(isScope)) };
  }
}
