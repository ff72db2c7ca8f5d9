/**
 * `visage restore FILE`: an archive of `visage export` into the configured store, with no re-enrolment: the
 * stored embeddings, ids and tokens come back as they were, so searches score the same. Run it with no server
 * on the target; start the server afterwards (it loads the index).
 *
 * All-or-nothing for everything that can be checked, resumable for the rest. A whole library is too large for
 * one transaction (and on SQLite its files are outside any), so:
 *  1. the archive is read once to check it end to end — tar structure, JSON, each original's and crop's
 *     SHA-256, ids and tokens unique, every binding to a group it holds — and the library is checked against
 *     it (empty, or holding only what this archive holds: an earlier, interrupted restore); a damaged archive
 *     or a conflict writes nothing;
 *  2. then it is read again and restored image by image, each image with its faces in one transaction,
 *     skipping the images already there; a restore stopped midway (a crash, a full disk, a lost database) says
 *     how far it got and is finished by running the same command again.
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { DEFAULT_GROUP_ID, type GroupRecord, type Store } from '../store/store.js';
import { openConfiguredStore } from './cli-config.js';
import { CliError } from './cli-error.js';
import { readArchive } from './library-archive.js';

export function restoreCommand(): Command {
  return new Command('restore')
    .description(
      'load an archive of `visage export` into an empty library (VISAGE_DATA), or finish an interrupted restore of it; ' +
        'no server may be running on it',
    )
    .argument('<file>', 'archive to read')
    .action(async (file: string) => {
      const path = resolve(file);
      const archive = await checkArchive(path);
      const store = await openConfiguredStore({ checkConsistency: true });
      const bar = new SingleBar({ stream: process.stderr, format: 'restoring |{bar}| {value}/{total} images | ETA {eta_formatted}', hideCursor: true });
      bar.start(archive.images, 0);
      try {
        const report = await restoreArchive(store, path, archive, (done) => bar.update(done));
        bar.stop();
        const skipped = report.skippedImages > 0 ? `; ${report.skippedImages} image(s) were already there from an earlier run` : '';
        console.log(`restored ${report.groups} group(s), ${report.images} image(s), ${report.faces} face(s) from ${path}${skipped}`);
      } finally {
        bar.stop();
        await store.close();
      }
    });
}

/** What the check of an archive learnt, for checking the library against it. */
export interface CheckedArchive {
  groups: GroupRecord[];
  images: number;
  faces: number;
  /** imageId → its face tokens, in archive order, joined by newlines. */
  faceTokensOf: Map<string, string>;
}

export interface RestoreReport {
  groups: number;
  images: number;
  faces: number;
  /** Images the library already had: restored by an earlier, interrupted run. */
  skippedImages: number;
}

const joinTokens = (faceTokens: readonly string[]): string => faceTokens.join('\n');

/** Reads the whole archive (readArchive checks its structure and digests) and its ids; writes nothing. */
export async function checkArchive(path: string): Promise<CheckedArchive> {
  const { groups, images } = await readArchive(path);
  const inconsistent = (detail: string) => new CliError(`${path} cannot be restored: ${detail}`);
  const groupIds = new Set<string>();
  for (const { groupId } of groups) {
    if (groupIds.has(groupId)) throw inconsistent(`group ${JSON.stringify(groupId)} appears twice`);
    groupIds.add(groupId);
  }
  const faceTokensOf = new Map<string, string>();
  const faceTokens = new Set<string>();
  const faceIds = new Set<number>();
  for await (const image of images) {
    if (faceTokensOf.has(image.imageId)) throw inconsistent(`image ${image.imageId} appears twice`);
    for (const face of image.faces) {
      if (faceTokens.has(face.faceToken)) throw inconsistent(`face ${face.faceToken} appears twice`);
      if (faceIds.has(face.id)) throw inconsistent(`face id ${face.id} appears twice`);
      const unknown = face.groupIds.find((groupId) => !groupIds.has(groupId));
      if (unknown !== undefined) throw inconsistent(`face ${face.faceToken} is bound to group ${JSON.stringify(unknown)}, which it does not hold`);
      faceTokens.add(face.faceToken);
      faceIds.add(face.id);
    }
    faceTokensOf.set(image.imageId, joinTokens(image.faces.map((face) => face.faceToken)));
  }
  return { groups, images: faceTokensOf.size, faces: faceTokens.size, faceTokensOf };
}

/**
 * The images of the library, which must all be the archive's with the same faces, and its groups, which must
 * all be the archive's (besides `default`): an empty library, or one this archive was partly restored into.
 */
async function imagesAlreadyRestored(store: Store, archive: CheckedArchive): Promise<Set<string>> {
  const refuse = (detail: string) =>
    new CliError(`restore needs an empty library, or one this archive was partly restored into; this one has ${detail} (point VISAGE_DATA at a new directory)`);
  const archivedGroups = new Set(archive.groups.map((group) => group.groupId));
  const strangers = (await store.listGroups()).filter((group) => group.groupId !== DEFAULT_GROUP_ID && !archivedGroups.has(group.groupId));
  if (strangers.length > 0) throw refuse(`group(s) ${strangers.map((group) => JSON.stringify(group.groupId)).join(', ')}, which the archive does not`);
  const present = new Set<string>();
  for await (const imageId of store.streamImageIds()) {
    const archived = archive.faceTokensOf.get(imageId);
    if (archived === undefined) throw refuse(`image ${imageId}, which the archive does not`);
    const stored = await store.getImage(imageId);
    if (stored && joinTokens(stored.faceTokens) !== archived) throw refuse(`image ${imageId} with other faces than the archive's`);
    present.add(imageId);
  }
  return present;
}

/** Restores a checked archive (see the file's comment); `onImage` hears how many images are done. */
export async function restoreArchive(
  store: Store,
  path: string,
  archive: CheckedArchive,
  onImage: (done: number) => void = () => {},
): Promise<RestoreReport> {
  const present = await imagesAlreadyRestored(store, archive);
  const report: RestoreReport = { groups: 0, images: 0, faces: 0, skippedImages: 0 };
  const { groups, images } = await readArchive(path);
  const stopped = (what: string, error: unknown) => {
    const done = report.images + report.skippedImages;
    return new CliError(
      `restore stopped at ${what}: ${error instanceof Error ? error.message : String(error)}. ` +
        `${done} of ${archive.images} image(s) are in the library; run the same command again to restore the rest`,
    );
  };
  // Groups first (faces are bound to them); existing ones (`default`, or from an earlier run) take the archive's fields.
  const existing = new Set((await store.listGroups()).map((group) => group.groupId));
  for (const group of groups) {
    try {
      if (existing.has(group.groupId)) await store.updateGroup(group);
      else await store.createGroup(group);
    } catch (error) {
      throw stopped(`group ${JSON.stringify(group.groupId)}`, error);
    }
    report.groups += 1;
  }
  // Where a failure stopped it: reading the archive's next image (changed since the check?) or writing one.
  let position = 0;
  let where = `the archive's image 1`;
  try {
    for await (const image of images) {
      position += 1;
      where = `image ${image.imageId} (${position} of ${archive.images})`;
      if (present.has(image.imageId)) {
        report.skippedImages += 1;
      } else {
        const { faces, ...newImage } = image;
        await store.restoreImage(newImage, faces);
        report.images += 1;
        report.faces += faces.length;
      }
      where = `the archive's image ${position + 1}`;
      onImage(position);
    }
  } catch (error) {
    throw stopped(where, error);
  }
  return report;
}
