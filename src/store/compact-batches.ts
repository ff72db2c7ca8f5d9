/** Compact batches encoded on the fly from float32 vectors (stores that persist no compact records). */
import { encodeCompact } from '../index/compact-codec.js';
import type { CompactVectorBatch, StoredVector } from './store.js';

export async function* compactBatches(vectors: AsyncIterable<StoredVector>, batchSize: number): AsyncIterable<CompactVectorBatch> {
  let batch: CompactVectorBatch = { faceTokens: [], records: [], groupIds: [] };
  for await (const vector of vectors) {
    batch.faceTokens.push(vector.faceToken);
    batch.records.push(encodeCompact(vector.embedding));
    batch.groupIds.push(vector.groupIds);
    if (batch.faceTokens.length === batchSize) {
      yield batch;
      batch = { faceTokens: [], records: [], groupIds: [] };
    }
  }
  if (batch.faceTokens.length > 0) yield batch;
}
