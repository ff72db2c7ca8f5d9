/**
 * The change follower on its own: replica B's index follows what replica A commits, through
 * LISTEN/NOTIFY alone (the safety poll is set to a minute), including across a lost connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorIndex } from '../src/index/vector-index.js';
import { createLibraryContext } from '../src/library/context.js';
import { ChangeFollower } from '../src/library/follow-changes.js';
import { startChangePruning } from '../src/library/prune-changes.js';
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

  it('reloads the whole index when the changes it had not applied yet were pruned, and follows on from there', async () => {
    const schema = freshSchema();
    const a = await openTestPostgresStore({ schema });
    const b = await openTestPostgresStore({ schema });
    const context = createLibraryContext(
      b,
      new VectorIndex(MODEL.embeddingSize, { exact: (faceTokens) => b.getEmbeddings(faceTokens, MODEL.modelId) }),
    );
    let follower: ChangeFollower | undefined;
    try {
      // Replica B loaded its index at `loadedAt`, then was away while A wrote and the log was pruned.
      const old = sampleFace();
      await a.registerFace(sampleImage(), old);
      const loadedAt = await b.changeFeed!.head();
      context.index.add(old.faceToken, old.embedding, ['default']);
      const missed = sampleFace();
      const kept = sampleFace();
      await a.registerFace(sampleImage(), missed);
      await a.deleteFace(old.faceToken);
      await a.registerFace(sampleImage(), kept);
      assert.equal(await a.changeFeed!.prune(0), 3); // all but the latest change: `kept`'s registration

      const warnings: string[] = [];
      follower = await ChangeFollower.start({
        feed: b.changeFeed!,
        context,
        model: MODEL,
        after: loadedAt,
        pollIntervalMs: 60_000,
        warn: (message) => warnings.push(message),
      });
      // Replaying what is left (only `kept`) would miss `missed` and keep `old`.
      assert.equal(context.index.has(missed.faceToken), true);
      assert.equal(context.index.has(kept.faceToken), true);
      assert.equal(context.index.has(old.faceToken), false);
      assert.equal(context.index.size, 2);
      assert.equal(follower.appliedSequence, await a.changeFeed!.head());
      assert.match(warnings.join('\n'), /pruned .* reloading the search index/);

      const later = sampleFace();
      await a.registerFace(sampleImage(), later);
      await until(() => context.index.has(later.faceToken));
      assert.equal(warnings.length, 1, 'after the reload it follows change by change again');
    } finally {
      await follower?.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reloads beside the index it serves: searches see the whole old index until the swap, and writes during the load are kept', async () => {
    const schema = freshSchema();
    const a = await openTestPostgresStore({ schema });
    const b = await openTestPostgresStore({ schema });
    const index = new VectorIndex(MODEL.embeddingSize, { exact: (faceTokens) => b.getEmbeddings(faceTokens, MODEL.modelId) });
    // What searches here see while the store streams the library into the reload, batch by batch.
    const seen: Array<{ size: number; found: string | undefined }> = [];
    const stays = sampleFace();
    const remote = sampleFace();
    const local = sampleFace();
    let localWrite: Promise<void> | undefined;
    const duringLoad = async () => {
      const [hit] = await index.search(stays.embedding, { groups: ['default'], limit: 1 });
      seen.push({ size: index.size, found: hit?.faceToken });
      if (localWrite) return;
      await a.registerFace(sampleImage(), remote); // another replica writes during the load
      // ...and so does this one, through the write queue, as the library's services do.
      localWrite = context.writes.run(async () => {
        await b.registerFace(sampleImage(), local);
        index.add(local.faceToken, local.embedding, ['default']);
      });
    };
    async function* observed<T>(batches: AsyncIterable<T>) {
      for await (const batch of batches) {
        await duringLoad();
        yield batch;
      }
    }
    const streams = new Set<PropertyKey>(['streamVectors', 'streamCompactVectors']);
    const store = new Proxy(b, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        return streams.has(key) ? (...args: unknown[]) => observed(method(...args) as AsyncIterable<unknown>) : method;
      },
    });
    const context = createLibraryContext(store, index);
    let follower: ChangeFollower | undefined;
    try {
      const old = sampleFace();
      await a.registerFace(sampleImage(), stays);
      await a.registerFace(sampleImage(), old);
      const loadedAt = await b.changeFeed!.head();
      index.add(stays.faceToken, stays.embedding, ['default']);
      index.add(old.faceToken, old.embedding, ['default']);
      const missed = sampleFace();
      await a.registerFace(sampleImage(), missed);
      await a.deleteFace(old.faceToken);
      await a.registerFace(sampleImage(), sampleFace());
      await a.changeFeed!.prune(0);

      follower = await ChangeFollower.start({ feed: b.changeFeed!, context, model: MODEL, after: loadedAt, pollIntervalMs: 60_000, warn: () => {} });
      await localWrite;
      assert.ok(seen.length > 0);
      assert.deepEqual(seen, seen.map(() => ({ size: 2, found: stays.faceToken })), 'the old index, whole, until the swap');
      for (const face of [stays, missed, remote, local]) assert.equal(index.has(face.faceToken), true, face.name);
      assert.equal(index.has(old.faceToken), false);
      assert.equal(index.size, 5);
      assert.equal(follower.appliedSequence, await a.changeFeed!.head());
    } finally {
      await follower?.close();
      await index.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('prunes the log on a timer while a replica runs', async () => {
    const store = await openTestPostgresStore();
    const pruning = startChangePruning({ feed: store.changeFeed!, retainMs: 0, intervalMs: 50 });
    try {
      for (let i = 0; i < 3; i++) await store.registerFace(sampleImage(), sampleFace());
      const head = await store.changeFeed!.head();
      await eventually(async () => ((await store.changeFeed!.read(0, 10)).changes.length === 1 ? true : undefined), 10_000);
      assert.equal(await store.changeFeed!.head(), head);
    } finally {
      await pruning.close();
      await store.close();
    }
  });

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
