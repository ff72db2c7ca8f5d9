/**
 * `scripts/pg-test-cluster.sh npm run bench:replication` (or with VISAGE_TEST_DATABASE_URL set): how long a
 * write acknowledged by replica A takes to reach replica B's search index, and the gallery figures for
 * sizing a replica: memory per face of the in-memory index and how fast a replica loads it at start.
 *
 * A and B are two stores (two connection pools) on one fresh schema; B follows the change log with the
 * ChangeFollower the server uses. Faces are synthetic (random unit vectors, 6-byte "images"): this
 * measures the store and the replication, not the vision pipeline. Lag = from A's commit being
 * acknowledged to the face being in B's index (checked every millisecond).
 * Options: `--writes N` (default 300 per case), `--gallery N` (default 100000 faces for the load figures).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadVectorIndex } from '../src/index/load-index.js';
import { VectorIndex } from '../src/index/vector-index.js';
import { createLibraryContext } from '../src/library/context.js';
import { ChangeFollower } from '../src/library/follow-changes.js';
import { embeddingToBytes } from '../src/store/embedding-bytes.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { Store } from '../src/store/store.js';
import { randomUnitVector, seededRandom } from '../test/helpers/random-vectors.js';

const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const writes = option('--writes', 300);
const gallerySize = option('--gallery', 100_000);
const url = process.env.VISAGE_TEST_DATABASE_URL;
if (!url) {
  console.error('set VISAGE_TEST_DATABASE_URL, or run: scripts/pg-test-cluster.sh npm run bench:replication');
  process.exit(2);
}

const DIMENSION = 512;
const MODEL = { modelId: 'bench-model', embeddingSize: DIMENSION };
const random = seededRandom(7);
const schema = `visage_bench_${process.pid}`;

const newFace = () => ({
  image: { imageId: randomUUID().slice(0, 24), description: '', format: 'jpeg' as const, bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) },
  face: {
    faceToken: randomUUID().replaceAll('-', '').slice(0, 24),
    name: '',
    gender: '',
    rect: { left: 0, top: 0, right: 100, bottom: 100 },
    embedding: randomUnitVector(random, DIMENSION),
    modelId: MODEL.modelId,
    crop: new Uint8Array([1, 2, 3]),
  },
});

const percentiles = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (p: number) => Number(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(1));
  return { p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), max_ms: at(1) };
};

async function waitUntil(condition: () => boolean): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (performance.now() - started > 10_000) throw new Error('not replicated within 10 s');
  }
  return performance.now();
}

/** `writers` concurrent loops on A, `writes` faces in all; lag of each to B's index. */
async function lagCase(a: Store, bIndex: VectorIndex, writers: number, kind: 'register' | 'delete', tokens: string[]) {
  const lags: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < writes; i = next++) {
        if (kind === 'register') {
          const { image, face } = newFace();
          await a.registerFace(image, face);
          const acknowledged = performance.now();
          tokens.push(face.faceToken);
          lags.push((await waitUntil(() => bIndex.has(face.faceToken))) - acknowledged);
        } else {
          const token = tokens.pop()!;
          await a.deleteFace(token);
          const acknowledged = performance.now();
          lags.push((await waitUntil(() => !bIndex.has(token))) - acknowledged);
        }
      }
    }),
  );
  console.log(JSON.stringify({ case: `${kind}, ${writers} writer(s) on A`, writes, ...percentiles(lags) }));
}

async function galleryCase(a: Store) {
  // Bulk insert (the registration path is measured above); 1000 faces a statement.
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  const insertStarted = performance.now();
  for (let done = 0; done < gallerySize; done += 1000) {
    const n = Math.min(1000, gallerySize - done);
    const faces = Array.from({ length: n }, newFace);
    await client.query(
      `WITH img AS (
         INSERT INTO images (image_id, description, format, bytes)
         SELECT id, '', 'jpeg', '\\x010203'::bytea FROM unnest($1::text[]) AS id RETURNING pk, image_id)
       INSERT INTO faces (face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom, model_id, embedding, crop)
       SELECT u.token, img.pk, '', '', 0, 0, 100, 100, $3, u.embedding, '\\x01'::bytea
       FROM unnest($1::text[], $2::text[], $4::bytea[]) AS u(image_id, token, embedding) JOIN img USING (image_id)`,
      [faces.map((f) => f.image.imageId), faces.map((f) => f.face.faceToken), MODEL.modelId, faces.map((f) => embeddingToBytes(f.face.embedding))],
    );
  }
  await client.query(`INSERT INTO bindings (face_id, group_pk) SELECT f.id, g.pk FROM faces f, face_groups g WHERE g.group_id = 'default'
                      ON CONFLICT DO NOTHING`);
  await client.end();
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  // The bulk insert wrote no compact records: the next replica to open fills them in (migration 4), as after an upgrade.
  const fillStarted = performance.now();
  await (await openPostgresStore({ url: url!, schema })).close();
  const fillSeconds = (performance.now() - fillStarted) / 1000;

  global.gc?.();
  const before = process.memoryUsage();
  const loadStarted = performance.now();
  const { index, loaded } = await loadVectorIndex(a, MODEL);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  global.gc?.();
  const after = process.memoryUsage();
  const perFace = (after.rss - before.rss) / loaded;
  console.log(
    JSON.stringify({
      case: 'gallery load at start',
      faces: loaded,
      bulk_insert_s: Number(insertSeconds.toFixed(1)),
      compact_fill_s: Number(fillSeconds.toFixed(1)),
      load_s: Number(loadSeconds.toFixed(1)),
      faces_per_s: Math.round(loaded / loadSeconds),
      rss_delta_mb: Math.round((after.rss - before.rss) / 2 ** 20),
      heap_delta_mb: Math.round((after.heapUsed - before.heapUsed) / 2 ** 20),
      rss_bytes_per_face: Math.round(perFace),
      gib_per_million_faces: Number(((perFace * 1e6) / 2 ** 30).toFixed(2)),
      index_size: index.size,
    }),
  );
}

const a = await openPostgresStore({ url, schema });
const b = await openPostgresStore({ url, schema });
try {
  const bIndex = new VectorIndex(DIMENSION, { exact: (faceTokens) => b.getEmbeddings(faceTokens, MODEL.modelId) });
  const follower = await ChangeFollower.start({
    feed: b.changeFeed!,
    context: createLibraryContext(b, bIndex),
    model: MODEL,
    after: await b.changeFeed!.head(),
    pollIntervalMs: 60_000, // only LISTEN/NOTIFY counts here
  });
  const tokens: string[] = [];
  for (const writers of [1, 4]) {
    await lagCase(a, bIndex, writers, 'register', tokens);
    await lagCase(a, bIndex, writers, 'delete', tokens);
  }
  await follower.close();
  if (gallerySize > 0) await galleryCase(a);
} finally {
  await Promise.all([a.close(), b.close()]);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
