/** How a face's vector and groups are read, shared by the start-up streams and the change follower. */
import { bytesToEmbedding } from '../embedding-bytes.js';
import type { StoredVector } from '../store.js';

export interface VectorSql {
  id: number;
  face_token: string;
  model_id: string;
  embedding: Buffer;
  group_ids: string[];
}

/** The group ids of face `f`, in binding order. */
export const GROUP_IDS_OF_FACE = `ARRAY(SELECT g.group_id FROM bindings b JOIN face_groups g ON g.pk = b.group_pk
                                WHERE b.face_id = f.id ORDER BY b.seq)`;

/** Append a WHERE clause (on `f`) and an ORDER BY. */
export const selectVectors = `
  SELECT f.id, f.face_token, f.model_id, f.embedding, ${GROUP_IDS_OF_FACE} AS group_ids
  FROM faces f`;

/**
 * Each face's embedding by the model `$1`: its current one when that model made it, else a staged one (faces
 * with neither left out). Append `AND` conditions (on `f`) and an ORDER BY.
 */
export const selectVectorsByModel = `
  SELECT f.id, f.face_token, $1::text AS model_id, coalesce(s.embedding, f.embedding) AS embedding,
         ${GROUP_IDS_OF_FACE} AS group_ids
  FROM faces f LEFT JOIN staged_embeddings s ON s.face_id = f.id AND s.model_id = $1
  WHERE (f.model_id = $1 OR s.face_id IS NOT NULL)`;

export const toStoredVector = (row: VectorSql): StoredVector => ({
  faceToken: row.face_token,
  modelId: row.model_id,
  embedding: bytesToEmbedding(row.embedding),
  groupIds: row.group_ids,
});
