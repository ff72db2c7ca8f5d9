/**
 * The start-up files-against-rows check of a store that keeps files (SQLite), run once the server is ready:
 * its slow part (listing the files, reading the names) beside registrations and deletions, only the
 * re-verification and the repair in the write queue, with the index dropping the faces it deleted.
 */
import type { LibraryContext } from './context.js';

export async function checkStoreFiles(context: LibraryContext): Promise<void> {
  const { store, index, writes } = context;
  await store.checkConsistency?.((section) =>
    writes.run(async () => {
      const repair = await section();
      for (const faceToken of repair.removedFaceTokens) index.remove(faceToken);
      return repair;
    }),
  );
}
