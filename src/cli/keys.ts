/**
 * `visage keys create|list|revoke`: the API keys of the library (VISAGE_DATABASE_URL, else VISAGE_DATA).
 * Safe beside running servers: both stores allow it, and a revocation takes effect on their next request.
 * Creating and revoking are audited with `cli:<login>` as the actor.
 */
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { ApiKeys, isScope, SCOPES, type Scope } from '../access/api-keys.js';
import { AuditLog } from '../library/audit-log.js';
import { openConfiguredStore } from './cli-config.js';
import type { Store } from '../store/store.js';
import { CliError } from './cli-error.js';

export interface KeysCommandIo {
  /** Opens the store; the command closes it. */
  openStore(): Promise<Store>;
  print(line: string): void;
}

const DEFAULT_IO: KeysCommandIo = { openStore: () => openConfiguredStore({ poolSize: 1 }), print: (line) => console.log(line) };

function parseScopes(text: string): Scope[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0 || !names.every(isScope)) {
    throw new InvalidArgumentError(`scopes are a comma-separated list of ${SCOPES.join(', ')}`);
  }
  return names.filter(isScope);
}

const operator = (): string => `cli:${userInfo().username}`;

export function keysCommand(io: KeysCommandIo = DEFAULT_IO): Command {
  const withStore = async (work: (keys: ApiKeys, audit: AuditLog) => Promise<void>) => {
    const store = await io.openStore();
    try {
      await work(new ApiKeys(store), new AuditLog(store));
    } finally {
      await store.close();
    }
  };

  const keys = new Command('keys').description('API keys for VISAGE_AUTH=on (stored hashed with the library)');
  keys
    .command('create')
    .description('create a key and print it once')
    .option('--label <text>', 'what the key is for', '')
    .option('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`, parseScopes, ['read'] as Scope[])
    .action((options: { label: string; scopes: Scope[] }) =>
      withStore(async (apiKeys, audit) => {
        const { key, record } = await apiKeys.create(options.label, options.scopes);
        await audit.record(operator(), 'key.create', record.keyId);
        io.print(key);
        io.print(`key id ${record.keyId}, scopes ${record.scopes.join(',')}: shown once, store it now`);
      }),
    );
  keys
    .command('list')
    .description('id, scopes, label, created, revoked (never the secrets)')
    .action(() =>
      withStore(async (apiKeys) => {
        for (const key of await apiKeys.list()) {
          io.print([key.keyId, key.scopes.join(','), JSON.stringify(key.label), key.createdAt, key.revokedAt ?? 'active'].join('\t'));
        }
      }),
    );
  keys
    .command('revoke')
    .description('revoke a key by its id (the server refuses it from its next request on)')
    .argument('<keyId>')
    .action((keyId: string) =>
      withStore(async (apiKeys, audit) => {
        if (!(await apiKeys.revoke(keyId))) throw new CliError(`no active key ${keyId}`);
        await audit.record(operator(), 'key.revoke', keyId);
        io.print(`revoked ${keyId}`);
      }),
    );
  return keys;
}
