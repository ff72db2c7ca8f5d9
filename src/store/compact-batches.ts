/**
 * Compact batches as start-up loads them (src/index/compact-codec.ts): read from blocks of persisted records
 * (one SQL row per block of faces, in either store), or encoded on the fly from float32 vectors (faces
 * without a persisted record of the wanted model: staged by a re-embedding, or not filled in yet).
 */
import { encodeCompact } from '../index/compact-codec.js';
import type { CompactVectorBatch, StoredVector } from './store.js';

/** One block of faces' persisted compact records in one SQL row, as both stores' block queries return it. */
export interface CompactBlockSql {
  count: number;
  first_id: number | null;
  last_id: number | null;
  /** Comma-separated (face tokens are letters and digits); the three lists come from one aggregation pass, so in one order. */
  tokens: string | null;
  ids: string | null;
  /** The records back to back. */
  records: Buffer | null;
  min_bytes: number | null;
  max_bytes: number | null;
}

/**
 * The batch of a non-empty block. `groupsOf` maps face id → groups (faces without a group absent); `open`
 * turns the stored records (`recordBytes` each) into plain ones (the identity unless sealed at rest).
 */
export function batchOfBlock(
  block: CompactBlockSql,
  groupsOf: ReadonlyMap<number, string[]>,
  open: (records: Buffer, recordBytes: number) => Uint8Array = (records) => records,
): CompactVectorBatch {
  const faceTokens = block.tokens!.split(',');
  const faceIds = block.ids!.split(',').map(Number);
  if (faceTokens.length !== block.count || faceIds.length !== block.count || block.min_bytes !== block.max_bytes) {
    throw new Error('compact vectors hold a face token with a comma or records of different sizes for one model');
  }
  return { faceTokens, records: open(block.records!, block.max_bytes!), groupIds: faceIds.map((faceId) => groupsOf.get(faceId) ?? []) };
}

/** Binding pairs (face id, group pk) → each face's group ids. */
export function groupsByFace(bindings: Iterable<readonly [number, number]>, groupOfPk: ReadonlyMap<number, string>): Map<number, string[]> {
  const groupsOf = new Map<number, string[]>();
  for (const [faceId, groupPk] of bindings) {
    const groupId = groupOfPk.get(groupPk)!;
    const list = groupsOf.get(faceId);
    if (list) list.push(groupId);
    else groupsOf.set(faceId, [groupId]);
  }
  return groupsOf;
}

/** Compact batches encoded on the fly from float32 vectors. */
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
