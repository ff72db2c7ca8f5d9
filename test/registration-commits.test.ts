/**
 * Group commit of registrations (src/library/registration-commits.ts) over a real SQLite store and index:
 * registrations that wait while a commit is in progress go to the store together, each caller is answered
 * only once its own entry is committed, and a refused entry or a failed batch fails no other registration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { VisageError } from '../src/errors.js';
import type { VectorIndex } from '../src/index/vector-index.js';
import { loadVectorIndex } from '../src/index/load-index.js';
import { createLibraryContext } from '../src/library/context.js';
import { RegistrationCommits } from '../src/library/registration-commits.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { NewRegistration, Store } from '../src/store/store.js';
import { sampleFace, sampleImage } from './helpers/store-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-commits-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let directories = 0;

interface Harness {
  store: Store;
  index: VectorIndex;
  commits: RegistrationCommits;
  /** Entries of each registerFaces call, in call order. */
  batches: number[];
  /** Face tokens the store has committed (recorded as its registerFaces call returns). */
  committed: Set<string>;
  /** Holds the next registerFaces call until `release()`. */
  hold(): { release(): void };
  /** Makes the next registerFaces call fail as a whole with this error (e.g. a full disk). */
  failNext(error: Error): void;
  close(): Promise<void>;
}

async function harness(duplicateMinCosine?: number): Promise<Harness> {
  const store = await openSqliteStore({ dataDir: join(scratch, `data-${++directories}`) });
  const { index } = await loadVectorIndex(store, { modelId: sampleFace().modelId, embeddingSize: 512 });
  const batches: number[] = [];
  const committed = new Set<string>();
  let gate: Promise<void> | undefined;
  let failure: Error | undefined;
  const registerFaces = store.registerFaces.bind(store);
  store.registerFaces = async (entries) => {
    batches.push(entries.length);
    const [held, failed] = [gate, failure];
    [gate, failure] = [undefined, undefined];
    await held;
    if (failed) throw failed;
    const outcomes = await registerFaces(entries);
    outcomes.forEach((outcome, k) => outcome.status === 'fulfilled' && committed.add(entries[k]!.face.faceToken));
    return outcomes;
  };
  return {
    store,
    index,
    commits: new RegistrationCommits(createLibraryContext(store, index), duplicateMinCosine),
    batches,
    committed,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return { release };
    },
    failNext(error) {
      failure = error;
    },
    async close() {
      await index.close();
      await store.close();
    },
  };
}

const registration = (overrides: Partial<NewRegistration['face']> = {}, imageId?: string): NewRegistration => ({
  image: sampleImage(imageId === undefined ? {} : { imageId }),
  face: sampleFace(overrides),
});

/** Commits `entry` and checks, when its promise settles, that a fulfilled one was committed by then. */
function commitChecked(h: Harness, entry: NewRegistration, settled: Set<string>): Promise<number> {
  return h.commits.commit(entry).then(
    (id) => {
      assert.ok(h.committed.has(entry.face.faceToken), 'acknowledged before its commit');
      settled.add(entry.face.faceToken);
      return id;
    },
    (error: unknown) => {
      settled.add(entry.face.faceToken);
      throw error;
    },
  );
}

const refusal = async (promise: Promise<unknown>): Promise<VisageError> => {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof VisageError, String(error));
  return error;
};

describe('registration group commit', () => {
  it('commits the registrations that wait for a busy store together, answering each after its own commit', async () => {
    const h = await harness();
    try {
      const settled = new Set<string>();
      const gate = h.hold();
      const first = registration();
      const firstDone = commitChecked(h, first, settled);
      await nextTurn();
      const waiting = [registration(), registration(), registration()];
      const waitingDone = waiting.map((entry) => commitChecked(h, entry, settled));
      for (let i = 0; i < 5; i++) await nextTurn();
      assert.deepEqual(h.batches, [1], 'the others wait for the first commit');
      assert.equal(settled.size, 0, 'nobody is answered before its commit');

      gate.release();
      const ids = [await firstDone, ...(await Promise.all(waitingDone))];
      assert.deepEqual(h.batches, [1, 3], 'the three that waited went to the store in one call');
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids follow the order of arrival');
      for (const [k, entry] of [first, ...waiting].entries()) {
        assert.equal((await h.store.getFace(entry.face.faceToken))?.id, ids[k]);
        const [hit] = await h.index.search(entry.face.embedding, { limit: 1 });
        assert.equal(hit?.faceToken, entry.face.faceToken, 'indexed');
      }
    } finally {
      await h.close();
    }
  });

  it('fails only the refused entry of a batch, and a batch the store fails as a whole fails no other batch', async () => {
    const h = await harness();
    try {
      const settled = new Set<string>();
      let gate = h.hold();
      const first = commitChecked(h, registration(), settled);
      await nextTurn();
      const kept = registration();
      const sameImage = registration({}, kept.image.imageId);
      const other = registration();
      const batch = [kept, sameImage, other].map((entry) => commitChecked(h, entry, settled));
      gate.release();
      await first;
      const outcomes = await Promise.allSettled(batch);
      assert.deepEqual(h.batches, [1, 3]);
      assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((await refusal(batch[1]!)).message, 'FACE_ALREADY_EXIST');
      assert.equal(await h.store.getFace(sameImage.face.faceToken), undefined);
      const [hit] = await h.index.search(sameImage.face.embedding, { limit: 1, minCosine: 0.99 });
      assert.equal(hit, undefined, 'the refused face is not indexed');

      // A batch that fails as a whole (the disk is full) fails its own entries; the one queued behind it commits.
      gate = h.hold();
      h.failNext(new Error('disk full'));
      const doomed = [registration(), registration()];
      const doomedDone = doomed.map((entry) => commitChecked(h, entry, settled));
      await nextTurn();
      const afterwards = registration();
      const afterwardsDone = commitChecked(h, afterwards, settled);
      gate.release();
      for (const outcome of await Promise.allSettled(doomedDone)) {
        assert.equal(outcome.status === 'rejected' && (outcome.reason as Error).message, 'disk full');
      }
      assert.ok((await afterwardsDone) > 0);
      assert.deepEqual(h.batches, [1, 3, 2, 1]);
      for (const entry of doomed) assert.equal(await h.store.getFace(entry.face.faceToken), undefined);
      assert.equal((await h.store.listFaces({ offset: 0, size: 10 })).total, 4);
    } finally {
      await h.close();
    }
  });

  it('with the duplicate check on, enrols one of two registrations of one face in a batch and refuses the other', async () => {
    const h = await harness(0.9);
    try {
      const settled = new Set<string>();
      const gate = h.hold();
      const first = commitChecked(h, registration(), settled);
      await nextTurn();
      const face = registration();
      const twin = registration({ embedding: Float32Array.from(face.face.embedding) });
      const [enrolled, refused] = [commitChecked(h, face, settled), commitChecked(h, twin, settled)];
      gate.release();
      await first;
      assert.ok((await enrolled) > 0);
      const error = await refusal(refused);
      assert.equal(error.message, 'FACE_ALREADY_EXIST');
      assert.deepEqual(error.data, { faceToken: face.face.faceToken });
      assert.equal(await h.store.getFace(twin.face.faceToken), undefined);
      assert.deepEqual(h.batches, [1, 1], 'the twin waited for the next batch and was refused there by the index');
    } finally {
      await h.close();
    }
  });
});
