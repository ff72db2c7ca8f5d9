/** Builds the vector index from the store at start-up. */
import type { Store } from '../store/store.js';
import { VectorIndex } from './vector-index.js';

export interface IndexLoadResult {
  index: VectorIndex;
  loaded: number;
  /** Faces embedded by another model: not comparable with today's queries, so not searchable. */
  skippedOtherModel: number;
}

export async function loadVectorIndex(
  store: Store,
  model: { modelId: string; embeddingSize: number },
): Promise<IndexLoadResult> {
  const index = new VectorIndex(model.embeddingSize);
  let loaded = 0;
  let skippedOtherModel = 0;
  for await (const face of store.streamVectors()) {
    if (face.modelId !== model.modelId || face.embedding.length !== model.embeddingSize) {
      skippedOtherModel += 1;
      continue;
    }
    index.add(face.faceToken, face.embedding, face.groupIds);
    loaded += 1;
  }
  return { index, loaded, skippedOtherModel };
}
