/**
 * The change follower on its own: replica B's index follows what replica A commits, through
 * LISTEN/NOTIFY alone (the safety poll is set to a minute), including across a lost connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorIndex } from '../src/index/vector-index.js';
import { createLibraryContext } from '../src/library/context.js';
import { ChangeFollower } from '../src/library/follow-changes.js';
import type { Store } from '../src/store/store.js';
import { adminQuery, freshSchema, openTestPostgresStore, SKIP_WITHOUT_POSTGRES } from './helpers/postgres.js';
import { eventually } from './helpers/replica-process.js';
import { sampleFace, sampleImage } from './helpers/store-conformance.js';

const MODEL = { modelId: 'test-model@1', embeddingSize: 512 };

async function withFollower(test: (a: Store, index: VectorIndex, schema: string) => Promise<void>) {
  const schema = freshSchema();
  const a = await openTestPostgresStore({ schema });
  const b = await openTestPostgresStore({ schema });
  const index = new VectorIndex(MODEL.embeddingSize, { exact: (faceTokens) => b.getEmbeddings(faceTokens, MODEL.modelId) });
  const follower = await ChangeFollower.start({
    feed: b.changeFeed!,
    context: createLibraryContext(b, index),
    model: MODEL,
    after: await b.changeFeed!.head(),
    pollIntervalMs: 60_000,
  });
  try {
    await test(a, index, schema);
  } finally {
    await follower.close();
    await Promise.all([a.close(), b.close()]);
  }
}

const until = (condition: () => boolean) => eventually(async () => (condition() ? true : undefined), 10_000);

describe('change follower', { skip: SKIP_WITHOUT_POSTGRES }, () => {
  it("applies another replica's registrations, bindings, group deletions, deletions and wipe", () =>
    withFollower(async (a, index) => {
      const first = sampleFace();
      const second = sampleFace();
      await a.registerFace(sampleImage(), first);
      await a.registerFace(sampleImage(), second);
      await until(() => index.has(first.faceToken) && index.has(second.faceToken));
      const [hit] = await index.search(first.embedding, { groups: ['default'], limit: 1 });
      assert.equal(hit?.faceToken, first.faceToken);

      await a.createGroup({ groupId: 'g', groupName: 'G', groupType: '', groupScore: 80 });
      await a.bind(first.faceToken, ['g']);
      await until(() => index.groupsOf(first.faceToken)?.includes('g') === true);
      await a.deleteGroup('g', 1);
      await until(() => index.groupsOf(first.faceToken)?.includes('g') === false);

      await a.deleteFace(second.faceToken);
      await until(() => !index.has(second.faceToken));
      await a.wipe();
      await until(() => index.size === 0);
    }));

  it('catches up from its last sequence after its connection is cut: nothing committed meanwhile is lost', () =>
    withFollower(async (a, index, schema) => {
      const before = sampleFace();
      await a.registerFace(sampleImage(), before);
      await until(() => index.has(before.faceToken));

      const [cut] = await adminQuery<{ cut: boolean }>(
        `SELECT bool_or(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity
         WHERE application_name = 'visage' AND query ILIKE $1`,
        [`LISTEN%${schema}%`],
      );
      assert.equal(cut?.cut, true);
      // Written while the follower reconnects: their notifications go to nobody.
      const during = [sampleFace(), sampleFace(), sampleFace()];
      for (const face of during) await a.registerFace(sampleImage(), face);
      await a.deleteFace(before.faceToken);

      await until(() => during.every((face) => index.has(face.faceToken)) && !index.has(before.faceToken));
    }));

  it('leaves out faces another model embedded', () =>
    withFollower(async (a, index) => {
      const other = sampleFace({ modelId: 'another-model@2' });
      const ours = sampleFace();
      await a.registerFace(sampleImage(), other);
      await a.registerFace(sampleImage(), ours);
      await until(() => index.has(ours.faceToken));
      assert.equal(index.has(other.faceToken), false);
    }));
});
