/**
 * The section 1 and 2 services over a real SQLite store, a real index and the real analyzer on the
 * face-api demo photos (group photos; registration takes the largest face).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadVectorIndex } from '../src/index/load-index.js';
import { VectorIndex } from '../src/index/vector-index.js';
import { imageIdFor, newFaceToken } from '../src/library/ids.js';
import { createLibrary } from '../src/library/library.js';
import { DEFAULT_QUALITY_THRESHOLDS, qualityFailures, type QualityThresholds } from '../src/library/quality-gate.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { FaceAnalyzer } from '../src/vision/types.js';
import { VisageError } from '../src/errors.js';
import { rejectsWith } from './helpers/errors.js';

const photo = (n: number): Uint8Array =>
  new Uint8Array(readFileSync(`node_modules/@vladmandic/face-api/demo/sample${n}.jpg`));

let analyzer: FaceAnalyzer;
const scratch = mkdtempSync(join(tmpdir(), 'visage-library-test-'));
let directories = 0;

before(async () => {
  analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
});
after(async () => {
  await analyzer?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Fixture {
  store: Store;
  index: VectorIndex;
  library: ReturnType<typeof createLibrary>;
}

async function withLibrary(
  test: (fixture: Fixture) => Promise<void>,
  quality: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): Promise<void> {
  const store = await openSqliteStore({ dataDir: join(scratch, `data-${++directories}`) });
  const index = new VectorIndex(analyzer.embeddingSize, { exact: (faceTokens) => store.getEmbeddings(faceTokens) });
  try {
    await test({ store, index, library: createLibrary({ store, index, analyzer, quality }) });
  } finally {
    await store.close();
  }
}

const register = (fixture: Fixture, image: Uint8Array, imageMd5 = '') =>
  fixture.library.faces.register({ image, imageMd5, description: 'demo photo', name: 'someone', gender: '' });

describe('identifiers', () => {
  it('derives the imageId from md5 as URL-safe Base64 with padding', () => {
    const bytes = photo(1);
    const expected = createHash('md5').update(bytes).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
    assert.equal(imageIdFor('', bytes), expected);
    assert.equal(expected.length, 24);
    assert.ok(expected.endsWith('=='));
  });

  it('uses a valid imageMd5 as the imageId and refuses an invalid one', () => {
    assert.equal(imageIdFor('client_id-1==', photo(1)), 'client_id-1==');
    assert.equal(imageIdFor('x'.repeat(32), photo(1)), 'x'.repeat(32));
    for (const bad of ['x'.repeat(33), 'has space', 'a/b', 'dot.ted', 'é']) {
      assert.throws(() => imageIdFor(bad, photo(1)), (error: unknown) =>
        error instanceof VisageError && error.message === 'INVALID_PARAM:imageMd5');
    }
  });

  it('makes 24-character URL-safe face tokens', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newFaceToken));
    assert.equal(tokens.size, 1000);
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{24}$/);
  });
});

describe('faces (section 1)', () => {
  it('registers the largest face, binds it to default, and reads face and image back', () =>
    withLibrary(async (fixture) => {
      const image = photo(1);
      const everyFace = (await analyzer.analyze(image)).faces;
      const mainFace = everyFace[0]!;
      const area = (r: typeof mainFace.rect) => (r.right - r.left) * (r.bottom - r.top);
      const registered = await register(fixture, image);
      assert.equal(registered.imageId, imageIdFor('', image));
      assert.match(registered.faceToken, /^[A-Za-z0-9_-]{24}$/);
      assert.deepEqual(registered.rect, mainFace.rect);
      // The main face is the largest, or within a factor of two of it (then the more central; pipeline.ts).
      assert.ok(everyFace.length > 1 && everyFace.every((face) => area(face.rect) < 2 * area(registered.rect)));

      const face = await fixture.library.faces.getFace(registered.faceToken);
      assert.equal(face.id, registered.id);
      assert.deepEqual(face.groupIds, ['default']);
      assert.equal(face.description, 'demo photo');
      assert.equal(face.name, 'someone');
      assert.deepEqual([...face.crop.subarray(0, 2)], [0xff, 0xd8]); // a JPEG

      const original = await fixture.library.faces.getImage(registered.imageId);
      assert.equal(original.format, 'jpeg');
      assert.deepEqual(original.bytes, image);
      assert.deepEqual(original.faceTokens, [registered.faceToken]);

      assert.equal(fixture.index.size, 1);
      assert.deepEqual(fixture.index.groupsOf(registered.faceToken), ['default']);
      // The stored embedding is the one the index holds: it finds itself.
      const [self] = await fixture.index.search(mainFace.embedding, { groups: ['default'], limit: 1 });
      assert.equal(self?.faceToken, registered.faceToken);
    }));

  it('refuses the same image twice unless a different imageMd5 is given', () =>
    withLibrary(async (fixture) => {
      const image = photo(2);
      const first = await register(fixture, image);
      await rejectsWith(register(fixture, image), 'FACE_ALREADY_EXIST');
      const second = await register(fixture, image, 'second-copy');
      assert.equal(second.imageId, 'second-copy');
      assert.notEqual(second.faceToken, first.faceToken);
      await rejectsWith(register(fixture, image, 'bad id!'), 'INVALID_PARAM:imageMd5');
      const page = await fixture.library.faces.list({ offset: 0, size: 10 });
      assert.equal(page.total, 2);
      assert.deepEqual(page.faces.map((face) => face.faceToken), [first.faceToken, second.faceToken]);
    }));

  // The demo photos hold no face beyond the default limits, so the gate is tightened to sample4's measured yaw.
  const strictYaw = { ...DEFAULT_QUALITY_THRESHOLDS, maxYaw: 15 };
  it('refuses a face turned beyond the configured limit: BAD_QUALITY:ANGLE with the measured values', () =>
    withLibrary(async (fixture) => {
      const mainFace = (await analyzer.analyze(photo(4))).faces[0]!;
      assert.ok(Math.abs(mainFace.pose.yaw) > strictYaw.maxYaw, `sample4's main face has yaw ${mainFace.pose.yaw}`);
      const reasons = qualityFailures(mainFace, strictYaw);
      assert.ok(reasons.includes('ANGLE'));
      await assert.rejects(register(fixture, photo(4)), (error: unknown) => {
        assert.ok(error instanceof VisageError);
        assert.equal(error.message, `BAD_QUALITY:${reasons.join(',')}`);
        assert.equal(error.data.yaw, mainFace.pose.yaw);
        assert.equal(error.data.faceSize, mainFace.quality.faceSize);
        return true;
      });
      assert.equal((await fixture.library.faces.list({ offset: 0, size: 10 })).total, 0);
    }, strictYaw));

  it('answers FACE_NOT_FOUND for an image without a face', () =>
    withLibrary(async (fixture) => {
      const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } })
        .jpeg()
        .toBuffer();
      await rejectsWith(register(fixture, new Uint8Array(blank)), 'FACE_NOT_FOUND');
    }));

  it('deleting a face keeps its image and imageId; deleting the image removes the rest', () =>
    withLibrary(async (fixture) => {
      const { faces } = fixture.library;
      const registered = await register(fixture, photo(3));
      await faces.deleteFace(registered.faceToken);
      assert.equal(fixture.index.size, 0);
      await rejectsWith(faces.getFace(registered.faceToken), 'FACE_TOKEN_NOT_EXIST');
      await rejectsWith(faces.deleteFace(registered.faceToken), 'FACE_TOKEN_NOT_EXIST');
      const original = await faces.getImage(registered.imageId);
      assert.deepEqual(original.faceTokens, []);
      await rejectsWith(register(fixture, photo(3)), 'FACE_ALREADY_EXIST');

      await faces.deleteImage(registered.imageId);
      await rejectsWith(faces.getImage(registered.imageId), 'IMAGE_ID_NOT_EXIST');
      await rejectsWith(faces.deleteImage(registered.imageId), 'IMAGE_ID_NOT_EXIST');

      const again = await register(fixture, photo(3));
      await faces.deleteImage(again.imageId);
      assert.equal(fixture.index.size, 0);
      await rejectsWith(faces.getFace(again.faceToken), 'FACE_TOKEN_NOT_EXIST');
    }));

  it('wipe empties faces, images and the index; groups stay', () =>
    withLibrary(async (fixture) => {
      const { faces, groups } = fixture.library;
      await groups.create({ groupId: 'g', groupName: 'G', groupType: '', groupScore: 80 });
      const registered = await register(fixture, photo(5));
      await groups.bind(registered.faceToken, ['g']);
      await faces.wipe();
      assert.equal(fixture.index.size, 0);
      assert.equal((await faces.list({ offset: 0, size: 10 })).total, 0);
      await rejectsWith(faces.getImage(registered.imageId), 'IMAGE_ID_NOT_EXIST');
      assert.deepEqual(
        (await groups.list()).map((group) => [group.groupId, group.groupFaces]),
        [['default', 0], ['g', 0]],
      );
    }));
});

describe('groups (section 2)', () => {
  it('allows 63 groups besides default, then GROUP_OVER_LIMIT', () =>
    withLibrary(async ({ library: { groups } }) => {
      for (let i = 1; i <= 63; i++) await groups.create({ groupId: `g${i}`, groupName: `G${i}`, groupType: '', groupScore: 80 });
      await rejectsWith(
        groups.create({ groupId: 'g64', groupName: 'G64', groupType: '', groupScore: 80 }),
        'GROUP_OVER_LIMIT',
      );
      assert.equal((await groups.list()).length, 64);
    }));

  it('never deletes default (modes 1, 2, 4 → GROUP_BEUSED) but allows mode 3', () =>
    withLibrary(async (fixture) => {
      const { groups } = fixture.library;
      const registered = await register(fixture, photo(6));
      for (const mode of [1, 2, 4] as const) await rejectsWith(groups.delete('default', mode), 'GROUP_BEUSED');
      await groups.delete('default', 3);
      assert.deepEqual(
        (await groups.list()).map((group) => [group.groupId, group.groupFaces]),
        [['default', 0]],
      );
      // The face was bound to default only, so mode 3 removed it (its original stays).
      assert.equal(fixture.index.size, 0);
      await rejectsWith(fixture.library.faces.getFace(registered.faceToken), 'FACE_TOKEN_NOT_EXIST');
      assert.deepEqual((await fixture.library.faces.getImage(registered.imageId)).faceTokens, []);
    }));

  it('binds and unbinds idempotently, reports unknown groups, and keeps the index in step', () =>
    withLibrary(async (fixture) => {
      const { groups } = fixture.library;
      await groups.create({ groupId: 'staff', groupName: 'Staff', groupType: 'white', groupScore: 75 });
      const { faceToken } = await register(fixture, photo(1));

      assert.deepEqual(await groups.bind(faceToken, ['staff', 'nope', 'staff', 'nada']), {
        totalCnt: 4,
        successCnt: 2,
        failCnt: 2,
        failInfo: [
          { groupId: 'nope', errorMsg: 'GROUP_ID_NOT_EXIST' },
          { groupId: 'nada', errorMsg: 'GROUP_ID_NOT_EXIST' },
        ],
      });
      assert.deepEqual(fixture.index.groupsOf(faceToken)?.sort(), ['default', 'staff']);
      assert.deepEqual((await fixture.library.faces.getFace(faceToken)).groupIds, ['default', 'staff']);

      assert.equal((await groups.unbind(faceToken, ['default'])).successCnt, 1);
      assert.equal((await groups.unbind(faceToken, ['default'])).successCnt, 1); // not a member: still a success
      assert.deepEqual(fixture.index.groupsOf(faceToken), ['staff']);
      await rejectsWith(groups.bind('x'.repeat(24), ['staff']), 'FACE_TOKEN_NOT_EXIST');

      const members = await groups.members('staff', { offset: 0, size: 10 });
      assert.deepEqual(members.faces.map((face) => face.faceToken), [faceToken]);
      await rejectsWith(groups.members('nope', { offset: 0, size: 10 }), 'GROUP_ID_NOT_EXIST');
    }));

  it('mode 2 deletes the members everywhere, index included; a reload sees the same library', () =>
    withLibrary(async (fixture) => {
      const { groups, faces } = fixture.library;
      await groups.create({ groupId: 'visitors', groupName: 'Visitors', groupType: '', groupScore: 80 });
      const member = await register(fixture, photo(2));
      const other = await register(fixture, photo(3));
      await groups.bind(member.faceToken, ['visitors']);
      await groups.delete('visitors', 2);
      await rejectsWith(faces.getFace(member.faceToken), 'FACE_TOKEN_NOT_EXIST');
      assert.ok(await faces.getImage(member.imageId)); // originals stay
      assert.equal(fixture.index.size, 1);
      await rejectsWith(groups.delete('visitors', 1), 'GROUP_ID_NOT_EXIST');

      const reloaded = await loadVectorIndex(fixture.store, analyzer);
      assert.equal(reloaded.loaded, 1);
      assert.equal(reloaded.skippedOtherModel, 0);
      assert.deepEqual(reloaded.index.groupsOf(other.faceToken), ['default']);
    }));

  it('updates a group partially and reports name conflicts', () =>
    withLibrary(async ({ library: { groups } }) => {
      await groups.create({ groupId: 'a', groupName: 'Alpha', groupType: 't', groupScore: 80 });
      await groups.create({ groupId: 'b', groupName: 'Beta', groupType: 't', groupScore: 80 });
      await rejectsWith(groups.create({ groupId: 'a', groupName: 'X', groupType: '', groupScore: 80 }), 'GROUP_ID_CONFLICT');
      await rejectsWith(groups.create({ groupId: 'c', groupName: 'Beta', groupType: '', groupScore: 80 }), 'GROUP_NAME_CONFLICT');
      await groups.update({ groupId: 'a', groupScore: 65 });
      await rejectsWith(groups.update({ groupId: 'a', groupName: 'Beta' }), 'GROUP_NAME_CONFLICT');
      await rejectsWith(groups.update({ groupId: 'zzz', groupScore: 1 }), 'GROUP_ID_NOT_EXIST');
      const alpha = (await groups.list()).find((group) => group.groupId === 'a');
      assert.deepEqual(alpha, { groupId: 'a', groupName: 'Alpha', groupType: 't', groupScore: 65, groupFaces: 0 });
    }));
});
