/**
 * `visage restore` on both stores, below the command line: an archive is checked whole before anything is
 * written, a restore stopped midway is finished by running it again, and a library holding anything else is
 * refused. (test/cli.test.ts runs the real command on a served library.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError } from '../src/cli/cli-error.js';
import { ArchiveWriter, type ArchivedImage } from '../src/cli/library-archive.js';
import { checkArchive, restoreArchive } from '../src/cli/restore.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { GroupRecord, Store } from '../src/store/store.js';
import { freshSchema, openTestPostgresStore, SKIP_WITHOUT_POSTGRES } from './helpers/postgres.js';
import { sampleFace, sampleImage } from './helpers/store-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-restore-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;

const GROUPS: GroupRecord[] = [
  { groupId: 'default', groupName: '', groupType: '', groupScore: 75 },
  { groupId: 'staff', groupName: 'Staff', groupType: 'white', groupScore: 70 },
];

/** Five images, the third faceless, faces bound to `default` and some to `staff` too. */
function sampleLibrary(): ArchivedImage[] {
  let id = 100;
  return [2, 1, 0, 1, 2].map((faceCount, index) => ({
    ...sampleImage(),
    faces: Array.from({ length: faceCount }, (_, k) => ({
      ...sampleFace(),
      id: ++id,
      groupIds: (index + k) % 2 === 0 ? ['default', 'staff'] : ['default'],
    })),
  }));
}

async function writeArchive(images: readonly ArchivedImage[], groups = GROUPS): Promise<string> {
  const file = join(scratch, `library-${++files}.tar`);
  const writer = await ArchiveWriter.create(file, groups);
  for (const image of images) await writer.addImage(image);
  await writer.finish();
  return file;
}

/** Everything the store holds about the restored library, comparable with deepEqual. */
async function contents(store: Store) {
  const groups = (await store.listGroups()).map(({ groupId, groupName, groupType, groupScore, faceCount }) => ({
    groupId, groupName, groupType, groupScore, faceCount,
  }));
  const imageIds: string[] = [];
  for await (const imageId of store.streamImageIds()) imageIds.push(imageId);
  const faces = [];
  for (const { faceToken } of (await store.listFaces({ offset: 0, size: 100 })).rows) {
    const { id, name, rect, groupIds, embedding } = (await store.getFace(faceToken))!;
    faces.push({ id, faceToken, name, rect, groupIds, embedding: [...embedding] });
  }
  return { groups, imageIds: imageIds.sort(), faces };
}

const expectedContents = (images: readonly ArchivedImage[]) => ({
  imageIds: images.map((image) => image.imageId).sort(),
  faces: images.flatMap((image) =>
    image.faces.map(({ id, faceToken, name, rect, groupIds, embedding }) => ({ id, faceToken, name, rect, groupIds, embedding: [...embedding] })),
  ),
});

/** Opens the library at `place` (a data directory, a schema), a new one when `place` is new. */
type OpenAt = (place: string, options?: { groupLimit?: number }) => Promise<Store>;

function restoreSuite(name: string, newPlace: () => string, open: OpenAt, skip: string | false = false) {
  describe(`restore (${name})`, { skip }, () => {
    const withStore = async (test: (store: Store) => Promise<void>, place = newPlace(), options?: { groupLimit?: number }) => {
      const store = await open(place, options);
      try {
        await test(store);
      } finally {
        await store.close();
      }
    };

    it('a restore stopped midway is finished by running it again: nothing twice, nothing missing', () =>
      withStore(async (store) => {
        const images = sampleLibrary();
        const file = await writeArchive(images);
        const archive = await checkArchive(file);
        await assert.rejects(
          restoreArchive(store, file, archive, (done) => {
            if (done === 2) throw new Error('killed after the second image');
          }),
          /restore stopped at the archive's image 3: killed after the second image\. 2 of 5 image\(s\) are in the library; run the same command again/,
        );
        assert.equal((await contents(store)).imageIds.length, 2);

        const report = await restoreArchive(store, file, archive);
        assert.deepEqual(report, { groups: 2, images: 3, faces: 3, skippedImages: 2 });
        const restored = await contents(store);
        assert.deepEqual({ imageIds: restored.imageIds, faces: restored.faces }, expectedContents(images));
        assert.deepEqual(
          restored.groups.map(({ groupId, groupScore, faceCount }) => [groupId, groupScore, faceCount]),
          [['default', 75, 6], ['staff', 70, 2]],
        );

        // Once more on the finished library: nothing to do, nothing changed.
        assert.deepEqual(await restoreArchive(store, file, archive), { groups: 2, images: 0, faces: 0, skippedImages: 5 });
        assert.deepEqual(await contents(store), restored);
      }));

    it('a store failure midway says how far it got; the same command finishes once the cause is gone', async () => {
      const images = sampleLibrary();
      const groups = [...GROUPS, { groupId: 'visitors', groupName: 'Visitors', groupType: '', groupScore: 80 }];
      const file = await writeArchive(images, groups);
      const archive = await checkArchive(file);
      const place = newPlace();
      await withStore(
        (tight) =>
          assert.rejects(restoreArchive(tight, file, archive), (error: unknown) => {
            assert.ok(error instanceof CliError);
            assert.match(error.message, /restore stopped at group "visitors": GROUP_OVER_LIMIT.*0 of 5 image\(s\) are in the library; run the same command again/);
            return true;
          }),
        place,
        { groupLimit: 2 },
      );
      await withStore(
        async (roomy) => {
          assert.deepEqual(await restoreArchive(roomy, file, archive), { groups: 3, images: 5, faces: 6, skippedImages: 0 });
          const restored = await contents(roomy);
          assert.deepEqual({ imageIds: restored.imageIds, faces: restored.faces }, expectedContents(images));
        },
        place,
        { groupLimit: 3 },
      );
    });

    it('refuses a library holding anything the archive does not, before writing', () =>
      withStore(async (store) => {
        const images = sampleLibrary();
        const file = await writeArchive(images);
        const archive = await checkArchive(file);
        await store.registerFace(sampleImage({ imageId: 'enrolled-here' }), sampleFace());
        await assert.rejects(restoreArchive(store, file, archive), /restore needs an empty library, or one this archive was partly restored into; this one has image enrolled-here/);
        assert.deepEqual((await contents(store)).imageIds, ['enrolled-here']);
        assert.equal((await store.getGroup('staff')), undefined);
      }));
  });
}

restoreSuite('sqlite', () => join(scratch, `data-${++files}`), (dataDir, options) => openSqliteStore({ dataDir, ...options }));
restoreSuite('postgres', () => freshSchema(), (schema, options) => openTestPostgresStore({ schema, ...options }), SKIP_WITHOUT_POSTGRES);

describe('restore: archive checks (nothing is written before they pass)', () => {
  it('refuses an archive whose ids repeat or whose faces are bound to groups it does not hold', async () => {
    const [first, second] = sampleLibrary().filter((image) => image.faces.length > 0);
    const unknownGroup = await writeArchive([{ ...first!, faces: [{ ...first!.faces[0]!, groupIds: ['default', 'gone'] }] }]);
    await assert.rejects(checkArchive(unknownGroup), /cannot be restored: face .* is bound to group "gone", which it does not hold/);
    const twice = await writeArchive([first!, { ...second!, imageId: first!.imageId }]);
    await assert.rejects(checkArchive(twice), new RegExp(`cannot be restored: image ${first!.imageId} appears twice`));
    const sameToken = await writeArchive([first!, { ...second!, faces: [{ ...second!.faces[0]!, faceToken: first!.faces[0]!.faceToken }] }]);
    await assert.rejects(checkArchive(sameToken), /cannot be restored: face .* appears twice/);
  });
});
