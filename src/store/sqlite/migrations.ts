/**
 * Numbered schema migrations, applied in order at open; each runs in its own transaction together with
 * its row in `migrations`. Never edit a released migration: append a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'images, faces, groups, bindings',
    sql: `
      CREATE TABLE images (
        pk          INTEGER PRIMARY KEY,
        image_id    TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        format      TEXT NOT NULL,
        file        TEXT NOT NULL
      );
      -- AUTOINCREMENT: face ids follow registration order and are never reused after a deletion.
      CREATE TABLE faces (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        face_token  TEXT NOT NULL UNIQUE,
        image_pk    INTEGER NOT NULL REFERENCES images(pk),
        name        TEXT NOT NULL,
        gender      TEXT NOT NULL,
        rect_left   REAL NOT NULL,
        rect_top    REAL NOT NULL,
        rect_right  REAL NOT NULL,
        rect_bottom REAL NOT NULL,
        model_id    TEXT NOT NULL,
        embedding   BLOB NOT NULL,
        crop_file   TEXT NOT NULL
      );
      CREATE INDEX faces_by_image ON faces(image_pk);
      CREATE TABLE face_groups (
        pk          INTEGER PRIMARY KEY,
        group_id    TEXT NOT NULL UNIQUE,
        group_name  TEXT NOT NULL,
        group_type  TEXT NOT NULL,
        group_score INTEGER NOT NULL
      );
      -- Empty names are allowed more than once (the default group's name is "").
      CREATE UNIQUE INDEX face_groups_by_name ON face_groups(group_name) WHERE group_name <> '';
      -- The implicit rowid gives the binding order.
      CREATE TABLE bindings (
        face_id  INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        group_pk INTEGER NOT NULL REFERENCES face_groups(pk) ON DELETE CASCADE,
        PRIMARY KEY (face_id, group_pk)
      );
      CREATE INDEX bindings_by_group ON bindings(group_pk, face_id);
    `,
  },
  {
    version: 2,
    name: 'built-in default group',
    sql: `INSERT INTO face_groups (group_id, group_name, group_type, group_score) VALUES ('default', '', '', 80);`,
  },
  {
    version: 3,
    name: 'audit log and API keys',
    sql: `
      CREATE TABLE audit_log (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
      );
      -- Only a hash of each secret is kept; scopes as a JSON array.
      CREATE TABLE api_keys (
        pk          INTEGER PRIMARY KEY,
        key_id      TEXT NOT NULL UNIQUE,
        label       TEXT NOT NULL,
        scopes      TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT
      );
    `,
  },
  {
    version: 4,
    name: 'staged embeddings by a new model',
    sql: `
      CREATE TABLE staged_embeddings (
        face_id   INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        model_id  TEXT NOT NULL,
        embedding BLOB NOT NULL,
        PRIMARY KEY (face_id, model_id)
      );
    `,
  },
  {
    version: 5,
    name: 'store settings (encryption key check)',
    sql: `CREATE TABLE store_settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);`,
  },
  {
    version: 6,
    name: 'crop files indexed',
    // The start-up sweep lists every crop file: from this covering index instead of the wide face rows
    // (one 2 KB embedding each), 1 M faces are listed in under a second instead of reading 4 GB.
    sql: `CREATE INDEX faces_by_crop_file ON faces(crop_file);`,
  },
  {
    version: 7,
    name: 'compact vectors for the index',
    // Each face's compact record (sign code, int8 copy, scale: src/index/compact-codec.ts) of its current
    // embedding, in narrow rows: start-up reads ~0.6 KB a face instead of the 4 KB page of its face row.
    // Written in the same transaction as the face; rows existing before are filled in once at the next open.
    // Faces counted by model from an index, too (model coverage is checked at every start).
    sql: `
      CREATE TABLE compact_vectors (
        face_id    INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        face_token TEXT NOT NULL,
        model_id   TEXT NOT NULL,
        record     BLOB NOT NULL
      );
      CREATE INDEX faces_by_model ON faces(model_id);
      INSERT INTO store_settings (name, value) VALUES ('compact vectors pending', x'');
    `,
  },
  {
    version: 8,
    name: 'compact vectors in their own file',
    // Growing in the same transactions as the faces, compact_vectors' pages lay scattered over the whole file
    // (684 MB over 5 GB at 1 M faces): a start-up with a cold page cache read all of it. They move to
    // visage-vectors.db (sqlite-store.ts), filled at the next open from the embeddings because its generation
    // cannot match this one.
    sql: `
      DROP TABLE compact_vectors;
      DELETE FROM store_settings WHERE name = 'compact vectors pending';
      CREATE TABLE vectors_generation (value INTEGER NOT NULL);
      -- A random start: a vectors file of another library does not match by chance.
      INSERT INTO vectors_generation (value) VALUES (abs(random() % 281474976710656));
    `,
  },
  {
    version: 9,
    name: 'original files indexed',
    // The start-up check re-verifies, in the write queue, each file its listing found unreferenced: one
    // indexed lookup by name (crops have faces_by_crop_file, migration 6), not a scan of the images.
    sql: `CREATE INDEX images_by_file ON images(file);`,
  },
];

export interface SchemaVersion {
  /** The latest migration applied to the database (0: none). */
  applied: number;
  /** The latest migration this build knows. */
  latest: number;
}

/** The schema version of an existing database, read without changing it (`visage doctor`). */
export function readSchemaVersion(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): SchemaVersion {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").get();
  const row = table ? db.prepare<[], { version: number | null }>('SELECT max(version) AS version FROM migrations').get() : undefined;
  return { applied: row?.version ?? 0, latest: migrations.at(-1)?.version ?? 0 };
}

export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  db.exec(`CREATE TABLE IF NOT EXISTS migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = db.prepare<[], { version: number }>('SELECT version FROM migrations ORDER BY version').all();
  const latestApplied = applied.at(-1)?.version ?? 0;
  const latestKnown = migrations.at(-1)?.version ?? 0;
  if (latestApplied > latestKnown) {
    throw new Error(`database schema version ${latestApplied} is newer than this build (${latestKnown})`);
  }
  const record = db.prepare<[number, string, string]>('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    if (migration.version <= latestApplied) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}
