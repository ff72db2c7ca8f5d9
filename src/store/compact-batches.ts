/** Compact batches encoded on the fly from float32 vectors (stores that persist no compact records). */
import { encodeCompact } from '../index/compact-codec.js';
import type { CompactVectorBatch, StoredVector } from './store.js';

export async function* compactBatches(vectors: AsyncIterable<StoredVector>, batchSize: number): AsyncIterable<CompactVectorBatch> {
  let faceTokens: string[] = [];
  let records: Uint8Array[] = [];
  let groupIds: string[][] = [];
  const batch = (): CompactVectorBatch => ({ faceTokens, records: Buffer.concat(records), groupIds });
  for await (const vector of vectors) {
    faceTokens.push(vector.faceToken);
    records.push(encodeCompact(vector.embedding));
    groupIds.push(vector.groupIds);
    if (faceTokens.length === batchSize) {
      yield batch();
      [faceTokens, records, groupIds] = [[], [], []];
    }
  }
  if (faceTokens.length > 0) yield batch();
}
