/**
 * Numbered PostgreSQL schema migrations, applied in order at open under a session advisory lock, so
 * replicas starting together migrate once. Each runs in its own transaction with its row in
 * `schema_migrations`. Never edit a released migration: append a new one.
 */
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { ADVISORY_LOCK } from './locks.js';

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'images, faces, groups, bindings, change log',
    sql: `
      CREATE TABLE images (
        pk          bigserial PRIMARY KEY,
        image_id    text NOT NULL UNIQUE,
        description text NOT NULL,
        format      text NOT NULL,
        bytes       bytea NOT NULL
      );
      -- bigserial: face ids follow registration order and are never reused after a deletion.
      CREATE TABLE faces (
        id          bigserial PRIMARY KEY,
        face_token  text NOT NULL UNIQUE,
        image_pk    bigint NOT NULL REFERENCES images(pk),
        name        text NOT NULL,
        gender      text NOT NULL,
        rect_left   double precision NOT NULL,
        rect_top    double precision NOT NULL,
        rect_right  double precision NOT NULL,
        rect_bottom double precision NOT NULL,
        model_id    text NOT NULL,
        embedding   bytea NOT NULL,
        crop        bytea NOT NULL
      );
      CREATE INDEX faces_by_image ON faces(image_pk);
      CREATE TABLE face_groups (
        pk          bigserial PRIMARY KEY,
        group_id    text NOT NULL UNIQUE,
        group_name  text NOT NULL,
        group_type  text NOT NULL,
        group_score integer NOT NULL
      );
      -- Empty names are allowed more than once (the default group's name is "").
      CREATE UNIQUE INDEX face_groups_by_name ON face_groups(group_name) WHERE group_name <> '';
      CREATE TABLE bindings (
        face_id  bigint NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        group_pk bigint NOT NULL REFERENCES face_groups(pk) ON DELETE CASCADE,
        -- binding order
        seq      bigserial NOT NULL,
        PRIMARY KEY (face_id, group_pk)
      );
      CREATE INDEX bindings_by_group ON bindings(group_pk, face_id);
      -- The outbox replicas follow. Rows are appended under one advisory lock held until commit, so
      -- seq order is commit order and a reader never skips a row that commits late.
      CREATE TABLE changes (
        seq        bigserial PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('face', 'group-emptied', 'wipe')),
        subject    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO face_groups (group_id, group_name, group_type, group_score) VALUES ('default', '', '', 80);
    `,
  },
  {
    version: 2,
    name: 'audit log and API keys',
    sql: `
      -- Timestamps as the ISO 8601 text the Store is given, so they read back unchanged.
      CREATE TABLE audit_log (
        id     bigserial PRIMARY KEY,
        at     text NOT NULL,
        actor  text NOT NULL,
        action text NOT NULL,
        target text NOT NULL
      );
      -- Only a hash of each secret is kept.
      CREATE TABLE api_keys (
        pk          bigserial PRIMARY KEY,
        key_id      text NOT NULL UNIQUE,
        label       text NOT NULL,
        scopes      text[] NOT NULL,
        secret_hash text NOT NULL,
        created_at  text NOT NULL,
        revoked_at  text
      );
    `,
  },
  {
    version: 3,
    name: 'staged embeddings by a new model',
    sql: `
      CREATE TABLE staged_embeddings (
        face_id   bigint NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        model_id  text NOT NULL,
        embedding bytea NOT NULL,
        PRIMARY KEY (face_id, model_id)
      );
    `,
  },
  {
    version: 4,
    name: 'compact vectors for the index',
    // Each face's compact record (sign code, int8 copy, scale: src/index/compact-codec.ts) of its current
    // embedding, in narrow rows written in the same transaction as the face: start-up reads ~0.6 KB a face
    // in blocks instead of the 2 KB embedding, and encodes nothing. Only JavaScript can encode, so a face
    // whose transaction commits without a record of its model (faces from before this migration, or written
    // by a replica of an older version during a rolling upgrade) is listed in compact_pending by a deferred
    // trigger; start-up encodes those on the way and replicas fill their records in at open.
    sql: `
      CREATE TABLE compact_vectors (
        face_id    bigint PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        face_token text NOT NULL,
        model_id   text NOT NULL,
        record     bytea NOT NULL
      );
      CREATE TABLE compact_pending (
        face_id bigint PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE
      );
      -- search_path FROM CURRENT: the tables of this schema, whatever the session that fires it has set.
      CREATE FUNCTION visage_compact_check() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO compact_pending (face_id)
        SELECT f.id FROM faces f
        WHERE f.id = NEW.id
          AND NOT EXISTS (SELECT 1 FROM compact_vectors c WHERE c.face_id = f.id AND c.model_id = f.model_id)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $$;
      -- At commit, when the face's final state is known (and a face deleted meanwhile is simply gone).
      CREATE CONSTRAINT TRIGGER faces_compact_check AFTER INSERT OR UPDATE OF model_id, embedding ON faces
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION visage_compact_check();
      INSERT INTO compact_pending (face_id) SELECT id FROM faces;
    `,
  },
];

/** Creates `schema` when given (the connection's search_path names it) and brings it up to date. */
export async function applyPostgresMigrations(
  client: PoolClient,
  schema: string | undefined,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK.migrations]);
  try {
    // Under the lock: two concurrent CREATE SCHEMA IF NOT EXISTS can still collide.
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    const latestApplied = rows.at(-1)?.version ?? 0;
    const latestKnown = migrations.at(-1)?.version ?? 0;
    if (latestApplied > latestKnown) {
      throw new Error(`database schema version ${latestApplied} is newer than this build (${latestKnown})`);
    }
    for (const migration of migrations) {
      if (migration.version <= latestApplied) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK.migrations]);
  }
}

/** The database's schema version, read without migrating it (`visage doctor`); applied 0 when none yet. */
export async function readPostgresSchemaVersion(client: pg.Client): Promise<{ applied: number; latest: number }> {
  const { rows } = await client.query<{ version: number | null }>(
    `SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN NULL
            ELSE (SELECT max(version) FROM schema_migrations) END AS version`,
  );
  return { applied: rows[0]?.version ?? 0, latest: POSTGRES_MIGRATIONS.at(-1)?.version ?? 0 };
}
