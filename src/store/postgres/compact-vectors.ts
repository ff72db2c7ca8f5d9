/**
 * The compact records of the search index in PostgreSQL (migration 4): written beside each embedding in its
 * transaction, filled in at open for faces listed in `compact_pending`, and streamed at start-up by one
 * binary COPY inside one snapshot.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { encodeCompact } from '../../index/compact-codec.js';
import { compactBatches } from '../compact-batches.js';
import type { CompactVectorBatch, StoredVector } from '../store.js';
import { readBinaryCopy, type BinaryRow } from './binary-copy.js';
import { inTransaction } from './database.js';
import { selectVectorsByModel, toStoredVector, type VectorSql } from './vectors.js';

/** A face whose current embedding gets its compact record. */
export interface CompactSource {
  faceId: number;
  faceToken: string;
  modelId: string;
  embedding: Float32Array;
}

/** Writes (or replaces) the faces' compact records in the caller's transaction; they are no longer pending. */
export async function writeCompactVectors(client: pg.ClientBase, faces: readonly CompactSource[]): Promise<void> {
  if (faces.length === 0) return;
  await client.query(
    `WITH written AS (
       INSERT INTO compact_vectors (face_id, face_token, model_id, record)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[])
       ON CONFLICT (face_id) DO UPDATE
         SET face_token = excluded.face_token, model_id = excluded.model_id, record = excluded.record
       RETURNING face_id)
     DELETE FROM compact_pending WHERE face_id IN (SELECT face_id FROM written)`,
    [
      faces.map((face) => face.faceId),
      faces.map((face) => face.faceToken),
      faces.map((face) => face.modelId),
      faces.map((face) => Buffer.from(encodeCompact(face.embedding))),
    ],
  );
}

const FILL_BATCH = 1000;

/**
 * Gives the faces listed in compact_pending their records, a batch a transaction. Replicas opening together
 * share the work (SKIP LOCKED); faces another one still holds are encoded on the way by streamCompactRecords.
 * Locking the face rows too keeps a promotion from changing an embedding between its read and its record.
 */
export async function fillPendingCompactVectors(pool: pg.Pool): Promise<number> {
  let filled = 0;
  for (;;) {
    const count = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: number; face_token: string; model_id: string; embedding: Buffer }>(
        `SELECT f.id, f.face_token, f.model_id, f.embedding FROM compact_pending p JOIN faces f ON f.id = p.face_id
         ORDER BY p.face_id LIMIT $1 FOR UPDATE OF p, f SKIP LOCKED`,
        [FILL_BATCH],
      );
      await writeCompactVectors(
        client,
        rows.map((row) => ({ faceId: row.id, ...toStoredVector({ ...row, group_ids: [] }) })),
      );
      return rows.length;
    });
    filled += count;
    if (count < FILL_BATCH) return filled;
  }
}

/**
 * The records of the faces whose current embedding is by the model — not those with an embedding by it
 * staged (the staged one wins) nor pending ones (their record may be missing or stale) — with their groups'
 * pks, as a binary COPY (COPY takes no parameters: the model id is a quoted literal). PostgreSQL joins the
 * records and the bindings in one pass (a merge join on the two primary keys, as measured).
 */
const copyRecords = (model: string) => `
  COPY (
    SELECT c.face_token, c.record, b.group_pks FROM compact_vectors c
    LEFT JOIN (SELECT face_id, string_agg(group_pk::text, ' ') AS group_pks FROM bindings GROUP BY face_id) b USING (face_id)
    WHERE c.model_id = ${model}
      AND NOT EXISTS (SELECT 1 FROM staged_embeddings s WHERE s.face_id = c.face_id AND s.model_id = ${model})
      AND NOT EXISTS (SELECT 1 FROM compact_pending p WHERE p.face_id = c.face_id)
  ) TO STDOUT (FORMAT binary)`;

/** The faces after id `$2` whose embedding by model `$1` is staged or whose record is pending, `$3` at most. */
const UNRECORDED_IDS = `
  SELECT face_id FROM staged_embeddings WHERE model_id = $1 AND face_id > $2
  UNION SELECT face_id FROM compact_pending WHERE face_id > $2
  ORDER BY face_id LIMIT $3`;

/**
 * Every face with an embedding by `modelId` (current or staged), compact, in batches of `batchSize`, as
 * Store.streamCompactVectors promises: the persisted records in one binary COPY (~0.6 KB a face, nothing
 * encoded on either side), then the few without a usable record encoded from their float32 embeddings. One
 * REPEATABLE READ snapshot, so a face whose record another replica fills in meanwhile is streamed exactly once.
 */
export async function* streamCompactRecords(pool: pg.Pool, modelId: string, batchSize: number): AsyncIterable<CompactVectorBatch> {
  const client = await pool.connect();
  let committed = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const groups = await client.query<{ pk: number; group_id: string }>('SELECT pk, group_id FROM face_groups');
    const groupOfPk = new Map(groups.rows.map((row) => [String(row.pk), row.group_id]));
    const full: CompactVectorBatch[] = [];
    let recordBytes = 0;
    let batch: CompactVectorBatch & { records: Buffer } = { faceTokens: [], records: Buffer.alloc(0), groupIds: [] };
    const onRow = ({ buffer, starts, ends }: BinaryRow): void => {
      const bytes = ends[1]! - starts[1]!;
      if (recordBytes === 0) recordBytes = bytes;
      if (bytes !== recordBytes) throw new Error('compact vectors hold records of different sizes for one model');
      if (batch.faceTokens.length === 0) batch.records = Buffer.allocUnsafe(batchSize * recordBytes);
      buffer.copy(batch.records, batch.faceTokens.length * recordBytes, starts[1], ends[1]);
      batch.faceTokens.push(buffer.toString('utf8', starts[0], ends[0]));
      batch.groupIds.push(starts[2] === -1 ? [] : buffer.toString('latin1', starts[2], ends[2]).split(' ').map((pk) => groupOfPk.get(pk)!));
      if (batch.faceTokens.length === batchSize) {
        full.push(batch);
        batch = { faceTokens: [], records: Buffer.alloc(0), groupIds: [] };
      }
    };
    const rows = client.query(copyTo(copyRecords(client.escapeLiteral(modelId))));
    for await (const _ of readBinaryCopy(rows, 3, onRow)) yield* full.splice(0);
    if (batch.faceTokens.length > 0) yield { ...batch, records: batch.records.subarray(0, batch.faceTokens.length * recordBytes) };
    yield* compactBatches(unrecordedVectors(client, modelId, batchSize), batchSize);
    await client.query('COMMIT');
    committed = true;
  } finally {
    // Stopped midway (an error, or a consumer that returned early), the connection may be inside the COPY:
    // closing it ends the transaction too.
    client.release(!committed);
  }
}

/** The faces UNRECORDED_IDS finds, with their vectors by the model (same snapshot). */
async function* unrecordedVectors(client: pg.ClientBase, modelId: string, batchSize: number): AsyncIterable<StoredVector> {
  for (let afterId = 0; ; ) {
    const ids = (await client.query<{ face_id: number }>(UNRECORDED_IDS, [modelId, afterId, batchSize])).rows.map((row) => row.face_id);
    if (ids.length === 0) return;
    const { rows } = await client.query<VectorSql>(`${selectVectorsByModel} AND f.id = ANY($2::bigint[]) ORDER BY f.id`, [modelId, ids]);
    for (const row of rows) yield toStoredVector(row);
    if (ids.length < batchSize) return;
    afterId = ids.at(-1)!;
  }
}
