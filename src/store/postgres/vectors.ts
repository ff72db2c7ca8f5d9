/** How a face's vector and groups are read, shared by the start-up stream and the change follower. */
import { bytesToEmbedding } from '../embedding-bytes.js';
import type { StoredVector } from '../store.js';

export interface VectorSql {
  id: number;
  face_token: string;
  model_id: string;
  embedding: Buffer;
  group_ids: string[];
}

/** Append a WHERE clause (on `f`) and an ORDER BY. */
export const selectVectors = `
  SELECT f.id, f.face_token, f.model_id, f.embedding,
         ARRAY(SELECT g.group_id FROM bindings b JOIN face_groups g ON g.pk = b.group_pk
               WHERE b.face_id = f.id ORDER BY b.seq) AS group_ids
  FROM faces f`;

export const toStoredVector = (row: VectorSql): StoredVector => ({
  faceToken: row.face_token,
  modelId: row.model_id,
  embedding: bytesToEmbedding(row.embedding),
  groupIds: row.group_ids,
});
