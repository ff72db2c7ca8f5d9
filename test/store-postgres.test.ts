import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { encodeCompact } from '../src/index/compact-codec.js';
import { readBinaryCopy } from '../src/store/postgres/binary-copy.js';
import { ADVISORY_LOCK } from '../src/store/postgres/locks.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import type { GroupRecord, SequencedChange, Store } from '../src/store/store.js';
import {
  adminQuery,
  freshSchema,
  openTestPostgresStore,
  SKIP_WITHOUT_POSTGRES,
  testDatabaseUrl,
} from './helpers/postgres.js';
import { assertCompactAgrees, sampleFace, sampleImage, storeConformance } from './helpers/store-conformance.js';

if (SKIP_WITHOUT_POSTGRES) {
  it('PostgreSQL store tests', { skip: SKIP_WITHOUT_POSTGRES }, () => {});
} else {
  const schemaOf = new WeakMap<Store, string>();
  // A small batch size so streaming crosses batch boundaries.
  const openIn = async (schema: string, groupLimit?: number): Promise<Store> => {
    const store = await openTestPostgresStore({ schema, groupLimit, streamBatchSize: 7 });
    schemaOf.set(store, schema);
    return store;
  };
  storeConformance('postgres', (options) => openIn(freshSchema(), options?.groupLimit), {
    async persistedCompact(store) {
      const rows = await adminQuery<{ face_token: string; model_id: string; record: Buffer }>(
        `SELECT face_token, model_id, record FROM ${schemaOf.get(store)!}.compact_vectors`,
      );
      return new Map(rows.map((row) => [row.face_token, { modelId: row.model_id, record: row.record }]));
    },
    async forgetCompactAndReopen(store) {
      const schema = schemaOf.get(store)!;
      await store.close();
      // What migration 4 leaves in a library written before it.
      await adminQuery(`DELETE FROM ${schema}.compact_vectors; INSERT INTO ${schema}.compact_pending SELECT id FROM ${schema}.faces`);
      return openIn(schema);
    },
  });
  postgresSpecifics();
}

/** Two stores on one schema: two replicas' connection pools. */
async function withReplicas(test: (a: Store, b: Store, schema: string) => Promise<void>, groupLimit?: number) {
  const schema = freshSchema();
  const a = await openTestPostgresStore({ schema, groupLimit });
  const b = await openTestPostgresStore({ schema, groupLimit });
  try {
    await test(a, b, schema);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const group = (groupId: string, groupName = `name of ${groupId}`): GroupRecord => ({
  groupId,
  groupName,
  groupType: '',
  groupScore: 80,
});

async function allChanges(store: Store, after = 0): Promise<SequencedChange[]> {
  return (await store.changeFeed!.read(after, 1000)).changes;
}

function postgresSpecifics(): void {
  describe('PostgreSQL store specifics', () => {
    it('migrates once, even when replicas open the same schema together', async () => {
      const schema = freshSchema();
      const stores = await Promise.all([1, 2, 3].map(() => openTestPostgresStore({ schema })));
      await Promise.all(stores.map((store) => store.close()));
      const rows = await adminQuery<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      assert.deepEqual(
        rows.map((row) => row.version),
        POSTGRES_MIGRATIONS.map((migration) => migration.version),
      );
      const groups = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.face_groups`);
      assert.equal(groups[0]?.n, 1);
    });

    it('keeps originals, crops and embeddings in the database, bit-exact across replicas', () =>
      withReplicas(async (a, b, schema) => {
        const image = sampleImage();
        const face = sampleFace();
        await a.registerFace(image, face);
        assert.deepEqual((await b.getImage(image.imageId))?.bytes, image.bytes);
        assert.deepEqual((await b.getFace(face.faceToken))?.crop, face.crop);
        const vectors = [];
        for await (const vector of b.streamVectors()) vectors.push(vector);
        assert.deepEqual(vectors[0]?.embedding, face.embedding);
        const sizes = await adminQuery<{ n: number }>(`SELECT length(bytes) AS n FROM ${schema}.images`);
        assert.equal(sizes[0]?.n, image.bytes.length);
      }));

    it('streams a face committed without its compact record (an older replica mid-upgrade), and fills it in at the next open', () =>
      withReplicas(async (a, _b, schema) => {
        const registered = sampleFace();
        await a.registerFace(sampleImage(), registered);
        // As a replica of the version before migration 4 writes a face: the row and its binding, no record.
        const old = sampleFace();
        await adminQuery(
          `WITH image AS (INSERT INTO ${schema}.images (image_id, description, format, bytes) VALUES ('old-replica', '', 'jpeg', '\\x01') RETURNING pk),
                face AS (INSERT INTO ${schema}.faces (face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom, model_id, embedding, crop)
                         SELECT $1, pk, '', '', 0, 0, 1, 1, $2, $3, '\\x01' FROM image RETURNING id)
           INSERT INTO ${schema}.bindings (face_id, group_pk) SELECT face.id, g.pk FROM face, ${schema}.face_groups g WHERE g.group_id = 'default'`,
          [old.faceToken, old.modelId, Buffer.from(old.embedding.buffer)],
        );
        const pending = await adminQuery<{ face_token: string }>(
          `SELECT f.face_token FROM ${schema}.compact_pending p JOIN ${schema}.faces f ON f.id = p.face_id`,
        );
        assert.deepEqual(pending.map((row) => row.face_token), [old.faceToken]); // the deferred trigger listed it
        await assertCompactAgrees(a, old.modelId); // encoded on the way, the others read as stored
        for await (const batch of a.streamCompactVectors(old.modelId)) if (batch.faceTokens.length > 0) break; // stopped early
        assert.equal((await a.listGroups()).length, 1); // the pool still serves

        const reopened = await openTestPostgresStore({ schema });
        try {
          assert.deepEqual(await adminQuery(`SELECT * FROM ${schema}.compact_pending`), []);
          const records = await adminQuery<{ face_token: string; record: Buffer }>(`SELECT face_token, record FROM ${schema}.compact_vectors`);
          assert.deepEqual(
            new Map(records.map((row) => [row.face_token, new Uint8Array(row.record)])),
            new Map([registered, old].map((face) => [face.faceToken, encodeCompact(face.embedding)])),
          );
          await assertCompactAgrees(reopened, old.modelId);
        } finally {
          await reopened.close();
        }
      }));

    it('parses a binary COPY however its bytes are split into chunks', () =>
      withReplicas(async (a, _b, schema) => {
        for (let i = 0; i < 5; i++) await a.registerFace(sampleImage(), sampleFace());
        const client = new pg.Client({ connectionString: testDatabaseUrl });
        await client.connect();
        const chunks: Buffer[] = [];
        try {
          const sql = `COPY (SELECT face_token, record, NULL::text FROM ${schema}.compact_vectors ORDER BY face_id) TO STDOUT (FORMAT binary)`;
          for await (const chunk of client.query(copyTo(sql))) chunks.push(chunk as Buffer);
        } finally {
          await client.end();
        }
        const whole = Buffer.concat(chunks);
        const rowsOf = async (size: number) => {
          const rows: Array<[string, string, number]> = [];
          const split = (async function* () {
            for (let at = 0; at < whole.length; at += size) yield whole.subarray(at, at + size);
          })();
          for await (const _ of readBinaryCopy(split, 3, ({ buffer, starts, ends }) =>
            rows.push([buffer.toString('utf8', starts[0], ends[0]), buffer.toString('hex', starts[1], ends[1]), starts[2]!]),
          ));
          return rows;
        };
        const expected = await rowsOf(whole.length);
        assert.equal(expected.length, 5);
        assert.equal(expected[0]![2], -1); // NULL
        for (const size of [1, 2, 3, 7, 19, 580, 4096]) assert.deepEqual(await rowsOf(size), expected, `chunks of ${size} bytes`);
        const truncated = (async function* () {
          yield whole.subarray(0, whole.length - 2); // without the end marker
        })();
        await assert.rejects(async () => {
          for await (const _ of readBinaryCopy(truncated, 3, () => {}));
        }, /ended early/);
      }));

    it('holds the group limit and name uniqueness when two replicas create groups at once', () =>
      withReplicas(
        async (a, b) => {
          const create = (store: Store, i: number) => store.createGroup(group(`g${i}`, i % 5 === 0 ? 'shared name' : `n${i}`));
          const outcomes = await Promise.allSettled(
            Array.from({ length: 40 }, (_, i) => create(i % 2 === 0 ? a : b, i)),
          );
          const created = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
          assert.equal(created, 16 - 1);
          assert.equal((await a.listGroups()).length, 16);
          const names = (await b.listGroups()).map((g) => g.groupName).filter((name) => name === 'shared name');
          assert.ok(names.length <= 1);
          const rejections = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
          for (const reason of rejections) assert.match(reason, /GROUP_OVER_LIMIT|GROUP_NAME_CONFLICT/);
        },
        16,
      ));

    it('lets one replica win a race for the same imageId and the same groupId', () =>
      withReplicas(async (a, b) => {
        const image = sampleImage();
        const registrations = await Promise.allSettled([
          a.registerFace(image, sampleFace()),
          b.registerFace({ ...image }, sampleFace()),
        ]);
        assert.equal(registrations.filter((outcome) => outcome.status === 'fulfilled').length, 1);
        const groups = await Promise.allSettled([a.createGroup(group('same')), b.createGroup(group('same', 'other'))]);
        assert.equal(groups.filter((outcome) => outcome.status === 'fulfilled').length, 1);
        assert.equal((await a.listFaces({ offset: 0, size: 10 })).total, 1);
      }));

    it('logs every change for the index in commit order; a replica reads what another wrote', () =>
      withReplicas(async (a, b) => {
        const head = await b.changeFeed!.head();
        const first = sampleFace();
        const firstImage = sampleImage();
        await a.registerFace(firstImage, first);
        await a.createGroup(group('g'));
        await b.bind(first.faceToken, ['g']);
        await b.bind(first.faceToken, ['g']); // no change: not logged
        await a.deleteGroup('g', 1);
        await a.deleteImage(firstImage.imageId);
        await b.wipe();
        const changes = await allChanges(a, head);
        assert.deepEqual(
          changes.map((entry) => entry.change),
          [
            { kind: 'face', faceToken: first.faceToken },
            { kind: 'face', faceToken: first.faceToken },
            { kind: 'group-emptied', groupId: 'g' },
            { kind: 'face', faceToken: first.faceToken },
            { kind: 'wipe' },
          ],
        );
        const sequences = changes.map((entry) => entry.sequence);
        assert.deepEqual(sequences, [...sequences].sort((x, y) => x - y));
        assert.equal(await a.changeFeed!.head(), sequences.at(-1));
      }));

    it('prunes changes older than the retention, keeps the latest, tells a reader behind the cut, one pruner at a time', () =>
      withReplicas(async (a, b) => {
        for (let i = 0; i < 4; i++) await a.registerFace(sampleImage(), sampleFace());
        const head = await a.changeFeed!.head();
        const all = await allChanges(b);
        assert.equal(all.length, 4);
        assert.equal(await b.changeFeed!.prune(60_000), 0); // all younger than a minute

        // Another replica pruning now: this one skips its turn.
        const holder = new pg.Client({ connectionString: testDatabaseUrl });
        await holder.connect();
        try {
          await holder.query('BEGIN');
          await holder.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.changePruning]);
          assert.equal(await b.changeFeed!.prune(0), undefined);
          await holder.query('ROLLBACK');
        } finally {
          await holder.end();
        }

        assert.equal(await b.changeFeed!.prune(0), 3);
        assert.equal(await a.changeFeed!.head(), head, 'the latest change stays, so the head never goes back');
        assert.deepEqual(await allChanges(a), [all.at(-1)]);
        // A reader that had applied the change before the last one lost nothing; one further behind did.
        assert.equal((await a.changeFeed!.read(all.at(-2)!.sequence, 10)).missed, false);
        assert.equal((await a.changeFeed!.read(all.at(-3)!.sequence, 10)).missed, true);
        assert.equal((await a.changeFeed!.read(0, 10)).missed, true);
        assert.deepEqual(await a.changeFeed!.read(head, 10), { changes: [], missed: false });
      }));

    it('gives the current vector and groups of changed faces; deleted ones are absent', () =>
      withReplicas(async (a, b) => {
        const kept = sampleFace();
        const gone = sampleFace();
        await a.registerFace(sampleImage(), kept);
        await a.registerFace(sampleImage(), gone);
        await a.createGroup(group('g'));
        await a.bind(kept.faceToken, ['g']);
        await a.deleteFace(gone.faceToken);
        const vectors = await b.changeFeed!.vectorsOf([kept.faceToken, gone.faceToken, 'never-existed']);
        assert.equal(vectors.length, 1);
        assert.equal(vectors[0]?.faceToken, kept.faceToken);
        assert.deepEqual(vectors[0]?.groupIds, ['default', 'g']);
        assert.deepEqual(vectors[0]?.embedding, kept.embedding);
      }));

    it('wakes listeners of other replicas on commit, and again after a reconnection', () =>
      withReplicas(async (a, b, schema) => {
        let wakes = 0;
        let notify: () => void = () => {};
        const woken = () =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no wake-up within 5 s')), 5000);
            notify = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        let firstWake = woken();
        const listener = await b.changeFeed!.listen(() => {
          wakes += 1;
          notify();
        });
        try {
          await firstWake; // the wake-up after connecting
          const afterConnect = wakes;
          const committed = woken();
          await a.registerFace(sampleImage(), sampleFace());
          await committed;
          assert.ok(wakes > afterConnect);

          // Kill the listener's connection from the server side: it reconnects and wakes us again.
          firstWake = woken();
          await adminQuery(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = 'visage' AND query ILIKE 'LISTEN%' AND query ILIKE $1`,
            [`%${schema}%`],
          );
          await firstWake;
        } finally {
          await listener.close();
        }
      }));
  });
}
