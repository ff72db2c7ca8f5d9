/** The photos under a folder, for bulk import: every file with an image extension, hidden entries skipped. */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Extensions of the formats the server accepts (JPEG, PNG, BMP, WebP). */
const PHOTO_EXTENSIONS = /\.(jpe?g|png|bmp|webp)$/i;

export interface FolderContents {
  /** Paths relative to the root, '/'-separated, sorted, so every run walks the same order. */
  photos: string[];
  /** Other files, not sent. */
  ignored: string[];
}

export async function listPhotos(root: string): Promise<FolderContents> {
  const contents: FolderContents = { photos: [], ignored: [] };
  const walk = async (directory: string): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const relativePath = relative(root, path).split('\\').join('/');
        (PHOTO_EXTENSIONS.test(entry.name) ? contents.photos : contents.ignored).push(relativePath);
      }
    }
  };
  await walk(root);
  return contents;
}
