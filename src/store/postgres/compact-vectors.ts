/**
 * The compact records of the search index in PostgreSQL (migration 4): written beside each embedding in its
 * transaction, filled in at open for faces listed in `compact_pending`, and streamed at start-up in blocks
 * of thousands of faces per row, inside one snapshot.
 */
import type pg from 'pg';
import { encodeCompact } from '../../index/compact-codec.js';
import { batchOfBlock, compactBatches, groupsByFace, type CompactBlockSql } from '../compact-batches.js';
import type { CompactVectorBatch, StoredVector } from '../store.js';
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
 * share the work (SKIP LOCKED); faces another one still holds are encoded on the way by streamCompactBlocks.
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

interface BlockSql extends CompactBlockSql {
  /** The bindings of faces first_id..last_id: "faceId groupPk" pairs, space-separated. */
  bindings: string | null;
}

/**
 * One block in one row: the records of the next `$3` faces after id `$2` whose current embedding is by the
 * model `$1` — not those with an embedding by it staged (the staged one wins) nor pending ones (their record
 * may be missing or stale) — and the bindings of that id range. The lists come from one aggregation pass,
 * so they are in one order.
 */
const BLOCK = `
  WITH block AS (
    SELECT c.face_id, c.face_token, c.record FROM compact_vectors c
    WHERE c.model_id = $1 AND c.face_id > $2
      AND NOT EXISTS (SELECT 1 FROM staged_embeddings s WHERE s.face_id = c.face_id AND s.model_id = $1)
      AND NOT EXISTS (SELECT 1 FROM compact_pending p WHERE p.face_id = c.face_id)
    ORDER BY c.face_id LIMIT $3),
  summary AS (
    SELECT count(*)::int AS count, min(face_id) AS first_id, max(face_id) AS last_id,
           string_agg(face_token, ',') AS tokens, string_agg(face_id::text, ',') AS ids,
           string_agg(record, ''::bytea) AS records, min(length(record)) AS min_bytes, max(length(record)) AS max_bytes
    FROM block)
  SELECT summary.*,
         (SELECT string_agg(b.face_id || ' ' || b.group_pk, ' ') FROM bindings b
          WHERE b.face_id BETWEEN summary.first_id AND summary.last_id) AS bindings
  FROM summary`;

/** The faces after id `$2` whose embedding by model `$1` is staged or whose record is pending, `$3` at most. */
const UNRECORDED_IDS = `
  SELECT face_id FROM staged_embeddings WHERE model_id = $1 AND face_id > $2
  UNION SELECT face_id FROM compact_pending WHERE face_id > $2
  ORDER BY face_id LIMIT $3`;

function bindingPairs(text: string | null): Array<[number, number]> {
  if (text === null) return [];
  const numbers = text.split(' ');
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < numbers.length; k += 2) pairs.push([Number(numbers[k]), Number(numbers[k + 1])]);
  return pairs;
}

/**
 * Every face with an embedding by `modelId` (current or staged), compact, as Store.streamCompactVectors
 * promises: persisted records in blocks of `blockSize` faces, then the few without a
 * usable record encoded from their float32 embeddings. One REPEATABLE READ snapshot, so a face whose record
 * another replica fills in meanwhile is streamed exactly once.
 */
export async function* streamCompactBlocks(pool: pg.Pool, modelId: string, blockSize: number): AsyncIterable<CompactVectorBatch> {
  const client = await pool.connect();
  let inFlight: Promise<pg.QueryResult<BlockSql>> | undefined;
  let committed = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const groups = await client.query<{ pk: number; group_id: string }>('SELECT pk, group_id FROM face_groups');
    const groupOfPk = new Map(groups.rows.map((row) => [row.pk, row.group_id]));
    inFlight = client.query<BlockSql>(BLOCK, [modelId, 0, blockSize]);
    for (;;) {
      const block: BlockSql = (await inFlight).rows[0]!;
      inFlight = undefined;
      // The next block is read while this one is handed over.
      if (block.count === blockSize) inFlight = client.query<BlockSql>(BLOCK, [modelId, block.last_id, blockSize]);
      if (block.count > 0) yield batchOfBlock(block, groupsByFace(bindingPairs(block.bindings), groupOfPk));
      if (!inFlight) break;
    }
    yield* compactBatches(unrecordedVectors(client, modelId, blockSize), blockSize);
    await client.query('COMMIT');
    committed = true;
  } finally {
    await inFlight?.catch(() => undefined); // a consumer that stopped early leaves one read in flight
    let broken = false;
    if (!committed) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection itself failed: do not return it to the pool
      }
    }
    client.release(broken);
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
