/** Builds the vector index from the store at start-up. */
import type { Store, StoredVector } from '../store/store.js';
import { recordLayout } from './compact-codec.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';

export interface IndexLoadResult {
  index: VectorIndex;
  loaded: number;
  /** Faces with no embedding by today's model yet: not comparable with its queries, so not searchable until re-embedded. */
  skippedOtherModel: number;
}

/** The model today's queries are embedded with. */
export interface IndexModel {
  modelId: string;
  embeddingSize: number;
}

/** A stored face is searchable only when today's model embedded it. */
export const isSearchable = (face: StoredVector, model: IndexModel): boolean =>
  face.modelId === model.modelId && face.embedding.length === model.embeddingSize;

/** Room for the library and an eighth more: it loads into one segment, and the first registrations after need no growth. */
export const capacityFor = (faces: number): number => Math.ceil(faces * 1.125) + 1024;

export async function loadVectorIndex(
  store: Store,
  model: IndexModel,
  tuning: Pick<VectorIndexOptions, 'shortlist' | 'scanThreads' | 'parallelFrom' | 'cosineScanUpTo'> = {},
): Promise<IndexLoadResult> {
  const { faces } = await store.modelCoverage(model.modelId);
  // The exact re-score reads the same model's vectors the index holds (current or staged).
  const exact = (faceTokens: readonly string[]) => store.getEmbeddings(faceTokens, model.modelId);
  const index = new VectorIndex(model.embeddingSize, { exact, initialCapacity: capacityFor(faces), ...tuning });
  const loaded = await fillIndex(index, store, model);
  return { index, loaded, skippedOtherModel: faces - loaded };
}

/** Adds each face's embedding by the model (its current one, or one staged by a re-embedding run), from its compact record; returns how many. */
export async function fillIndex(index: VectorIndex, store: Store, model: IndexModel): Promise<number> {
  const recordBytes = recordLayout(model.embeddingSize).bytes;
  let loaded = 0;
  for await (const { faceTokens, records, groupIds } of store.streamCompactVectors(model.modelId)) {
    if (records.length !== faceTokens.length * recordBytes) continue; // another embedding size: not searchable
    faceTokens.forEach((faceToken, k) => index.addRecord(faceToken, records.subarray(k * recordBytes, (k + 1) * recordBytes), groupIds[k]!));
    loaded += faceTokens.length;
  }
  return loaded;
}
