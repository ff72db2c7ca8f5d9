/**
 * Where the library lives, written as one string: `postgres://…` / `postgresql://…` (a database several
 * replicas share) or `sqlite:DIR` (a data directory). The server's VISAGE_DATABASE_URL and the
 * migrate-store command read the same syntax.
 */
import { resolve } from 'node:path';

export type StoreLocation = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; url: string };

export const isPostgresUrl = (text: string): boolean => {
  if (!/^postgres(ql)?:\/\/./.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
};

/** Throws an Error saying what is expected. */
export function parseStoreLocation(text: string): StoreLocation {
  if (isPostgresUrl(text)) return { kind: 'postgres', url: text };
  const sqlite = /^sqlite:(.+)$/.exec(text);
  if (sqlite) return { kind: 'sqlite', dataDir: resolve(sqlite[1]!) };
  throw new Error('expected postgres://user:password@host:port/database or sqlite:DIRECTORY');
}

/** Where the server's configuration puts the library: VISAGE_DATABASE_URL when set, else VISAGE_DATA. */
export const configuredStoreLocation = (config: { databaseUrl: string | undefined; dataDir: string }): StoreLocation =>
  config.databaseUrl === undefined ? { kind: 'sqlite', dataDir: config.dataDir } : { kind: 'postgres', url: config.databaseUrl };

/** A location for messages: the password of a URL is masked. */
export function describeStoreLocation(location: StoreLocation): string {
  if (location.kind === 'sqlite') return `sqlite:${location.dataDir}`;
  const url = new URL(location.url);
  if (url.password) url.password = '***';
  return url.toString();
}
