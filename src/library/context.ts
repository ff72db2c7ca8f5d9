/** What the library services share: the store (truth), the index (derived) and the write queue. */
import type { VectorIndex } from '../index/vector-index.js';
import type { Store } from '../store/store.js';
import { WriteQueue } from './write-queue.js';

export interface LibraryContext {
  store: Store;
  index: VectorIndex;
  /** Shared by every service that writes, so index updates follow commit order. */
  writes: WriteQueue;
}

export function createLibraryContext(store: Store, index: VectorIndex): LibraryContext {
  return { store, index, writes: new WriteQueue() };
}
