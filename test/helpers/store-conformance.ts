/**
 * Behaviour every Store implementation must show, written against the Store interface only so the
 * same suite can run against SQLite today and PostgreSQL later: call `storeConformance(name, factory)`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExportedImage, GroupRecord, NewFace, NewImage, Store } from '../../src/store/store.js';
import { encodeCompact } from '../../src/index/compact-codec.js';
import { rejectsWith } from './errors.js';
import { randomUnitVector, seededRandom } from './random-vectors.js';

export interface StoreFactoryOptions {
  groupLimit?: number;
}

/** A fresh, empty store per call; the suite closes it. */
export type StoreFactory = (options?: StoreFactoryOptions) => Promise<Store>;

/** What the suite reads and changes beneath the Store interface, in a store's own tables. */
export interface StoreInternals {
  /** Each face's persisted compact record (as stored: plaintext in these tests) and its model, by face token. */
  persistedCompact(store: Store): Promise<Map<string, { modelId: string; record: Uint8Array }>>;
  /** Closes `store`, drops every compact record as a library written before they were kept, and opens it again. */
  forgetCompactAndReopen(store: Store): Promise<Store>;
}

const DIMENSION = 512;
const MODEL_ID = 'test-model@1';

let sequence = 0;
const random = seededRandom(42);

export function sampleImage(overrides: Partial<NewImage> = {}): NewImage {
  sequence += 1;
  return {
    imageId: `img-${sequence}`,
    description: `photo ${sequence}.jpg`,
    format: 'jpeg',
    bytes: new Uint8Array([0xff, 0xd8, sequence & 0xff, 1, 2, 3]),
    ...overrides,
  };
}

export function sampleFace(overrides: Partial<NewFace> = {}): NewFace {
  sequence += 1;
  return {
    faceToken: `token-${sequence}`.padEnd(24, 'x'),
    name: `person ${sequence}`,
    gender: sequence % 2 === 0 ? 'female' : 'male',
    rect: { left: 10.5, top: 20, right: 110, bottom: 140.25 },
    embedding: randomUnitVector(random, DIMENSION),
    modelId: MODEL_ID,
    crop: new Uint8Array([0xff, 0xd8, 9, sequence & 0xff]),
    ...overrides,
  };
}

const group = (groupId: string, groupName = `name of ${groupId}`, groupScore = 80): GroupRecord => ({
  groupId,
  groupName,
  groupType: 'type',
  groupScore,
});

/** Registers a face and returns its token and imageId. */
async function register(store: Store, image = sampleImage(), face = sampleFace()) {
  const { id } = await store.registerFace(image, face);
  return { id, faceToken: face.faceToken, imageId: image.imageId, image, face };
}

async function withStore(factory: StoreFactory, test: (store: Store) => Promise<void>, options?: StoreFactoryOptions) {
  const store = await factory(options);
  try {
    await test(store);
  } finally {
    await store.close();
  }
}

/** The compact stream by a model holds exactly the encoded vectors (and groups) that streamVectors gives. */
export async function assertCompactAgrees(store: Store, modelId: string): Promise<void> {
  const expected = new Map<string, { record: Uint8Array; groupIds: string[] }>();
  for await (const vector of store.streamVectors(modelId)) {
    expected.set(vector.faceToken, { record: encodeCompact(vector.embedding), groupIds: [...vector.groupIds].sort() });
  }
  const compact = new Map<string, { record: Uint8Array; groupIds: string[] }>();
  for await (const batch of store.streamCompactVectors(modelId)) {
    const recordBytes = batch.records.length / batch.faceTokens.length;
    batch.faceTokens.forEach((faceToken, k) => {
      assert.equal(compact.has(faceToken), false, `${faceToken} streamed twice`);
      const record = new Uint8Array(batch.records.subarray(k * recordBytes, (k + 1) * recordBytes));
      compact.set(faceToken, { record, groupIds: [...batch.groupIds[k]!].sort() });
    });
  }
  assert.deepEqual(compact, expected);
}

/** Every face has exactly the compact record of its current embedding, by its model, persisted. */
async function assertCompactPersisted(store: Store, internals: StoreInternals): Promise<void> {
  const expected = new Map<string, { modelId: string; record: Uint8Array }>();
  for await (const vector of store.streamVectors()) {
    expected.set(vector.faceToken, { modelId: vector.modelId, record: encodeCompact(vector.embedding) });
  }
  const persisted = new Map([...(await internals.persistedCompact(store))].map(([token, value]) => [token, { ...value, record: new Uint8Array(value.record) }]));
  assert.deepEqual(persisted, expected);
}

export function storeConformance(name: string, factory: StoreFactory, internals: StoreInternals): void {
  describe(`Store conformance: ${name}`, () => {
    it('starts with the default group (score 80, empty name and type)', () =>
      withStore(factory, async (store) => {
        assert.deepEqual(await store.listGroups(), [
          { groupId: 'default', groupName: '', groupType: '', groupScore: 80, faceCount: 0 },
        ]);
      }));

    it('registers image + face + default binding and reads them back', () =>
      withStore(factory, async (store) => {
        const { id, faceToken, imageId, image, face } = await register(store);
        const stored = await store.getFace(faceToken);
        assert.ok(stored);
        assert.equal(stored.id, id);
        assert.equal(stored.imageId, imageId);
        assert.equal(stored.description, image.description);
        assert.equal(stored.name, face.name);
        assert.equal(stored.gender, face.gender);
        assert.deepEqual(stored.rect, face.rect);
        assert.equal(stored.modelId, MODEL_ID);
        assert.deepEqual(stored.embedding, face.embedding);
        assert.deepEqual(stored.groupIds, ['default']);
        assert.deepEqual(stored.crop, face.crop);
        const original = await store.getImage(imageId);
        assert.ok(original);
        assert.deepEqual(original.bytes, image.bytes);
        assert.equal(original.format, 'jpeg');
        assert.deepEqual(original.faceTokens, [faceToken]);
        assert.equal((await store.listGroups())[0]?.faceCount, 1);
      }));

    it('refuses an existing imageId, even after its face was deleted', () =>
      withStore(factory, async (store) => {
        const { imageId, faceToken } = await register(store);
        await rejectsWith(store.registerFace(sampleImage({ imageId }), sampleFace()), 'FACE_ALREADY_EXIST');
        assert.equal(await store.deleteFace(faceToken), true);
        await rejectsWith(store.registerFace(sampleImage({ imageId }), sampleFace()), 'FACE_ALREADY_EXIST');
        assert.equal((await store.listFaces({ offset: 0, size: 10 })).total, 0);
      }));

    it('lets exactly one of two concurrent registrations of one imageId win', () =>
      withStore(factory, async (store) => {
        const image = sampleImage();
        const outcomes = await Promise.allSettled([
          store.registerFace(image, sampleFace()),
          store.registerFace({ ...image }, sampleFace()),
        ]);
        assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
        assert.equal((await store.listFaces({ offset: 0, size: 10 })).total, 1);
      }));

    it('registers a batch entry by entry: a refused entry leaves nothing and does not fail the others', () =>
      withStore(factory, async (store) => {
        const enrolled = await register(store);
        const [first, second] = [sampleImage(), sampleImage()];
        const entries = [
          { image: first, face: sampleFace() },
          { image: { ...first, description: 'same imageId as the first' }, face: sampleFace() },
          { image: second, face: sampleFace() },
          { image: sampleImage({ imageId: enrolled.imageId }), face: sampleFace() },
          // Refused by the face row, after its image row was written: that one must go too.
          { image: sampleImage(), face: sampleFace({ faceToken: enrolled.faceToken }) },
        ];
        const outcomes = await store.registerFaces(entries);
        assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected']);
        assert.equal(await store.getImage(entries[4]!.image.imageId), undefined);
        for (const k of [1, 3]) assert.equal(((outcomes[k] as PromiseRejectedResult).reason as Error).message, 'FACE_ALREADY_EXIST');
        const [a, , c] = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.id : undefined));
        assert.ok(a! > enrolled.id && c! > a!, 'ids ascend in the batch order');
        const listed = await store.listFaces({ offset: 0, size: 10 });
        assert.deepEqual(listed.rows.map((row) => row.faceToken), [enrolled.faceToken, entries[0]!.face.faceToken, entries[2]!.face.faceToken]);
        assert.deepEqual((await store.getImage(first.imageId))?.faceTokens, [entries[0]!.face.faceToken]);
        assert.equal((await store.getImage(first.imageId))?.description, first.description);
        assert.equal(await store.getFace(entries[1]!.face.faceToken), undefined);
        assert.equal(await store.getFace(entries[3]!.face.faceToken), undefined);
        assert.equal((await store.listGroups())[0]?.faceCount, 3);
        assert.deepEqual(await store.checkFiles(), { unreferencedFiles: 0, missingFiles: 0 });
      }));

    it('lists faces in registration order with paging', () =>
      withStore(factory, async (store) => {
        const tokens: string[] = [];
        for (let i = 0; i < 5; i++) tokens.push((await register(store)).faceToken);
        const firstPage = await store.listFaces({ offset: 0, size: 2 });
        assert.equal(firstPage.total, 5);
        assert.deepEqual(firstPage.rows.map((row) => row.faceToken), tokens.slice(0, 2));
        const rest = await store.listFaces({ offset: 2, size: 10 });
        assert.deepEqual(rest.rows.map((row) => row.faceToken), tokens.slice(2));
        const ids = rest.rows.map((row) => row.id);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      }));

    it('deleteFace removes face and bindings; the image and its description stay', () =>
      withStore(factory, async (store) => {
        const { faceToken, imageId, image } = await register(store);
        await store.createGroup(group('g'));
        await store.bind(faceToken, ['g']);
        assert.equal(await store.deleteFace(faceToken), true);
        assert.equal(await store.deleteFace(faceToken), false);
        assert.equal(await store.getFace(faceToken), undefined);
        const original = await store.getImage(imageId);
        assert.ok(original);
        assert.equal(original.description, image.description);
        assert.deepEqual(original.faceTokens, []);
        assert.deepEqual((await store.listGroups()).map((g) => g.faceCount), [0, 0]);
      }));

    it('face ids are never reused after a deletion', () =>
      withStore(factory, async (store) => {
        await register(store);
        const second = await register(store);
        await store.deleteFace(second.faceToken);
        const third = await register(store);
        assert.ok(third.id > second.id);
      }));

    it('deleteImage removes its faces, then the image; the imageId can be registered again', () =>
      withStore(factory, async (store) => {
        const { faceToken, imageId } = await register(store);
        const other = await register(store);
        assert.deepEqual(await store.deleteImage(imageId), { removedFaceTokens: [faceToken] });
        assert.equal(await store.deleteImage(imageId), undefined);
        assert.equal(await store.getImage(imageId), undefined);
        assert.equal(await store.getFace(faceToken), undefined);
        assert.ok(await store.getFace(other.faceToken));
        await register(store, sampleImage({ imageId }));
      }));

    it('wipe removes every image, face and binding; groups stay', () =>
      withStore(factory, async (store) => {
        await store.createGroup(group('g'));
        const { faceToken, imageId } = await register(store);
        await store.bind(faceToken, ['g']);
        await store.wipe();
        assert.equal((await store.listFaces({ offset: 0, size: 10 })).total, 0);
        assert.equal(await store.getImage(imageId), undefined);
        assert.deepEqual(
          (await store.listGroups()).map((g) => [g.groupId, g.faceCount]),
          [['default', 0], ['g', 0]],
        );
        await register(store, sampleImage({ imageId }));
      }));

    describe('groups', () => {
      it('creates, reads and partially updates a group', () =>
        withStore(factory, async (store) => {
          await store.createGroup({ groupId: 'staff', groupName: 'Staff', groupType: 'white', groupScore: 70 });
          await store.updateGroup({ groupId: 'staff', groupScore: 90 });
          assert.deepEqual(await store.getGroup('staff'), {
            groupId: 'staff',
            groupName: 'Staff',
            groupType: 'white',
            groupScore: 90,
          });
          await store.updateGroup({ groupId: 'staff', groupName: 'Employees', groupType: '' });
          assert.deepEqual(await store.getGroup('staff'), {
            groupId: 'staff',
            groupName: 'Employees',
            groupType: '',
            groupScore: 90,
          });
          assert.equal(await store.getGroup('nobody'), undefined);
          await rejectsWith(store.updateGroup({ groupId: 'nobody', groupScore: 1 }), 'GROUP_ID_NOT_EXIST');
        }));

      it('keeps groupId and non-empty groupName unique', () =>
        withStore(factory, async (store) => {
          await store.createGroup(group('a', 'Alpha'));
          await store.createGroup(group('b', 'Beta'));
          await rejectsWith(store.createGroup(group('a', 'Other')), 'GROUP_ID_CONFLICT');
          await rejectsWith(store.createGroup(group('default', 'Other')), 'GROUP_ID_CONFLICT');
          await rejectsWith(store.createGroup(group('c', 'Alpha')), 'GROUP_NAME_CONFLICT');
          await rejectsWith(store.updateGroup({ groupId: 'b', groupName: 'Alpha' }), 'GROUP_NAME_CONFLICT');
          // Renaming a group to its own name is no conflict; empty names may repeat (default has "").
          await store.updateGroup({ groupId: 'a', groupName: 'Alpha' });
          await store.createGroup(group('e1', ''));
          await store.createGroup(group('e2', ''));
        }));

      it('enforces the group limit counting default', () =>
        withStore(
          factory,
          async (store) => {
            await store.createGroup(group('g1'));
            await store.createGroup(group('g2'));
            await store.createGroup(group('g3'));
            await rejectsWith(store.createGroup(group('g4')), 'GROUP_OVER_LIMIT');
            await store.deleteGroup('g1', 1);
            await store.createGroup(group('g4'));
          },
          { groupLimit: 4 },
        ));

      it('holds the limit and uniqueness under concurrent creation', () =>
        withStore(
          factory,
          async (store) => {
            const outcomes = await Promise.allSettled(
              Array.from({ length: 20 }, (_, i) => store.createGroup(group(`g${i}`, 'same name'))),
            );
            assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
            const limited = await Promise.allSettled(
              Array.from({ length: 20 }, (_, i) => store.createGroup(group(`h${i}`))),
            );
            assert.equal(limited.filter((outcome) => outcome.status === 'fulfilled').length, 8 - 2);
            assert.equal((await store.listGroups()).length, 8);
          },
          { groupLimit: 8 },
        ));

      it('lists members in registration order with paging; unknown group → GROUP_ID_NOT_EXIST', () =>
        withStore(factory, async (store) => {
          await store.createGroup(group('g'));
          const tokens: string[] = [];
          for (let i = 0; i < 4; i++) tokens.push((await register(store)).faceToken);
          // Bind in reverse order: members still come in registration order.
          for (const token of [...tokens].reverse()) await store.bind(token, ['g']);
          const page = await store.listGroupMembers('g', { offset: 1, size: 2 });
          assert.equal(page.total, 4);
          assert.deepEqual(page.rows.map((row) => row.faceToken), tokens.slice(1, 3));
          await rejectsWith(store.listGroupMembers('nope', { offset: 0, size: 1 }), 'GROUP_ID_NOT_EXIST');
        }));
    });

    describe('bindings', () => {
      it('binds and unbinds idempotently and reports unknown groups', () =>
        withStore(factory, async (store) => {
          await store.createGroup(group('g'));
          const { faceToken } = await register(store);
          assert.deepEqual(await store.bind(faceToken, ['g', 'missing', 'g']), {
            unknownGroupIds: ['missing'],
            groupIds: ['default', 'g'],
          });
          assert.deepEqual(await store.bind(faceToken, ['g']), { unknownGroupIds: [], groupIds: ['default', 'g'] });
          assert.deepEqual(await store.unbind(faceToken, ['default', 'missing']), {
            unknownGroupIds: ['missing'],
            groupIds: ['g'],
          });
          assert.deepEqual(await store.unbind(faceToken, ['default']), { unknownGroupIds: [], groupIds: ['g'] });
          await rejectsWith(store.bind('no-such-token', ['g']), 'FACE_TOKEN_NOT_EXIST');
          await rejectsWith(store.unbind('no-such-token', ['g']), 'FACE_TOKEN_NOT_EXIST');
        }));
    });

    describe('group deletion modes', () => {
      /**
       * shared: bound to default and g · only: bound to g alone · outside: default alone.
       */
      async function scenario(store: Store) {
        await store.createGroup(group('g'));
        const shared = await register(store);
        const only = await register(store);
        const outside = await register(store);
        await store.bind(shared.faceToken, ['g']);
        await store.bind(only.faceToken, ['g']);
        await store.unbind(only.faceToken, ['default']);
        return { shared, only, outside };
      }

      const groupsOf = async (store: Store, faceToken: string) => (await store.getFace(faceToken))?.groupIds;

      it('mode 1 unbinds every face and deletes the group', () =>
        withStore(factory, async (store) => {
          const { shared, only, outside } = await scenario(store);
          assert.deepEqual(await store.deleteGroup('g', 1), { removedFaceTokens: [] });
          assert.equal(await store.getGroup('g'), undefined);
          assert.deepEqual(await groupsOf(store, shared.faceToken), ['default']);
          assert.deepEqual(await groupsOf(store, only.faceToken), []);
          assert.deepEqual(await groupsOf(store, outside.faceToken), ['default']);
        }));

      it('mode 2 deletes every face of the group (originals stay) and the group', () =>
        withStore(factory, async (store) => {
          const { shared, only, outside } = await scenario(store);
          const { removedFaceTokens } = await store.deleteGroup('g', 2);
          assert.deepEqual(removedFaceTokens.sort(), [shared.faceToken, only.faceToken].sort());
          assert.equal(await store.getGroup('g'), undefined);
          assert.equal(await store.getFace(shared.faceToken), undefined);
          assert.equal(await store.getFace(only.faceToken), undefined);
          assert.ok(await store.getFace(outside.faceToken));
          assert.deepEqual((await store.getImage(shared.imageId))?.faceTokens, []);
          assert.deepEqual((await store.getImage(only.imageId))?.faceTokens, []);
          assert.deepEqual(
            (await store.listGroups()).map((g) => [g.groupId, g.faceCount]),
            [['default', 1]],
          );
        }));

      it('mode 3 unbinds all, deletes faces bound nowhere else (originals stay), keeps the group', () =>
        withStore(factory, async (store) => {
          const { shared, only, outside } = await scenario(store);
          assert.deepEqual(await store.deleteGroup('g', 3), { removedFaceTokens: [only.faceToken] });
          assert.deepEqual(await store.getGroup('g'), group('g'));
          assert.deepEqual(await groupsOf(store, shared.faceToken), ['default']);
          assert.equal(await store.getFace(only.faceToken), undefined);
          assert.ok(await store.getImage(only.imageId));
          assert.deepEqual(await groupsOf(store, outside.faceToken), ['default']);
          assert.equal((await store.listGroupMembers('g', { offset: 0, size: 10 })).total, 0);
        }));

      it('mode 3 on default empties it and keeps it', () =>
        withStore(factory, async (store) => {
          const { shared, only, outside } = await scenario(store);
          assert.deepEqual(await store.deleteGroup('default', 3), { removedFaceTokens: [outside.faceToken] });
          assert.ok(await store.getGroup('default'));
          assert.deepEqual(await groupsOf(store, shared.faceToken), ['g']);
          assert.deepEqual(await groupsOf(store, only.faceToken), ['g']);
        }));

      it('mode 4 unbinds all, deletes faces bound nowhere else with their originals, deletes the group', () =>
        withStore(factory, async (store) => {
          const { shared, only, outside } = await scenario(store);
          assert.deepEqual(await store.deleteGroup('g', 4), { removedFaceTokens: [only.faceToken] });
          assert.equal(await store.getGroup('g'), undefined);
          assert.equal(await store.getFace(only.faceToken), undefined);
          assert.equal(await store.getImage(only.imageId), undefined);
          assert.deepEqual(await groupsOf(store, shared.faceToken), ['default']);
          assert.ok(await store.getImage(shared.imageId));
          assert.ok(await store.getFace(outside.faceToken));
        }));

      it('unknown group → GROUP_ID_NOT_EXIST for every mode', () =>
        withStore(factory, async (store) => {
          for (const mode of [1, 2, 3, 4] as const) await rejectsWith(store.deleteGroup('nope', mode), 'GROUP_ID_NOT_EXIST');
        }));
    });

    describe('audit log', () => {
      it('appends entries with ascending ids and pages them in append order', () =>
        withStore(factory, async (store) => {
          const entries = [
            { at: '2026-11-26T09:00:00.000Z', actor: 'anonymous', action: 'face.delete', target: 'tok-1' },
            { at: '2026-11-26T09:00:01.000Z', actor: 'k1', action: 'library.wipe', target: '' },
            { at: '2026-11-26T09:00:02.000Z', actor: 'k2', action: 'group.delete:4', target: 'g' },
          ];
          const appended = [];
          for (const entry of entries) appended.push(await store.appendAudit(entry));
          assert.deepEqual(appended.map(({ id: _id, ...entry }) => entry), entries);
          const ids = appended.map((entry) => entry.id);
          assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
          assert.equal(new Set(ids).size, 3);
          const page = await store.listAudit({ offset: 1, size: 5 });
          assert.equal(page.total, 3);
          assert.deepEqual(page.entries, appended.slice(1));
        }));

      it('survives a wipe of the library', () =>
        withStore(factory, async (store) => {
          await store.appendAudit({ at: '2026-11-26T09:00:00.000Z', actor: 'a', action: 'library.wipe', target: '' });
          await store.wipe();
          assert.equal((await store.listAudit({ offset: 0, size: 10 })).total, 1);
        }));
    });

    describe('API keys', () => {
      const key = (keyId: string, scopes = ['read']) => ({
        keyId,
        label: `label of ${keyId}`,
        scopes,
        secretHash: 'ab'.repeat(32),
        createdAt: '2026-11-26T09:00:00.000Z',
      });

      it('creates, reads, lists in creation order and revokes once', () =>
        withStore(factory, async (store) => {
          await store.createApiKey(key('k2', ['read', 'write']));
          await store.createApiKey(key('k1', ['admin']));
          assert.deepEqual(await store.getApiKey('k2'), key('k2', ['read', 'write']));
          assert.equal(await store.getApiKey('nope'), undefined);
          assert.deepEqual((await store.listApiKeys()).map((stored) => stored.keyId), ['k2', 'k1']);
          assert.equal(await store.revokeApiKey('k2', '2026-11-26T10:00:00.000Z'), true);
          assert.equal(await store.revokeApiKey('k2', '2026-11-26T11:00:00.000Z'), false);
          assert.equal(await store.revokeApiKey('nope', '2026-11-26T11:00:00.000Z'), false);
          assert.equal((await store.getApiKey('k2'))?.revokedAt, '2026-11-26T10:00:00.000Z');
          assert.equal((await store.getApiKey('k1'))?.revokedAt, undefined);
        }));

      it('refuses a second key with the same keyId', () =>
        withStore(factory, async (store) => {
          await store.createApiKey(key('same'));
          await assert.rejects(store.createApiKey(key('same', ['admin'])));
          assert.deepEqual((await store.getApiKey('same'))?.scopes, ['read']);
        }));
    });
    it('exports every image with its faces; another store imports them unchanged, once', () =>
      withStore(factory, async (source) => {
        await source.createGroup(group('g'));
        const first = await register(source);
        const second = await register(source);
        await source.bind(first.faceToken, ['g']);
        await source.unbind(first.faceToken, ['default']);
        const faceless = await register(source);
        await source.deleteFace(faceless.faceToken); // its image stays, with no face
        const exported: ExportedImage[] = [];
        for await (const item of source.exportImages()) exported.push(item);
        assert.deepEqual(
          exported.map((item) => [item.image.imageId, item.faces.map((face) => face.faceToken)]),
          [[first.imageId, [first.faceToken]], [second.imageId, [second.faceToken]], [faceless.imageId, []]],
        );
        const vectorsOf = async (store: Store) => {
          const vectors = [];
          for await (const vector of store.streamVectors()) vectors.push(vector);
          return vectors;
        };
        const all = { offset: 0, size: 100 };

        await withStore(factory, async (target) => {
          // A face bound to a group the target lacks is refused whole.
          await assert.rejects(target.importImage(exported[0]!), /group g /);
          assert.equal(await target.getImage(first.imageId), undefined);
          await target.createGroup(group('g'));
          for (const item of exported) assert.equal(await target.importImage(item), true);
          for (const item of exported) assert.equal(await target.importImage(item), false);
          assert.deepEqual(await target.listFaces(all), await source.listFaces(all));
          for (const token of [first.faceToken, second.faceToken]) {
            assert.deepEqual(await target.getFace(token), await source.getFace(token));
          }
          for (const imageId of [first.imageId, faceless.imageId]) {
            assert.deepEqual(await target.getImage(imageId), await source.getImage(imageId));
          }
          assert.deepEqual(await vectorsOf(target), await vectorsOf(source));
          assert.deepEqual(await target.listGroups(), await source.listGroups());
          // Registration goes on above the imported ids.
          assert.ok((await register(target)).id > second.id);
        });
      }));

    it('streams every imageId in registration order, faceless images included', () =>
      withStore(factory, async (store) => {
        const kept = await register(store);
        const faceless = await register(store);
        const gone = await register(store);
        const last = await register(store);
        await store.deleteFace(faceless.faceToken); // the image stays
        await store.deleteImage(gone.imageId);
        const streamed: string[] = [];
        for await (const imageId of store.streamImageIds()) streamed.push(imageId);
        assert.deepEqual(streamed, [kept.imageId, faceless.imageId, last.imageId]);
      }));

    describe('restore', () => {
      it('restores an image with its faces: ids, tokens, embeddings and bindings as given, no default binding added', () =>
        withStore(factory, async (store) => {
          await store.createGroup(group('g'));
          const image = sampleImage();
          const first = { ...sampleFace(), id: 41, groupIds: ['g'] };
          const second = { ...sampleFace(), id: 7, groupIds: ['g', 'default'] };
          await store.restoreImage(image, [first, second]);
          const restored = await store.getFace(first.faceToken);
          assert.ok(restored);
          assert.deepEqual(
            { id: restored.id, imageId: restored.imageId, name: restored.name, groupIds: restored.groupIds },
            { id: 41, imageId: image.imageId, name: first.name, groupIds: ['g'] },
          );
          assert.deepEqual(restored.embedding, first.embedding);
          assert.deepEqual(restored.crop, first.crop);
          assert.deepEqual(restored.rect, first.rect);
          assert.deepEqual((await store.getFace(second.faceToken))?.groupIds, ['g', 'default']);
          assert.deepEqual((await store.getImage(image.imageId))?.bytes, image.bytes);
          const listed = await store.listFaces({ offset: 0, size: 10 });
          assert.deepEqual(listed.rows.map((row) => row.id), [7, 41]);
          // Ids continue after the restored ones.
          const later = await register(store);
          assert.ok(later.id > 41, `new id ${later.id} after restored id 41`);
        }));

      it('restores a faceless image (its imageId stays taken)', () =>
        withStore(factory, async (store) => {
          const image = sampleImage();
          await store.restoreImage(image, []);
          assert.deepEqual((await store.getImage(image.imageId))?.faceTokens, []);
          await rejectsWith(store.registerFace(image, sampleFace()), 'FACE_ALREADY_EXIST');
        }));

      it('refuses a taken imageId, an unknown group or a taken face id, and then leaves nothing behind', () =>
        withStore(factory, async (store) => {
          const existing = await register(store);
          await rejectsWith(store.restoreImage(sampleImage({ imageId: existing.imageId }), []), 'FACE_ALREADY_EXIST');
          const orphan = sampleImage();
          const unknownGroup = { ...sampleFace(), id: 100, groupIds: ['no-such-group'] };
          await rejectsWith(store.restoreImage(orphan, [unknownGroup]), 'GROUP_ID_NOT_EXIST');
          await assert.rejects(store.restoreImage(orphan, [{ ...sampleFace(), id: existing.id, groupIds: [] }]));
          assert.equal(await store.getImage(orphan.imageId), undefined);
          assert.equal(await store.getFace(unknownGroup.faceToken), undefined);
          assert.equal((await store.listFaces({ offset: 0, size: 10 })).total, 1);
        }));
    });

    it('returns the exact stored embeddings of known faces and leaves unknown ones out', () =>
      withStore(factory, async (store) => {
        const first = await register(store);
        const second = await register(store);
        const gone = await register(store);
        await store.deleteFace(gone.faceToken);
        const embeddings = await store.getEmbeddings([second.faceToken, 'no-such-token', first.faceToken, gone.faceToken]);
        assert.deepEqual(
          embeddings,
          new Map([
            [second.faceToken, second.face.embedding],
            [first.faceToken, first.face.embedding],
          ]),
        );
        assert.deepEqual(await store.getEmbeddings([]), new Map());
      }));

    it('streams every vector exactly, with its groups', () =>
      withStore(factory, async (store) => {
        await store.createGroup(group('g'));
        const expected = new Map<string, { embedding: Float32Array; groupIds: string[] }>();
        for (let i = 0; i < 25; i++) {
          const { faceToken, face } = await register(store);
          const groupIds = ['default'];
          if (i % 3 === 0) {
            await store.bind(faceToken, ['g']);
            groupIds.push('g');
          }
          expected.set(faceToken, { embedding: face.embedding, groupIds });
        }
        const deleted = [...expected.keys()][5]!;
        await store.deleteFace(deleted);
        expected.delete(deleted);
        const streamed = new Map<string, { embedding: Float32Array; groupIds: string[] }>();
        for await (const vector of store.streamVectors()) {
          assert.equal(vector.modelId, MODEL_ID);
          streamed.set(vector.faceToken, { embedding: vector.embedding, groupIds: [...vector.groupIds].sort() });
        }
        assert.deepEqual(streamed, expected);
        await assertCompactAgrees(store, MODEL_ID);
      }));

    it('persists each face\'s compact record in the transaction that writes its embedding, through every write', () =>
      withStore(factory, async (store) => {
        await store.createGroup(group('g'));
        const [a, b, c] = [await register(store), await register(store), await register(store)];
        await assertCompactPersisted(store, internals);
        await store.bind(a.faceToken, ['g']);
        await store.unbind(b.faceToken, ['default']);
        await assertCompactAgrees(store, MODEL_ID); // the groups streamed with the records follow the bindings
        await store.deleteFace(b.faceToken);
        await store.deleteImage(c.imageId);
        await assertCompactPersisted(store, internals);
        const restored = { ...sampleFace(), id: a.id + 100, groupIds: ['g'] };
        await store.restoreImage(sampleImage(), [restored]);
        await store.importImage({ image: sampleImage(), faces: [{ ...sampleFace(), id: a.id + 200, groupIds: ['default'] }] });
        await assertCompactPersisted(store, internals);
        await assertCompactAgrees(store, MODEL_ID);
        await store.createGroup(group('h'));
        await store.bind(restored.faceToken, ['h', 'default']);
        await store.deleteGroup('h', 1); // no face removed, the bindings go
        await assertCompactAgrees(store, MODEL_ID);
        await store.deleteGroup('g', 2); // removes a and the restored face
        await assertCompactPersisted(store, internals);
        await assertCompactAgrees(store, MODEL_ID);
        assert.equal((await internals.persistedCompact(store)).size, 1);
        await store.wipe();
        assert.deepEqual(await internals.persistedCompact(store), new Map());
      }));

    it('fills in the compact records of faces stored without them, at the next open', async () => {
      let store = await factory();
      try {
        await store.createGroup(group('g'));
        const faces = [await register(store), await register(store), await register(store)];
        await store.bind(faces[1]!.faceToken, ['g']);
        store = await internals.forgetCompactAndReopen(store);
        await assertCompactPersisted(store, internals);
        await assertCompactAgrees(store, MODEL_ID);
      } finally {
        await store.close();
      }
    });

    describe('model upgrade', () => {
      const NEW_MODEL = 'test-model@2';
      const vectorsBy = async (store: Store, modelId?: string) => {
        if (modelId !== undefined) await assertCompactAgrees(store, modelId);
        const vectors = new Map<string, { modelId: string; embedding: Float32Array }>();
        for await (const v of store.streamVectors(modelId)) vectors.set(v.faceToken, { modelId: v.modelId, embedding: v.embedding });
        return vectors;
      };

      it('stages embeddings by a new model beside the current ones and reports coverage', () =>
        withStore(factory, async (store) => {
          const [a, b, c] = [await register(store), await register(store), await register(store)];
          assert.deepEqual(await store.modelCoverage(NEW_MODEL), { faces: 3, covered: 0 });
          assert.deepEqual(await store.modelCoverage(MODEL_ID), { faces: 3, covered: 3 });
          assert.deepEqual(await store.facesToReembed(NEW_MODEL, 2), [
            { faceToken: a.faceToken, imageId: a.imageId },
            { faceToken: b.faceToken, imageId: b.imageId },
          ]);
          assert.deepEqual(await store.facesToReembed(MODEL_ID, 10), []);

          const staged = randomUnitVector(random, DIMENSION);
          assert.equal(await store.stageEmbedding(a.faceToken, NEW_MODEL, randomUnitVector(random, DIMENSION)), true);
          assert.equal(await store.stageEmbedding(a.faceToken, NEW_MODEL, staged), true); // replaces
          assert.equal(await store.stageEmbedding('no-such-token', NEW_MODEL, staged), false);
          assert.deepEqual(await store.modelCoverage(NEW_MODEL), { faces: 3, covered: 1 });
          assert.deepEqual(
            (await store.facesToReembed(NEW_MODEL, 10)).map((t) => t.faceToken),
            [b.faceToken, c.faceToken],
          );

          // Search data is untouched: current vectors stay; the new model's set holds only the staged face.
          await assertCompactPersisted(store, internals);
          const current = await vectorsBy(store);
          assert.deepEqual(current.get(a.faceToken), { modelId: MODEL_ID, embedding: a.face.embedding });
          assert.deepEqual([...(await vectorsBy(store, NEW_MODEL))], [[a.faceToken, { modelId: NEW_MODEL, embedding: staged }]]);
          assert.equal((await store.getFace(a.faceToken))?.modelId, MODEL_ID);
          // The exact vectors by model agree with the streamed ones.
          assert.deepEqual(await store.getEmbeddings([a.faceToken, b.faceToken]), new Map([[a.faceToken, a.face.embedding], [b.faceToken, b.face.embedding]]));
          assert.deepEqual(await store.getEmbeddings([a.faceToken, b.faceToken], NEW_MODEL), new Map([[a.faceToken, staged]]));
          assert.deepEqual(await store.getEmbeddings([b.faceToken], MODEL_ID), new Map([[b.faceToken, b.face.embedding]]));
        }));

      it('promotes only a complete set, then switches every face at once', () =>
        withStore(factory, async (store) => {
          const faces = [await register(store), await register(store)];
          const staged = faces.map(() => randomUnitVector(random, DIMENSION));
          await store.stageEmbedding(faces[0]!.faceToken, NEW_MODEL, staged[0]!);
          assert.equal(await store.promoteEmbeddings(NEW_MODEL), false);
          assert.equal((await vectorsBy(store)).get(faces[0]!.faceToken)?.modelId, MODEL_ID);

          await store.stageEmbedding(faces[1]!.faceToken, NEW_MODEL, staged[1]!);
          // A face registered by the current model meanwhile keeps the set incomplete.
          const late = await register(store);
          assert.equal(await store.promoteEmbeddings(NEW_MODEL), false);
          await store.stageEmbedding(late.faceToken, NEW_MODEL, late.face.embedding);
          assert.equal(await store.promoteEmbeddings(NEW_MODEL), true);

          const current = await vectorsBy(store);
          assert.deepEqual(current.get(faces[0]!.faceToken), { modelId: NEW_MODEL, embedding: staged[0] });
          assert.deepEqual(current.get(faces[1]!.faceToken), { modelId: NEW_MODEL, embedding: staged[1] });
          assert.equal((await store.getFace(late.faceToken))?.modelId, NEW_MODEL);
          assert.deepEqual(await store.modelCoverage(NEW_MODEL), { faces: 3, covered: 3 });
          assert.deepEqual(await store.modelCoverage(MODEL_ID), { faces: 3, covered: 0 });
          assert.deepEqual(await vectorsBy(store, MODEL_ID), new Map()); // staged rows are gone
          await assertCompactAgrees(store, NEW_MODEL); // the compact vectors followed the promotion
          await assertCompactPersisted(store, internals);
        }));

      it('forgets staged embeddings of deleted faces', () =>
        withStore(factory, async (store) => {
          const [a, b] = [await register(store), await register(store)];
          await store.stageEmbedding(a.faceToken, NEW_MODEL, randomUnitVector(random, DIMENSION));
          await store.stageEmbedding(b.faceToken, NEW_MODEL, randomUnitVector(random, DIMENSION));
          await store.deleteFace(a.faceToken);
          assert.deepEqual([...(await vectorsBy(store, NEW_MODEL)).keys()], [b.faceToken]);
          assert.deepEqual(await store.modelCoverage(NEW_MODEL), { faces: 1, covered: 1 });
          await store.wipe();
          assert.deepEqual(await store.modelCoverage(NEW_MODEL), { faces: 0, covered: 0 });
          assert.equal(await store.promoteEmbeddings(NEW_MODEL), true); // an empty library is complete
        }));
    });
  });
}
