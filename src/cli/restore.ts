/**
 * `visage restore FILE`: an archive of `visage export` into an empty library (the configured store), with no
 * re-enrolment: the stored embeddings, ids and tokens come back as they were, so searches score the same.
 * The archive is read twice: once to check it end to end (a damaged or truncated file writes nothing), then
 * to restore. Run it with no server on the target; start the server afterwards (it loads the index).
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { VisageError } from '../errors.js';
import { DEFAULT_GROUP_ID, type Store } from '../store/store.js';
import { openConfiguredStore } from './cli-config.js';
import { CliError } from './cli-error.js';
import { readArchive, type ArchiveCounts } from './library-archive.js';

export function restoreCommand(): Command {
  return new Command('restore')
    .description('load an archive of `visage export` into an empty library (VISAGE_DATA); no server may be running on it')
    .argument('<file>', 'archive to read')
    .action(async (file: string) => {
      const path = resolve(file);
      const counts = await checkArchive(path);
      const store = await openConfiguredStore({ checkConsistency: true });
      try {
        await requireEmpty(store);
        await restore(store, path, counts);
      } finally {
        await store.close();
      }
    });
}

async function checkArchive(path: string): Promise<ArchiveCounts & { groups: number }> {
  const { groups, images } = await readArchive(path);
  const counts = { groups: groups.length, images: 0, faces: 0 };
  for await (const image of images) {
    counts.images++;
    counts.faces += image.faces.length;
  }
  return counts;
}

async function requireEmpty(store: Store): Promise<void> {
  const faces = (await store.listFaces({ offset: 0, size: 1 })).total;
  let images = 0;
  for await (const _imageId of store.streamImageIds()) images++;
  const groups = (await store.listGroups()).filter((group) => group.groupId !== DEFAULT_GROUP_ID).length;
  if (faces + images + groups > 0) {
    throw new CliError(
      `restore needs an empty library; this one has ${faces} face(s), ${images} image(s), ${groups} group(s) besides default` +
        ' (point VISAGE_DATA at a new directory)',
    );
  }
}

async function restore(store: Store, path: string, counts: ArchiveCounts & { groups: number }): Promise<void> {
  const { groups, images } = await readArchive(path);
  for (const group of groups) {
    try {
      if (group.groupId === DEFAULT_GROUP_ID) await store.updateGroup(group);
      else await store.createGroup(group);
    } catch (error) {
      if (error instanceof VisageError) throw new CliError(`group ${JSON.stringify(group.groupId)}: ${error.message}`);
      throw error;
    }
  }
  const bar = new SingleBar({ stream: process.stderr, format: 'restoring |{bar}| {value}/{total} images | ETA {eta_formatted}', hideCursor: true });
  bar.start(counts.images, 0);
  try {
    for await (const image of images) {
      const { faces, ...newImage } = image;
      try {
        await store.restoreImage(newImage, faces);
      } catch (error) {
        if (error instanceof VisageError) throw new CliError(`image ${image.imageId}: ${error.message}`);
        throw error;
      }
      bar.increment();
    }
  } finally {
    bar.stop();
  }
  console.log(`restored ${counts.groups} group(s), ${counts.images} image(s), ${counts.faces} face(s) from ${path}`);
}
