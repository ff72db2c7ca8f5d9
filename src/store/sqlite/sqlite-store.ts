/**
 * Store on SQLite (better-sqlite3, WAL) plus blob files for originals and crops.
 *
 * better-sqlite3 is synchronous, so every transaction below runs to completion without interleaving
 * inside this process; `.immediate()` takes the write lock up front so checks and writes stay atomic
 * against other processes too. File writes happen before the commit, file removals after it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { VisageError } from '../../errors.js';
import type { ImageFormat } from '../../vision/types.js';
import type {
  ApiKeyRecord,
  AuditEntry,
  AuditPage,
  BindingChange,
  CompactVectorBatch,
  ExportedFace,
  ExportedImage,
  FaceRecord,
  FileCheck,
  FaceRow,
  GroupDeletionMode,
  GroupRecord,
  GroupUpdate,
  GroupWithCount,
  ImageRecord,
  NewFace,
  NewRegistration,
  NewAuditEntry,
  NewImage,
  ModelCoverage,
  Page,
  ReembedTarget,
  RemovedFaces,
  RestoredFace,
  RowPage,
  Store,
  StoredVector,
  ExclusiveSection,
} from '../store.js';
import { encodeCompact } from '../../index/compact-codec.js';
import { compactBatches } from '../compact-batches.js';
import { bytesToEmbedding, embeddingToBytes } from '../embedding-bytes.js';
import { FACE_ROW_COLUMNS, toFaceRow, toGroupRecord, toRect, type FaceRowSql, type GroupSql, type RectSql } from '../sql-rows.js';
import { DEFAULT_GROUP_ID, DEFAULT_GROUP_LIMIT, registerOne } from '../store.js';
import { PLAINTEXT, type AtRestCipher, type BytesCodec } from '../at-rest-cipher.js';
import { BLOB_KINDS, BlobFiles, type BlobKind } from './blob-files.js';
import { SqliteAccessRecords } from './access-records.js';
import { verifyAtRestKey } from './at-rest-check.js';
import { applyMigrations, readSchemaVersion, type SchemaVersion } from './migrations.js';

export interface SqliteStoreOptions {
  /** Holds visage.db and the originals/ and crops/ directories. */
  dataDir: string;
  /** Total number of groups, `default` included. */
  groupLimit?: number;
  /** Faces per batch when streaming vectors. */
  streamBatchSize?: number;
  /**
   * Run the start-up consistency check (default true). Off for tools that open the store beside a running
   * server, whose in-flight registration files would look like orphans.
   */
  checkConsistency?: boolean;
  /** Encrypts embeddings, originals and crops at rest; a data directory is encrypted from its creation. */
  cipher?: AtRestCipher;
}


interface FaceDetailSql extends FaceRowSql, RectSql {
  model_id: string;
  embedding: Buffer;
  crop_file: string;
}

interface DoomedFaceSql {
  id: number;
  face_token: string;
  crop_file: string;
  image_pk: number;
}


/** What the start-up consistency check repaired. */
export interface ConsistencyReport {
  /** Files no row referenced, temp files and strays: swept. */
  orphanFiles: number;
  facesWithoutCrop: number;
  imagesWithoutOriginal: number;
  /** The faces it deleted (their crop or original was gone): an index loaded before must drop them. */
  removedFaceTokens: string[];
}

/** Files to unlink once the transaction that stopped referencing them has committed. */
interface Unreferenced {
  originals: string[];
  crops: string[];
}


interface CompactBlockSql {
  count: number;
  last_id: number | null;
  /** Comma-separated (face tokens are 24 letters and digits). */
  tokens: string | null;
  /** Each face's group pks comma-separated, faces separated by semicolons. */
  groups: string | null;
  records: Buffer | null;
  min_bytes: number | null;
  max_bytes: number | null;
}

interface VectorSql {
  id: number;
  face_token: string;
  model_id: string | null;
  embedding: Buffer;
}

/** File names read per statement by the file check (~1 ms); one read of a million held the event loop for seconds. */
const FILE_NAME_BATCH = 1_000;

/**
 * Visits every file name a keyset-paged statement lists, a batch at a time with a turn of the event loop
 * between batches. Not one snapshot: writes may commit between batches, so a name added or removed meanwhile
 * may be seen or not (the file check re-verifies whatever it would act on).
 */
async function forEachName<Key extends number | string>(
  statement: Database.Statement<[Key, number], { after: Key; file: string }>,
  first: Key,
  visit: (name: string) => void,
): Promise<void> {
  for (let after = first; ; ) {
    const batch = statement.all(after, FILE_NAME_BATCH);
    for (const row of batch) visit(row.file);
    if (batch.length < FILE_NAME_BATCH) return;
    after = batch.at(-1)!.after;
    await nextTurn();
  }
}

/** Where the files and the rows disagree, per kind of file. */
type FileDiscrepancies = Record<
  BlobKind,
  {
    /** Blob names no row references. */
    unreferenced: string[];
    /** Other paths under the kind's directory (temp files, strays): no row ever references them. */
    strays: string[];
    /** Names rows reference whose file is absent. */
    missing: string[];
  }
>;

const noDiscrepancies = (): FileDiscrepancies => ({
  originals: { unreferenced: [], strays: [], missing: [] },
  crops: { unreferenced: [], strays: [], missing: [] },
});

const databasePath = (dataDir: string) => join(dataDir, 'visage.db');
/** What start-up reads (compact records, models, group pks), in a file of its own: start-up reads it whole. */
const vectorsPath = (dataDir: string) => join(dataDir, 'visage-vectors.db');

/** The schema version of the database in `dataDir` without opening it for writing; undefined if there is none. */
export function inspectSqliteSchema(dataDir: string): { location: string; schema: SchemaVersion | undefined } {
  const location = databasePath(dataDir);
  if (!existsSync(location)) return { location, schema: undefined };
  const db = new Database(location, { readonly: true, fileMustExist: true });
  try {
    return { location, schema: readSchemaVersion(db) };
  } finally {
    db.close();
  }
}

/** Opens (creating if needed) the store in `dataDir`, migrates it and sweeps files no row references. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  mkdirSync(options.dataDir, { recursive: true });
  const db = new Database(databasePath(options.dataDir));
  try {
    db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: files are unlinked right after a commit, so a commit must survive power loss.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Deleted rows are overwritten with zeros, not left in free pages: "delete" removes the biometric data.
    db.pragma('secure_delete = ON');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db);
    verifyAtRestKey(db, options.cipher);
    attachVectors(db, options.dataDir);
    const store = new SqliteStore(db, new BlobFiles(options.dataDir, options.cipher), options);
    store.syncVectors();
    keepVectorsInStep(db);
    if (options.checkConsistency ?? true) await store.checkConsistency();
    return store;
  } catch (error) {
    db.close();
    throw error;
  }
}




/**
 * visage-vectors.db, attached as `vectors`: all that start-up reads (each face's compact record, model and group
 * pks) in a file of its own, so that a start-up with a cold page cache reads ~0.7 GB laid end to end instead of
 * pages scattered over the whole 5 GB library (1 M faces). Written in the same transactions as visage.db, but
 * SQLite in WAL mode commits attached files one after the other, not atomically: a crash between the two
 * commits is told by `vectors_generation` (main) and `generation` (here), bumped together by every change of
 * a row here, and repaired at open.
 */
function attachVectors(db: Database.Database, dataDir: string): void {
  db.prepare('ATTACH DATABASE ? AS vectors').run(vectorsPath(dataDir));
  db.pragma('vectors.journal_mode = WAL');
  // NORMAL, not FULL: a power loss may take its last commits, but then its generation is behind visage.db's
  // and the open rebuilds it; so the registrations' commits wait for one fsync, visage.db's, not two.
  db.pragma('vectors.synchronous = NORMAL');
  db.pragma('vectors.secure_delete = ON');
  db.exec(`
    CREATE TABLE IF NOT EXISTS vectors.compact_vectors (
      face_id    INTEGER PRIMARY KEY,
      face_token TEXT NOT NULL,
      model_id   TEXT NOT NULL,
      record     BLOB NOT NULL,
      -- The face's bindings (group pks, comma-separated; NULL: none), a copy kept by the triggers.
      group_pks  TEXT
    );
    -- Model coverage is counted at every start: from here too, not from visage.db's scattered index.
    CREATE INDEX IF NOT EXISTS vectors.compact_by_model ON compact_vectors(model_id);
    -- One row once filled; until then no generation matches.
    CREATE TABLE IF NOT EXISTS vectors.generation (value INTEGER NOT NULL);
  `);
}

/** A face's group pks as visage-vectors.db keeps them (`face` names its id). */
const groupPksOf = (face: string) => `(SELECT group_concat(group_pk) FROM main.bindings WHERE face_id = ${face})`;

/**
 * This connection's triggers (TEMP: the only ones that may span two files): a deleted face takes its compact
 * record along, a binding change (cascades included) updates the face's group pks, and every change of a row
 * of visage-vectors.db bumps both generations in the same transaction, so they differ exactly when one file
 * committed without the other.
 */
function keepVectorsInStep(db: Database.Database): void {
  const bump = 'UPDATE main.vectors_generation SET value = value + 1; UPDATE vectors.generation SET value = value + 1;';
  const regroup = (face: string) => `UPDATE vectors.compact_vectors SET group_pks = ${groupPksOf(face)} WHERE face_id = ${face};`;
  db.exec(`
    CREATE TEMP TRIGGER compact_of_deleted_face AFTER DELETE ON main.faces
      BEGIN DELETE FROM vectors.compact_vectors WHERE face_id = old.id; END;
    CREATE TEMP TRIGGER compact_bound AFTER INSERT ON main.bindings BEGIN ${regroup('new.face_id')} END;
    CREATE TEMP TRIGGER compact_unbound AFTER DELETE ON main.bindings BEGIN ${regroup('old.face_id')} END;
    CREATE TEMP TRIGGER compact_inserted AFTER INSERT ON vectors.compact_vectors BEGIN ${bump} END;
    CREATE TEMP TRIGGER compact_updated AFTER UPDATE ON vectors.compact_vectors BEGIN ${bump} END;
    CREATE TEMP TRIGGER compact_deleted AFTER DELETE ON vectors.compact_vectors BEGIN ${bump} END;
  `);
}

function prepareStatements(db: Database.Database) {
  return {
    imageFileByPk: db.prepare<[number], { file: string }>('SELECT file FROM images WHERE pk = ?'),
    imagePkById: db.prepare<[string], { pk: number; file: string; description: string; format: ImageFormat }>(
      'SELECT pk, file, description, format FROM images WHERE image_id = ?',
    ),
    insertImage: db.prepare<[string, string, string, string]>(
      'INSERT INTO images (image_id, description, format, file) VALUES (?, ?, ?, ?)',
    ),
    // id NULL: the next id (AUTOINCREMENT); a restore passes the exported one.
    insertFace: db.prepare<[number | null, string, number, string, string, number, number, number, number, string, Buffer, string]>(
      `INSERT INTO faces (id, face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom,
                          model_id, embedding, crop_file)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    faceById: db.prepare<[number], { id: number }>('SELECT id FROM faces WHERE id = ?'),
    imageIdBatch: db.prepare<[number, number], { pk: number; image_id: string }>(
      'SELECT pk, image_id FROM images WHERE pk > ? ORDER BY pk LIMIT ?',
    ),
    insertBinding: db.prepare<[number, number]>('INSERT OR IGNORE INTO bindings (face_id, group_pk) VALUES (?, ?)'),
    deleteBinding: db.prepare<[number, number]>('DELETE FROM bindings WHERE face_id = ? AND group_pk = ?'),
    countFaces: db.prepare<[], { total: number }>('SELECT count(*) AS total FROM faces'),
    pageFaces: db.prepare<[number, number], FaceRowSql>(
      `SELECT ${FACE_ROW_COLUMNS} FROM faces f JOIN images i ON i.pk = f.image_pk ORDER BY f.id LIMIT ? OFFSET ?`,
    ),
    faceByToken: db.prepare<[string], FaceDetailSql>(
      `SELECT ${FACE_ROW_COLUMNS}, f.rect_left, f.rect_top, f.rect_right, f.rect_bottom, f.model_id, f.embedding,
              f.crop_file
       FROM faces f JOIN images i ON i.pk = f.image_pk WHERE f.face_token = ?`,
    ),
    faceIdByToken: db.prepare<[string], { id: number; crop_file: string }>(
      'SELECT id, crop_file FROM faces WHERE face_token = ?',
    ),
    groupIdsOfFace: db.prepare<[number], { group_id: string }>(
      `SELECT g.group_id FROM bindings b JOIN face_groups g ON g.pk = b.group_pk
       WHERE b.face_id = ? ORDER BY b.rowid`,
    ),
    facesOfImage: db.prepare<[number], DoomedFaceSql>(
      'SELECT id, face_token, crop_file, image_pk FROM faces WHERE image_pk = ? ORDER BY id',
    ),
    countFacesOfImage: db.prepare<[number], { total: number }>(
      'SELECT count(*) AS total FROM faces WHERE image_pk = ?',
    ),
    deleteFace: db.prepare<[number]>('DELETE FROM faces WHERE id = ?'),
    deleteImage: db.prepare<[number]>('DELETE FROM images WHERE pk = ?'),
    allOriginalFiles: db.prepare<[], { file: string }>('SELECT file FROM images'),
    allCropFiles: db.prepare<[], { file: string }>('SELECT crop_file AS file FROM faces'),
    // The file check's re-verification, one name at a time: faces_by_crop_file (migration 6), images_by_file (9).
    cropFileReferenced: db.prepare<[string], 1>('SELECT 1 FROM faces WHERE crop_file = ? LIMIT 1').pluck(),
    originalFileReferenced: db.prepare<[string], 1>('SELECT 1 FROM images WHERE file = ? LIMIT 1').pluck(),
    facesByCropFile: db.prepare<[string], DoomedFaceSql>('SELECT id, face_token, crop_file, image_pk FROM faces WHERE crop_file = ?'),
    imagesByFile: db.prepare<[string], { pk: number }>('SELECT pk FROM images WHERE file = ?'),
    // Keyset pages: images by pk (narrow rows); faces by crop file name, read from the covering index
    // faces_by_crop_file (paging by id would read every face's wide row, embedding included).
    originalFilesAfter: db.prepare<[number, number], { after: number; file: string }>(
      'SELECT pk AS after, file FROM images WHERE pk > ? ORDER BY pk LIMIT ?',
    ),
    cropFilesAfter: db.prepare<[string, number], { after: string; file: string }>(
      'SELECT crop_file AS after, crop_file AS file FROM faces WHERE crop_file > ? ORDER BY crop_file LIMIT ?',
    ),
    listGroups: db.prepare<[], GroupSql & { face_count: number }>(
      `SELECT g.*, (SELECT count(*) FROM bindings b WHERE b.group_pk = g.pk) AS face_count
       FROM face_groups g ORDER BY g.pk`,
    ),
    groupById: db.prepare<[string], GroupSql>('SELECT * FROM face_groups WHERE group_id = ?'),
    groupByName: db.prepare<[string], GroupSql>('SELECT * FROM face_groups WHERE group_name = ?'),
    countGroups: db.prepare<[], { total: number }>('SELECT count(*) AS total FROM face_groups'),
    insertGroup: db.prepare<[string, string, string, number]>(
      'INSERT INTO face_groups (group_id, group_name, group_type, group_score) VALUES (?, ?, ?, ?)',
    ),
    updateGroup: db.prepare<[string | null, string | null, number | null, number]>(
      `UPDATE face_groups SET group_name = coalesce(?, group_name), group_type = coalesce(?, group_type),
                              group_score = coalesce(?, group_score) WHERE pk = ?`,
    ),
    deleteGroup: db.prepare<[number]>('DELETE FROM face_groups WHERE pk = ?'),
    unbindGroup: db.prepare<[number]>('DELETE FROM bindings WHERE group_pk = ?'),
    allMembers: db.prepare<[number], DoomedFaceSql>(
      `SELECT f.id, f.face_token, f.crop_file, f.image_pk FROM bindings b JOIN faces f ON f.id = b.face_id
       WHERE b.group_pk = ? ORDER BY f.id`,
    ),
    membersOnlyInGroup: db.prepare<[number], DoomedFaceSql>(
      `SELECT f.id, f.face_token, f.crop_file, f.image_pk FROM bindings b JOIN faces f ON f.id = b.face_id
       WHERE b.group_pk = ?
         AND NOT EXISTS (SELECT 1 FROM bindings o WHERE o.face_id = b.face_id AND o.group_pk <> b.group_pk)
       ORDER BY f.id`,
    ),
    countMembers: db.prepare<[number], { total: number }>('SELECT count(*) AS total FROM bindings WHERE group_pk = ?'),
    pageMembers: db.prepare<[number, number, number], FaceRowSql>(
      `SELECT ${FACE_ROW_COLUMNS} FROM bindings b JOIN faces f ON f.id = b.face_id JOIN images i ON i.pk = f.image_pk
       WHERE b.group_pk = ? ORDER BY f.id LIMIT ? OFFSET ?`,
    ),
    imageBatch: db.prepare<[number, number], { pk: number; image_id: string; description: string; format: ImageFormat; file: string }>(
      'SELECT pk, image_id, description, format, file FROM images WHERE pk > ? ORDER BY pk LIMIT ?',
    ),
    exportedFacesOfImage: db.prepare<[number], FaceDetailSql & { embedding: Buffer }>(
      `SELECT ${FACE_ROW_COLUMNS}, f.rect_left, f.rect_top, f.rect_right, f.rect_bottom, f.model_id, f.crop_file, f.embedding
       FROM faces f JOIN images i ON i.pk = f.image_pk WHERE f.image_pk = ? ORDER BY f.id`,
    ),
    vectorBatch: db.prepare<[number, number], VectorSql>(
      'SELECT id, face_token, model_id, embedding FROM faces WHERE id > ? ORDER BY id LIMIT ?',
    ),
    embeddingByToken: db.prepare<[string], { embedding: Buffer }>('SELECT embedding FROM faces WHERE face_token = ?'),
    modelEmbeddingByToken: db.prepare<[string, string, string], { embedding: Buffer }>(
      `SELECT coalesce(s.embedding, f.embedding) AS embedding
       FROM faces f LEFT JOIN staged_embeddings s ON s.face_id = f.id AND s.model_id = ?
       WHERE f.face_token = ? AND (f.model_id = ? OR s.face_id IS NOT NULL)`,
    ),
    // A face's embedding by a model: its current one when that model made it, else a staged one.
    modelVectorBatch: db.prepare<[string, string, number, number], VectorSql>(
      `SELECT f.id, f.face_token, s.model_id AS model_id, coalesce(s.embedding, f.embedding) AS embedding
       FROM faces f LEFT JOIN staged_embeddings s ON s.face_id = f.id AND s.model_id = ?
       WHERE (f.model_id = ? OR s.face_id IS NOT NULL) AND f.id > ? ORDER BY f.id LIMIT ?`,
    ),
    facesToReembed: db.prepare<[string, string, number], { face_token: string; image_id: string }>(
      `SELECT f.face_token, i.image_id FROM faces f JOIN images i ON i.pk = f.image_pk
       WHERE f.model_id <> ?
         AND NOT EXISTS (SELECT 1 FROM staged_embeddings s WHERE s.face_id = f.id AND s.model_id = ?)
       ORDER BY f.id LIMIT ?`,
    ),
    stageEmbedding: db.prepare<[string, Buffer, string]>(
      `INSERT OR REPLACE INTO staged_embeddings (face_id, model_id, embedding)
       SELECT id, ?, ? FROM faces WHERE face_token = ?`,
    ),
    // From visage-vectors.db's model index (a row a face, in step with the faces): visage.db's indexes lie
    // scattered over its whole file, and the wide face rows would cost seconds more.
    coverage: db.prepare<[string, string, string], { faces: number; covered: number }>(
      `SELECT (SELECT count(*) FROM vectors.compact_vectors) AS faces,
              (SELECT count(*) FROM vectors.compact_vectors WHERE model_id = ?)
              + (SELECT count(*) FROM staged_embeddings s JOIN faces f ON f.id = s.face_id
                 WHERE s.model_id = ? AND f.model_id <> ?) AS covered`,
    ),
    // The face id twice: its row's, then its bindings'.
    upsertCompact: db.prepare<[number, string, string, Buffer, number]>(
      `INSERT OR REPLACE INTO vectors.compact_vectors (face_id, face_token, model_id, record, group_pks)
       VALUES (?, ?, ?, ?, ${groupPksOf('?')})`,
    ),
    generations: db.prepare<[], { main: number; vectors: number | null }>(
      'SELECT (SELECT value FROM main.vectors_generation) AS main, (SELECT value FROM vectors.generation) AS vectors',
    ),
    clearCompact: db.prepare<[]>('DELETE FROM vectors.compact_vectors'),
    clearGeneration: db.prepare<[]>('DELETE FROM vectors.generation'),
    matchGeneration: db.prepare<[]>('INSERT INTO vectors.generation (value) SELECT value FROM main.vectors_generation'),
    // A batch in one row: one string of tokens, one of group pks, one blob of records (a million small rows
    // and blobs cost ~4× more to hand to JavaScript one by one). The three lists come from one aggregation
    // pass, so they are in the same order (whichever it is: sorting them again costs 3×). Faces with an
    // embedding by the model staged are left to stagedVectorBatch (the staged one wins, as in streamVectors).
    compactBlock: db.prepare<[string, number, string, number], CompactBlockSql>(
      `SELECT count(*) AS count, max(face_id) AS last_id,
              group_concat(face_token, ',') AS tokens, group_concat(coalesce(group_pks, ''), ';') AS groups,
              CAST(group_concat(record, x'') AS BLOB) AS records,
              min(length(record)) AS min_bytes, max(length(record)) AS max_bytes
       FROM (SELECT face_id, face_token, record, group_pks FROM vectors.compact_vectors
             WHERE model_id = ? AND face_id > ?
               AND face_id NOT IN (SELECT face_id FROM staged_embeddings WHERE model_id = ?)
             ORDER BY face_id LIMIT ?)`,
    ),
    // Driven by the staged rows (usually none), never by a scan of the wide face rows.
    stagedVectorBatch: db.prepare<[string, number, number], VectorSql>(
      `SELECT s.face_id AS id, f.face_token, s.model_id, s.embedding
       FROM staged_embeddings s JOIN faces f ON f.id = s.face_id
       WHERE s.model_id = ? AND s.face_id > ? ORDER BY s.face_id LIMIT ?`,
    ),
    faceEmbeddingBatch: db.prepare<[number, number], VectorSql>(
      'SELECT id, face_token, model_id, embedding FROM faces WHERE id > ? ORDER BY id LIMIT ?',
    ),
    groupsByPk: db.prepare<[], [number, string]>('SELECT pk, group_id FROM face_groups').raw(),
    bindingPksOfFaceRange: db.prepare<[number, number], [number, number]>(
      'SELECT face_id, group_pk FROM bindings WHERE face_id BETWEEN ? AND ?',
    ).raw(),
    promoteStaged: db.prepare<[string]>(
      `UPDATE faces SET model_id = s.model_id, embedding = s.embedding
       FROM staged_embeddings s WHERE s.face_id = faces.id AND s.model_id = ?`,
    ),
    dropStaged: db.prepare<[]>('DELETE FROM staged_embeddings'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

class SqliteStore implements Store {
  private readonly groupLimit: number;
  private readonly streamBatchSize: number;
  private readonly sql: Statements;
  private readonly access: SqliteAccessRecords;
  /** Embeddings are sealed like the files when encryption at rest is on. */
  private readonly codec: BytesCodec;

  constructor(
    private readonly db: Database.Database,
    private readonly files: BlobFiles,
    options: SqliteStoreOptions,
  ) {
    this.groupLimit = options.groupLimit ?? DEFAULT_GROUP_LIMIT;
    this.streamBatchSize = options.streamBatchSize ?? 5000;
    this.sql = prepareStatements(db);
    this.access = new SqliteAccessRecords(db);
    this.codec = options.cipher ?? PLAINTEXT;
  }

  private embeddingBlob(embedding: Float32Array): Buffer {
    return Buffer.from(this.codec.seal(embeddingToBytes(embedding)));
  }

  private embeddingOf(blob: Buffer): Float32Array {
    return bytesToEmbedding(this.codec.open(blob));
  }

  private referenced(kind: BlobKind, name: string): boolean {
    return (kind === 'originals' ? this.sql.originalFileReferenced : this.sql.cropFileReferenced).get(name) !== undefined;
  }

  /**
   * The slow part of the file check, with writes going on beside it: lists the files, then reads every name the
   * rows reference, and returns where they disagree: candidates only, for `confirm` (see checkConsistency).
   */
  private async candidates(): Promise<FileDiscrepancies> {
    const candidates = noDiscrepancies();
    const listed: Record<BlobKind, Set<string>> = { originals: new Set(), crops: new Set() };
    for (const kind of BLOB_KINDS) {
      const listing = await this.files.list(kind);
      listed[kind] = listing.names;
      candidates[kind].strays = listing.others;
    }
    // Only after the listings: each name read is struck from its listing, or else is a missing candidate.
    const strike = (kind: BlobKind) => (name: string) => {
      if (!listed[kind].delete(name)) candidates[kind].missing.push(name);
    };
    await forEachName(this.sql.originalFilesAfter, 0, strike('originals'));
    await forEachName(this.sql.cropFilesAfter, '', strike('crops'));
    for (const kind of BLOB_KINDS) candidates[kind].unreferenced = [...listed[kind]];
    return candidates;
  }

  /**
   * The candidates that hold now: a name still referenced by no row, a file absent now whose row is still
   * there. One indexed lookup or one stat each; normally few (what a crash or a hand deletion left, and the
   * writes that ran beside `candidates`).
   */
  private async confirm(candidates: FileDiscrepancies): Promise<FileDiscrepancies> {
    const confirmed = noDiscrepancies();
    for (const kind of BLOB_KINDS) {
      const { unreferenced, strays, missing } = candidates[kind];
      confirmed[kind].strays = strays;
      for (let at = 0; at < unreferenced.length; at += FILE_NAME_BATCH) {
        if (at > 0) await nextTurn();
        for (const name of unreferenced.slice(at, at + FILE_NAME_BATCH)) {
          if (!this.referenced(kind, name)) confirmed[kind].unreferenced.push(name);
        }
      }
      for (let at = 0; at < missing.length; at += FILE_NAME_BATCH) {
        const names = missing.slice(at, at + FILE_NAME_BATCH);
        const present = await Promise.all(names.map((name) => this.files.exists(kind, name)));
        // The file first, then the row: a deletion commits before it unlinks, so a row still there after its
        // file was found absent had lost it (this order matters to checkFiles, which runs beside writes).
        names.forEach((name, k) => {
          if (!present[k] && this.referenced(kind, name)) confirmed[kind].missing.push(name);
        });
      }
    }
    return confirmed;
  }

  /**
   * Read-only (`visage doctor`, possibly beside a running server): the same listing, names and re-verification
   * as the start-up check, outside any write queue, so a registration in flight can count as unreferenced files.
   */
  async checkFiles(): Promise<FileCheck> {
    const confirmed = await this.confirm(await this.candidates());
    const check: FileCheck = { unreferencedFiles: 0, missingFiles: 0 };
    for (const kind of BLOB_KINDS) {
      check.unreferencedFiles += confirmed[kind].unreferenced.length + confirmed[kind].strays.length;
      check.missingFiles += confirmed[kind].missing.length;
    }
    return check;
  }

  /**
   * Start-up consistency check, repairing what a crash (or a hand-deleted file) can leave: a face whose crop
   * file is gone is removed (it could be found by search but not shown), an image whose original is gone is
   * removed with its faces, and files no row references (uncommitted registrations, unlinks a crash
   * interrupted, temp files) are deleted. One directory listing per kind against the referenced names, not a
   * stat per file: at a million faces that costs seconds, so only the re-verification and the repair run in
   * `exclusive` (a server: its write queue; default: at once, for a store not yet shared).
   *
   * Ordering. A registration writes its files before its row commits; a deletion commits before it unlinks;
   * inside `exclusive` no registration is between the two. The listing comes first, then the names, so every
   * file of a row committed before the listing is listed unless it is really gone; what writes beside the slow
   * part can add is:
   * - a file listed whose name was not read (a registration in flight during the listing, or committed after
   *   its page of names was read; a face deleted after the listing): swept only if no row references it in
   *   `exclusive`, where an uncommitted file can only be a leftover and a deleted face's file is due to go
   *   anyway (`rm` with `force`: its deletion may have unlinked it already);
   * - a name read whose file was not listed (a face registered during or after the listing): missing only if
   *   the file is absent in `exclusive`, where every committed row's file is in place.
   * Temp files and strays are never referenced: swept in `exclusive`, where no registration is writing one.
   */
  async checkConsistency(exclusive: ExclusiveSection = (section) => section()): Promise<ConsistencyReport> {
    const candidates = await this.candidates();
    return exclusive(() => this.repair(candidates));
  }

  /** The check's part in `exclusive`: re-verify the candidates, then repair what holds. */
  private async repair(candidates: FileDiscrepancies): Promise<ConsistencyReport> {
    const confirmed = await this.confirm(candidates);
    const removedFaceTokens: string[] = [];
    const unreferenced: Unreferenced = { originals: [], crops: [] };
    let facesWithoutCrop = 0;
    let imagesWithoutOriginal = 0;
    if (confirmed.originals.missing.length + confirmed.crops.missing.length > 0) {
      this.db
        .transaction(() => {
          const removeFace = (face: DoomedFaceSql) => {
            this.sql.deleteFace.run(face.id);
            removedFaceTokens.push(face.face_token);
            unreferenced.crops.push(face.crop_file);
          };
          for (const file of confirmed.originals.missing) {
            for (const image of this.sql.imagesByFile.all(file)) {
              for (const face of this.sql.facesOfImage.all(image.pk)) removeFace(face);
              this.sql.deleteImage.run(image.pk);
              imagesWithoutOriginal += 1;
            }
          }
          for (const file of confirmed.crops.missing) {
            for (const face of this.sql.facesByCropFile.all(file)) {
              removeFace(face);
              facesWithoutCrop += 1;
            }
          }
        })
        .immediate();
      // After the commit, as any deletion: the crops of the faces removed with their image (the missing ones
      // are no matter), and the WAL's copies of the deleted rows.
      await this.erase(unreferenced);
    }
    let orphanFiles = 0;
    for (const kind of BLOB_KINDS) {
      orphanFiles += await this.files.sweep(kind, confirmed[kind].unreferenced, confirmed[kind].strays);
    }
    const report = { orphanFiles, facesWithoutCrop, imagesWithoutOriginal };
    if (Object.values(report).some((count) => count > 0)) {
      console.warn(`visage: start-up consistency check repaired ${JSON.stringify(report)}`);
    }
    return { ...report, removedFaceTokens };
  }

  private async release(unreferenced: Unreferenced): Promise<void> {
    await this.files.remove('originals', unreferenced.originals);
    await this.files.remove('crops', unreferenced.crops);
  }

  /**
   * After a deletion commits: unlink the files, and move the zeroed pages (secure_delete) from the WAL into
   * the database and truncate the WAL, whose older frames still hold the deleted rows. A reader in another
   * process can make the checkpoint partial; the next deletion's checkpoint finishes the job.
   */
  private async erase(unreferenced: Unreferenced): Promise<void> {
    await this.release(unreferenced);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private groupIdsOf(faceId: number): string[] {
    return this.sql.groupIdsOfFace.all(faceId).map((row) => row.group_id);
  }

  private requireGroup(groupId: string): GroupSql {
    const group = this.sql.groupById.get(groupId);
    if (!group) throw new VisageError('GROUP_ID_NOT_EXIST');
    return group;
  }

  // ---- images and faces ----

  registerFace(image: NewImage, face: NewFace): Promise<{ id: number }> {
    return registerOne(this, image, face);
  }

  /**
   * Group commit: the files of every entry are written at once (their fsyncs overlap on the thread pool),
   * then one transaction holds each entry's rows in a savepoint of its own, so that one refused entry is
   * rolled back alone, and one commit (one WAL fsync) makes them all durable.
   */
  async registerFaces(entries: readonly NewRegistration[]): Promise<Array<PromiseSettledResult<{ id: number }>>> {
    const outcomes = entries.map(({ image }): PromiseSettledResult<{ id: number }> | undefined =>
      // Cheap early refusal so a duplicate does not write files; the transaction decides for real.
      this.sql.imagePkById.get(image.imageId) ? { status: 'rejected', reason: new VisageError('FACE_ALREADY_EXIST') } : undefined,
    );
    const files = await Promise.all(
      entries.map(async ({ image, face }, k): Promise<{ original: string; crop: string } | undefined> => {
        if (outcomes[k]) return undefined;
        const [original, crop] = await Promise.allSettled([this.files.write('originals', image.bytes), this.files.write('crops', face.crop)]);
        if (original.status === 'fulfilled' && crop.status === 'fulfilled') return { original: original.value, crop: crop.value };
        await this.release({
          originals: original.status === 'fulfilled' ? [original.value] : [],
          crops: crop.status === 'fulfilled' ? [crop.value] : [],
        });
        outcomes[k] = { status: 'rejected', reason: original.status === 'rejected' ? original.reason : (crop as PromiseRejectedResult).reason };
        return undefined;
      }),
    );
    const insertOne = this.db.transaction((image: NewImage, face: NewFace, written: { original: string; crop: string }): number => {
      if (this.sql.imagePkById.get(image.imageId)) throw new VisageError('FACE_ALREADY_EXIST');
      const defaultGroup = this.sql.groupById.get(DEFAULT_GROUP_ID);
      if (!defaultGroup) throw new Error('the default group is missing');
      const imagePk = Number(this.sql.insertImage.run(image.imageId, image.description, image.format, written.original).lastInsertRowid);
      const faceId = this.insertFace(null, face, imagePk, written.crop);
      this.sql.insertBinding.run(faceId, defaultGroup.pk);
      return faceId;
    });
    try {
      this.db
        .transaction(() => {
          entries.forEach(({ image, face }, k) => {
            const written = files[k];
            if (!written) return;
            try {
              // Nested in the batch's transaction, insertOne is a savepoint: a throw undoes this entry alone.
              outcomes[k] = { status: 'fulfilled', value: { id: insertOne(image, face, written) } };
            } catch (error) {
              // An error after which SQLite rolled the whole transaction back fails the whole batch (below).
              if (!this.db.inTransaction) throw error;
              outcomes[k] = { status: 'rejected', reason: error };
            }
          });
        })
        .immediate();
    } catch (error) {
      // Nothing of the batch was committed.
      outcomes.forEach((outcome, k) => {
        if (files[k] && (!outcome || outcome.status === 'fulfilled')) outcomes[k] = { status: 'rejected', reason: error };
      });
    }
    const unreferenced: Unreferenced = { originals: [], crops: [] };
    files.forEach((written, k) => {
      if (!written || outcomes[k]?.status === 'fulfilled') return;
      unreferenced.originals.push(written.original);
      unreferenced.crops.push(written.crop);
    });
    await this.release(unreferenced);
    return outcomes.map((outcome) => outcome!); // each entry got one above
  }

  private insertFace(id: number | null, face: NewFace, imagePk: number, cropFile: string): number {
    const { rect } = face;
    const faceId = Number(
      this.sql.insertFace.run(
        id, face.faceToken, imagePk, face.name, face.gender, rect.left, rect.top, rect.right, rect.bottom,
        face.modelId, this.embeddingBlob(face.embedding), cropFile,
      ).lastInsertRowid,
    );
    this.writeCompact(faceId, face.faceToken, face.modelId, face.embedding);
    return faceId;
  }

  /** The face's compact vector, beside its embedding (same transaction, sealed alike). */
  private writeCompact(faceId: number, faceToken: string, modelId: string, embedding: Float32Array): void {
    this.sql.upsertCompact.run(faceId, faceToken, modelId, Buffer.from(this.codec.seal(encodeCompact(embedding))), faceId);
  }

  /**
   * At open, before the triggers: if the generations differ (a crash between the two files' commits, a
   * library from before migration 8, visage-vectors.db lost or restored apart), every compact record is
   * made again from the embeddings, in one transaction that holds both files' write locks (so no other
   * process is between its two commits while the generations are compared).
   */
  syncVectors(): void {
    const rebuilt = this.db
      .transaction((): boolean => {
        const { main, vectors } = this.sql.generations.get()!;
        if (main === vectors) return false;
        if (vectors !== null) console.warn('visage: visage-vectors.db is not in step with visage.db (a crash between their commits?): rebuilding it');
        this.sql.clearCompact.run();
        for (let afterId = 0; ; ) {
          const batch = this.sql.faceEmbeddingBatch.all(afterId, 1000);
          for (const row of batch) this.writeCompact(row.id, row.face_token, row.model_id!, this.embeddingOf(row.embedding));
          if (batch.length < 1000) break;
          afterId = batch.at(-1)!.id;
        }
        this.sql.clearGeneration.run();
        this.sql.matchGeneration.run();
        return true;
      })
      .immediate();
    // Into the files, and the WALs (now as large as the records) truncated.
    if (rebuilt) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async restoreImage(image: NewImage, faces: readonly RestoredFace[]): Promise<void> {
    if (this.sql.imagePkById.get(image.imageId)) throw new VisageError('FACE_ALREADY_EXIST');
    const written: Unreferenced = { originals: [], crops: [] };
    try {
      written.originals.push(await this.files.write('originals', image.bytes));
      for (const face of faces) written.crops.push(await this.files.write('crops', face.crop));
      this.db
        .transaction(() => {
          if (this.sql.imagePkById.get(image.imageId)) throw new VisageError('FACE_ALREADY_EXIST');
          const imagePk = Number(
            this.sql.insertImage.run(image.imageId, image.description, image.format, written.originals[0]!).lastInsertRowid,
          );
          faces.forEach((face, index) => {
            if (this.sql.faceById.get(face.id)) throw new Error(`face id ${face.id} is in use`);
            if (this.sql.faceIdByToken.get(face.faceToken)) throw new Error(`faceToken ${face.faceToken} is in use`);
            const faceId = this.insertFace(face.id, face, imagePk, written.crops[index]!);
            for (const groupId of face.groupIds) this.sql.insertBinding.run(faceId, this.requireGroup(groupId).pk);
          });
        })
        .immediate();
    } catch (error) {
      await this.release(written);
      throw error;
    }
  }

  async listFaces(page: Page): Promise<RowPage> {
    const read = this.db.transaction(() => ({
      total: this.sql.countFaces.get()!.total,
      rows: this.sql.pageFaces.all(page.size, page.offset).map(toFaceRow),
    }));
    return read();
  }

  async getFace(faceToken: string): Promise<FaceRecord | undefined> {
    const row = this.sql.faceByToken.get(faceToken);
    if (!row) return undefined;
    const groupIds = this.groupIdsOf(row.id);
    const crop = await this.files.read('crops', row.crop_file);
    if (!crop) return undefined; // deleted between the row read and the file read
    return { ...toFaceRow(row), rect: toRect(row), modelId: row.model_id, embedding: this.embeddingOf(row.embedding), groupIds, crop };
  }

  async deleteFace(faceToken: string): Promise<boolean> {
    const cropFile = this.db
      .transaction((): string | undefined => {
        const face = this.sql.faceIdByToken.get(faceToken);
        if (!face) return undefined;
        this.sql.deleteFace.run(face.id); // bindings cascade
        return face.crop_file;
      })
      .immediate();
    if (cropFile === undefined) return false;
    await this.erase({ originals: [], crops: [cropFile] });
    return true;
  }

  async getImage(imageId: string): Promise<ImageRecord | undefined> {
    const image = this.sql.imagePkById.get(imageId);
    if (!image) return undefined;
    const faceTokens = this.sql.facesOfImage.all(image.pk).map((row) => row.face_token);
    const bytes = await this.files.read('originals', image.file);
    if (!bytes) return undefined;
    return { imageId, description: image.description, format: image.format, bytes, faceTokens };
  }

  async deleteImage(imageId: string): Promise<RemovedFaces | undefined> {
    const outcome = this.db
      .transaction(() => {
        const image = this.sql.imagePkById.get(imageId);
        if (!image) return undefined;
        const faces = this.sql.facesOfImage.all(image.pk);
        for (const face of faces) this.sql.deleteFace.run(face.id);
        this.sql.deleteImage.run(image.pk);
        return {
          removedFaceTokens: faces.map((face) => face.face_token),
          unreferenced: { originals: [image.file], crops: faces.map((face) => face.crop_file) },
        };
      })
      .immediate();
    if (!outcome) return undefined;
    await this.erase(outcome.unreferenced);
    return { removedFaceTokens: outcome.removedFaceTokens };
  }

  async wipe(): Promise<void> {
    // Only the files referenced at commit time are removed: a registration writing its files right
    // now commits after us and keeps them.
    const unreferenced = this.db
      .transaction((): Unreferenced => {
        const files = {
          originals: this.sql.allOriginalFiles.all().map((row) => row.file),
          crops: this.sql.allCropFiles.all().map((row) => row.file),
        };
        this.db.exec('DELETE FROM bindings; DELETE FROM faces; DELETE FROM images;');
        return files;
      })
      .immediate();
    await this.erase(unreferenced);
  }

  // ---- groups ----

  async listGroups(): Promise<GroupWithCount[]> {
    return this.sql.listGroups.all().map((row) => ({ ...toGroupRecord(row), faceCount: row.face_count }));
  }

  async getGroup(groupId: string): Promise<GroupRecord | undefined> {
    const row = this.sql.groupById.get(groupId);
    return row ? toGroupRecord(row) : undefined;
  }

  async createGroup(group: GroupRecord): Promise<void> {
    this.db
      .transaction(() => {
        if (this.sql.groupById.get(group.groupId)) throw new VisageError('GROUP_ID_CONFLICT');
        if (group.groupName !== '' && this.sql.groupByName.get(group.groupName)) {
          throw new VisageError('GROUP_NAME_CONFLICT');
        }
        // The limit counts every group, `default` included; checked in the same write transaction.
        if (this.sql.countGroups.get()!.total >= this.groupLimit) {
          throw new VisageError('GROUP_OVER_LIMIT', undefined, { limit: this.groupLimit });
        }
        this.sql.insertGroup.run(group.groupId, group.groupName, group.groupType, group.groupScore);
      })
      .immediate();
  }

  async updateGroup(update: GroupUpdate): Promise<void> {
    this.db
      .transaction(() => {
        const group = this.requireGroup(update.groupId);
        if (update.groupName !== undefined && update.groupName !== '') {
          const holder = this.sql.groupByName.get(update.groupName);
          if (holder && holder.pk !== group.pk) throw new VisageError('GROUP_NAME_CONFLICT');
        }
        this.sql.updateGroup.run(update.groupName ?? null, update.groupType ?? null, update.groupScore ?? null, group.pk);
      })
      .immediate();
  }

  async deleteGroup(groupId: string, mode: GroupDeletionMode): Promise<RemovedFaces> {
    const outcome = this.db
      .transaction(() => {
        const group = this.requireGroup(groupId);
        const unreferenced: Unreferenced = { originals: [], crops: [] };
        // Mode 1 removes no face; 2 every member; 3 and 4 the members bound to no other group.
        const doomed =
          mode === 1 ? [] : mode === 2 ? this.sql.allMembers.all(group.pk) : this.sql.membersOnlyInGroup.all(group.pk);
        for (const face of doomed) {
          this.sql.deleteFace.run(face.id); // its bindings, in every group, cascade
          unreferenced.crops.push(face.crop_file);
        }
        if (mode === 4) {
          // The original goes only when its image has no face left.
          const imagePks = new Set(doomed.map((face) => face.image_pk));
          for (const imagePk of imagePks) {
            if (this.sql.countFacesOfImage.get(imagePk)!.total > 0) continue;
            const image = this.sql.imageFileByPk.get(imagePk);
            if (!image) continue;
            this.sql.deleteImage.run(imagePk);
            unreferenced.originals.push(image.file);
          }
        }
        if (mode === 3) this.sql.unbindGroup.run(group.pk);
        else this.sql.deleteGroup.run(group.pk); // remaining bindings cascade
        return { removedFaceTokens: doomed.map((face) => face.face_token), unreferenced };
      })
      .immediate();
    await this.erase(outcome.unreferenced);
    return { removedFaceTokens: outcome.removedFaceTokens };
  }

  async listGroupMembers(groupId: string, page: Page): Promise<RowPage> {
    return this.db.transaction((): RowPage => {
      const group = this.requireGroup(groupId);
      return {
        total: this.sql.countMembers.get(group.pk)!.total,
        rows: this.sql.pageMembers.all(group.pk, page.size, page.offset).map(toFaceRow),
      };
    })();
  }

  async bind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange> {
    return this.changeBindings(faceToken, groupIds, this.sql.insertBinding);
  }

  async unbind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange> {
    return this.changeBindings(faceToken, groupIds, this.sql.deleteBinding);
  }

  /** INSERT OR IGNORE / DELETE make binding twice and unbinding a non-member no-ops (idempotent). */
  private changeBindings(
    faceToken: string,
    groupIds: readonly string[],
    statement: Database.Statement<[number, number]>,
  ): BindingChange {
    return this.db
      .transaction((): BindingChange => {
        const face = this.sql.faceIdByToken.get(faceToken);
        if (!face) throw new VisageError('FACE_TOKEN_NOT_EXIST');
        const unknownGroupIds: string[] = [];
        for (const groupId of new Set(groupIds)) {
          const group = this.sql.groupById.get(groupId);
          if (group) statement.run(face.id, group.pk);
          else unknownGroupIds.push(groupId);
        }
        return { unknownGroupIds, groupIds: this.groupIdsOf(face.id) };
      })
      .immediate();
  }

  // ---- audit log and API keys ----

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.access.appendAudit(entry);
  }

  async listAudit(page: Page): Promise<AuditPage> {
    return this.db.transaction(() => this.access.listAudit(page))();
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    this.access.createApiKey(key);
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    return this.access.getApiKey(keyId);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.access.listApiKeys();
  }

  async revokeApiKey(keyId: string, at: string): Promise<boolean> {
    return this.access.revokeApiKey(keyId, at);
  }

  // ---- moving a library ----

  async *exportImages(): AsyncIterable<ExportedImage> {
    let afterPk = 0;
    for (;;) {
      const images = this.sql.imageBatch.all(afterPk, 100);
      for (const image of images) {
        const bytes = await this.files.read('originals', image.file);
        if (!bytes) continue; // deleted since the batch was read
        const faces: ExportedFace[] = [];
        for (const face of this.sql.exportedFacesOfImage.all(image.pk)) {
          const crop = await this.files.read('crops', face.crop_file);
          if (!crop) continue;
          faces.push({
            id: face.id,
            faceToken: face.face_token,
            name: face.name,
            gender: face.gender,
            rect: toRect(face),
            embedding: this.embeddingOf(face.embedding),
            modelId: face.model_id,
            crop,
            groupIds: this.groupIdsOf(face.id),
          });
        }
        yield { image: { imageId: image.image_id, description: image.description, format: image.format, bytes }, faces };
      }
      const last = images.at(-1);
      if (!last) return;
      afterPk = last.pk;
    }
  }

  async importImage({ image, faces }: ExportedImage): Promise<boolean> {
    if (this.sql.imagePkById.get(image.imageId)) return false;
    const written: Unreferenced = { originals: [], crops: [] };
    try {
      const originalFile = await this.files.write('originals', image.bytes);
      written.originals.push(originalFile);
      const cropFiles: string[] = [];
      for (const face of faces) {
        cropFiles.push(await this.files.write('crops', face.crop));
        written.crops.push(cropFiles.at(-1)!);
      }
      const imported = this.db
        .transaction((): boolean => {
          if (this.sql.imagePkById.get(image.imageId)) return false;
          const imagePk = Number(
            this.sql.insertImage.run(image.imageId, image.description, image.format, originalFile).lastInsertRowid,
          );
          faces.forEach((face, i) => {
            // AUTOINCREMENT keeps its counter above explicit ids, so later registrations follow.
            this.insertFace(face.id, face, imagePk, cropFiles[i]!);
            for (const groupId of face.groupIds) {
              const group = this.sql.groupById.get(groupId);
              if (!group) throw new Error(`group ${groupId} of an imported face does not exist`);
              this.sql.insertBinding.run(face.id, group.pk);
            }
          });
          return true;
        })
        .immediate();
      if (!imported) await this.release(written);
      return imported;
    } catch (error) {
      await this.release(written);
      throw error;
    }
  }

  // ---- index loading ----

  async *streamVectors(modelId?: string): AsyncIterable<StoredVector> {
    // Keyset batches with .all(): an open better-sqlite3 iterator would block every other statement.
    // Bindings come by a second query over the batch's id range (a per-face subquery costs 3× at 1 M faces).
    const groupOfPk = new Map(this.sql.groupsByPk.all());
    let afterId = 0;
    for (;;) {
      const { batch, groupsOf } = this.db.transaction(() => {
        const faces =
          modelId === undefined
            ? this.sql.vectorBatch.all(afterId, this.streamBatchSize)
            : this.sql.modelVectorBatch.all(modelId, modelId, afterId, this.streamBatchSize);
        const groupsOf = faces.length === 0 ? new Map<number, string[]>() : this.groupsOfFaceRange(faces[0]!.id, faces.at(-1)!.id, groupOfPk);
        return { batch: faces, groupsOf };
      })();
      for (const row of batch) {
        yield {
          faceToken: row.face_token,
          modelId: modelId ?? row.model_id!,
          embedding: this.embeddingOf(row.embedding),
          groupIds: groupsOf.get(row.id) ?? [],
        };
      }
      const last = batch.at(-1);
      if (!last || batch.length < this.streamBatchSize) return;
      afterId = last.id;
    }
  }

  async *streamCompactVectors(modelId: string): AsyncIterable<CompactVectorBatch> {
    // Faces whose current embedding is by the model, from visage-vectors.db alone (records and group pks).
    const groupOfPk = new Map(this.sql.groupsByPk.all());
    // Faces share a few thousand combinations of groups: each list is made once (the index only reads it).
    // A group deleted since groupOfPk was read has no binding left: it is skipped, as a face's binding was before.
    const lists = new Map<string, string[]>();
    const groupsOf = (pks: string): string[] => {
      let list = lists.get(pks);
      if (!list) {
        list = pks === '' ? [] : pks.split(',').flatMap((pk) => groupOfPk.get(Number(pk)) ?? []);
        lists.set(pks, list);
      }
      return list;
    };
    for (let afterId = 0; ; ) {
      const block = this.sql.compactBlock.get(modelId, afterId, modelId, this.streamBatchSize)!;
      if (block.count === 0) break;
      const faceTokens = block.tokens!.split(',');
      const groups = block.groups!.split(';');
      if (faceTokens.length !== block.count || groups.length !== block.count || block.min_bytes !== block.max_bytes) {
        throw new Error('compact_vectors holds a face token with a comma or records of different sizes for one model');
      }
      yield { faceTokens, records: this.openRecords(block.records!, block.max_bytes!), groupIds: groups.map(groupsOf) };
      if (block.count < this.streamBatchSize) break;
      afterId = block.last_id!;
    }
    // Faces with an embedding by the model staged (a re-embedding in progress): encoded on the way.
    yield* compactBatches(this.stagedVectors(modelId), this.streamBatchSize);
  }

  /** Sealed records of `sealedBytes` each, back to back, opened (as they are, without encryption at rest). */
  private openRecords(sealed: Buffer, sealedBytes: number): Uint8Array {
    if (this.codec === PLAINTEXT) return sealed;
    const opened: Uint8Array[] = [];
    for (let at = 0; at < sealed.length; at += sealedBytes) opened.push(this.codec.open(sealed.subarray(at, at + sealedBytes)));
    return Buffer.concat(opened);
  }

  private async *stagedVectors(modelId: string): AsyncIterable<StoredVector> {
    for (let afterId = 0; ; ) {
      const batch = this.sql.stagedVectorBatch.all(modelId, afterId, this.streamBatchSize);
      for (const row of batch) {
        yield { faceToken: row.face_token, modelId, embedding: this.embeddingOf(row.embedding), groupIds: this.groupIdsOf(row.id) };
      }
      if (batch.length < this.streamBatchSize) return;
      afterId = batch.at(-1)!.id;
    }
  }

  /** The groups of faces firstId..lastId, by face id (faces without a group absent). */
  private groupsOfFaceRange(firstId: number, lastId: number, groupOfPk: ReadonlyMap<number, string>): Map<number, string[]> {
    const groupsOf = new Map<number, string[]>();
    for (const [faceId, groupPk] of this.sql.bindingPksOfFaceRange.all(firstId, lastId)) {
      const groupId = groupOfPk.get(groupPk)!;
      const list = groupsOf.get(faceId);
      if (list) list.push(groupId);
      else groupsOf.set(faceId, [groupId]);
    }
    return groupsOf;
  }

  // ---- model upgrade ----

  async facesToReembed(modelId: string, limit: number): Promise<ReembedTarget[]> {
    return this.sql.facesToReembed.all(modelId, modelId, limit).map((row) => ({ faceToken: row.face_token, imageId: row.image_id }));
  }

  async stageEmbedding(faceToken: string, modelId: string, embedding: Float32Array): Promise<boolean> {
    return this.sql.stageEmbedding.run(modelId, this.embeddingBlob(embedding), faceToken).changes > 0;
  }

  async modelCoverage(modelId: string): Promise<ModelCoverage> {
    return this.sql.coverage.get(modelId, modelId, modelId)!;
  }

  async promoteEmbeddings(modelId: string): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        const { faces, covered } = this.sql.coverage.get(modelId, modelId, modelId)!;
        if (covered < faces) return false;
        // The promoted faces' compact vectors follow their new embeddings.
        for (let afterId = 0; ; ) {
          const batch = this.sql.stagedVectorBatch.all(modelId, afterId, 1000);
          for (const row of batch) this.writeCompact(row.id, row.face_token, modelId, this.embeddingOf(row.embedding));
          if (batch.length < 1000) break;
          afterId = batch.at(-1)!.id;
        }
        this.sql.promoteStaged.run(modelId);
        this.sql.dropStaged.run();
        return true;
      })
      .immediate();
  }

  // ---- library export ----

  async *streamImageIds(): AsyncIterable<string> {
    let afterPk = 0;
    for (;;) {
      const batch = this.sql.imageIdBatch.all(afterPk, this.streamBatchSize);
      for (const row of batch) yield row.image_id;
      const last = batch.at(-1);
      if (!last || batch.length < this.streamBatchSize) return;
      afterPk = last.pk;
    }
  }

  async getEmbeddings(faceTokens: readonly string[], modelId?: string): Promise<Map<string, Float32Array>> {
    const embeddings = new Map<string, Float32Array>();
    for (const faceToken of faceTokens) {
      const row =
        modelId === undefined
          ? this.sql.embeddingByToken.get(faceToken)
          : this.sql.modelEmbeddingByToken.get(modelId, faceToken, modelId);
      if (row) embeddings.set(faceToken, this.embeddingOf(row.embedding));
    }
    return embeddings;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
