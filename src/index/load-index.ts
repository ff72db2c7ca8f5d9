/** Builds the vector index from the store at start-up. */
import type { Store, StoredVector } from '../store/store.js';
import { VectorIndex } from './vector-index.js';

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

export async function loadVectorIndex(store: Store, model: IndexModel, tuning: { shortlist?: number } = {}): Promise<IndexLoadResult> {
  // The exact re-score reads the same model's vectors the index holds (current or staged).
  const exact = (faceTokens: readonly string[]) => store.getEmbeddings(faceTokens, model.modelId);
  const index = new VectorIndex(model.embeddingSize, { exact, ...tuning });
  let loaded = 0;
  // Each face's embedding by this model: its current one, or one staged by a re-embedding run.
  for await (const face of store.streamVectors(model.modelId)) {
    if (!isSearchable(face, model)) continue;
    index.add(face.faceToken, face.embedding, face.groupIds);
    loaded += 1;
  }
  const { faces } = await store.modelCoverage(model.modelId);
  return { index, loaded, skippedOtherModel: faces - loaded };
}
