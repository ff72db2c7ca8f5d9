/**
 * `visage export FILE`: the whole library of the configured store — groups with their thresholds, images
 * (faceless ones too), faces with their ids, tokens, metadata, bindings, crops and embeddings — into one
 * archive (format: library-archive.ts). Reads through the Store interface, so it works on any store; safe
 * beside a running server, though faces registered during the export may be missed.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Store } from '../store/store.js';
import { openConfiguredStore } from './cli-config.js';
import { CliError } from './cli-error.js';
import { ArchiveWriter, type ArchivedFace, type ArchivedImage } from './library-archive.js';

export function exportCommand(): Command {
  return new Command('export')
    .description('write the whole library (VISAGE_DATA) to one archive file (.tar, or .tar.gz to compress)')
    .argument('<file>', 'archive to write')
    .option('-f, --force', 'overwrite an existing file', false)
    .action(async (file: string, options: { force: boolean }) => {
      const path = resolve(file);
      if (!options.force && (await stat(path).then(() => true, () => false))) {
        throw new CliError(`${path} exists (use --force to overwrite it)`);
      }
      const store = await openConfiguredStore();
      try {
        const groups = await store.listGroups();
        const writer = await ArchiveWriter.create(path, groups);
        try {
          for await (const imageId of store.streamImageIds()) {
            const image = await readImage(store, imageId);
            if (image) await writer.addImage(image);
          }
          const counts = await writer.finish();
          const { size } = await stat(path);
          console.log(`exported ${groups.length} group(s), ${counts.images} image(s), ${counts.faces} face(s) to ${path} (${(size / 2 ** 20).toFixed(1)} MiB)`);
        } catch (error) {
          await writer.abandon();
          throw error;
        }
      } finally {
        await store.close();
      }
    });
}

/** One image with everything stored about its faces; undefined when it was deleted meanwhile. */
async function readImage(store: Store, imageId: string): Promise<ArchivedImage | undefined> {
  const image = await store.getImage(imageId);
  if (!image) return undefined;
  const faces: ArchivedFace[] = [];
  for (const faceToken of image.faceTokens) {
    const face = await store.getFace(faceToken);
    if (!face) continue;
    const { id, name, gender, rect, modelId, groupIds, embedding, crop } = face;
    faces.push({ id, faceToken, name, gender, rect, modelId, groupIds, embedding, crop });
  }
  return { imageId, description: image.description, format: image.format, bytes: image.bytes, faces };
}
