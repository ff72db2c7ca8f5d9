/**
 * Whether this database is encrypted, and with which key: a value sealed with the key when encryption was
 * enabled is kept in `store_settings`. Opening checks it, so a wrong or missing key stops the start with a
 * clear message instead of failing on the first face read.
 */
import type Database from 'better-sqlite3';
import { AtRestKeyError, type AtRestCipher } from '../at-rest-cipher.js';

const CHECK_NAME = 'at_rest_key_check';
const CHECK_PLAINTEXT = Buffer.from('visage at-rest key check v1', 'utf8');

export function verifyAtRestKey(db: Database.Database, cipher: AtRestCipher | undefined): void {
  const row = db.prepare<[string], { value: Buffer }>('SELECT value FROM store_settings WHERE name = ?').get(CHECK_NAME);
  if (row !== undefined) {
    if (cipher === undefined) throw new AtRestKeyError('this data directory is encrypted: set VISAGE_ENCRYPTION_KEY to its key');
    let opened: Buffer;
    try {
      opened = cipher.open(row.value);
    } catch {
      throw new AtRestKeyError('VISAGE_ENCRYPTION_KEY is not the key this data directory was encrypted with');
    }
    if (!opened.equals(CHECK_PLAINTEXT)) throw new AtRestKeyError('the encryption key check of this data directory is damaged');
    return;
  }
  if (cipher === undefined) return;
  const { stored } = db.prepare<[], { stored: number }>('SELECT (SELECT count(*) FROM images) + (SELECT count(*) FROM faces) AS stored').get()!;
  if (stored > 0) {
    throw new AtRestKeyError('this data directory holds unencrypted faces: encryption at rest can only be turned on for a new data directory');
  }
  db.prepare<[string, Buffer]>('INSERT INTO store_settings (name, value) VALUES (?, ?)').run(CHECK_NAME, cipher.seal(CHECK_PLAINTEXT));
}
