/** Wires the section 1 and 2 services over one store, index and write queue. */
import type { VectorIndex } from '../index/vector-index.js';
import type { Store } from '../store/store.js';
import type { FaceAnalyzer } from '../vision/types.js';
import { createLibraryContext, type LibraryContext } from './context.js';
import { FaceService } from './faces.js';
import { GroupService } from './groups.js';
import type { QualityThresholds } from './quality-gate.js';

export interface LibraryOptions {
  store: Store;
  index: VectorIndex;
  analyzer: FaceAnalyzer;
  quality?: QualityThresholds;
  /** Registration refuses a face at least this similar (cosine) to an enrolled one; absent = off. */
  duplicateMinCosine?: number;
}

export function createLibrary(options: LibraryOptions): { faces: FaceService; groups: GroupService; context: LibraryContext } {
  const context = createLibraryContext(options.store, options.index);
  return {
    faces: new FaceService(context, options.analyzer, options.quality, options.duplicateMinCosine),
    groups: new GroupService(context),
    context,
  };
}
