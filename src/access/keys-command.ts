/**
 * `keys create|list|revoke`: API key management on the data directory (run beside a live server: SQLite
 * allows it, and a revocation takes effect on the server's next request). Creating and revoking are
 * audited with the operator's login as the actor.
 */
import { userInfo } from 'node:os';
import { AuditLog } from '../library/audit-log.js';
import type { Store } from '../store/store.js';
import { ApiKeys, isScope, SCOPES, type Scope } from './api-keys.js';

export const KEYS_USAGE = `usage:
  keys create [--label TEXT] [--scopes ${SCOPES.join(',')}]   prints the new key once (default scope: read)
  keys list                                                 id, scopes, label, created, revoked
  keys revoke KEY_ID`;

export class UsageError extends Error {}

function option(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

function parseScopes(text: string): Scope[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isScope(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`scopes must be among ${SCOPES.join(', ')} (got ${JSON.stringify(text)})`);
  }
  return names.filter(isScope);
}

const operator = (): string => `cli:${userInfo().username}`;

/** Runs one command; returns the lines to print. */
export async function runKeysCommand(store: Store, args: readonly string[]): Promise<string[]> {
  const keys = new ApiKeys(store);
  const audit = new AuditLog(store);
  const [command, ...rest] = args;
  switch (command) {
    case 'create': {
      const label = option(rest, '--label') ?? '';
      const scopes = parseScopes(option(rest, '--scopes') ?? 'read');
      const { key, record } = await keys.create(label, scopes);
      await audit.record(operator(), 'key.create', record.keyId);
      return [key, `key id ${record.keyId}, scopes ${record.scopes.join(',')} (shown once: store it now)`];
    }
    case 'list':
      return (await keys.list()).map((key) =>
        [key.keyId, key.scopes.join(','), JSON.stringify(key.label), key.createdAt, key.revokedAt ?? 'active'].join('\t'),
      );
    case 'revoke': {
      const keyId = rest[0];
      if (keyId === undefined) throw new UsageError('revoke needs a key id');
      if (!(await keys.revoke(keyId))) throw new UsageError(`no active key ${keyId}`);
      await audit.record(operator(), 'key.revoke', keyId);
      return [`revoked ${keyId}`];
    }
    default:
      throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  }
}
