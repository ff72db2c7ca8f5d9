/**
 * `npm run bench:search -- --faces N [--store sqlite|postgres]`: the 1:N search core at scale, on a synthetic library.
 *
 * N normalised 512-d vectors in identity clusters (5 faces an identity, cosine ≈ 0.6 within one, ≈ 0 across),
 * each face bound to `default` and one or two of 63 other groups. The rows go into the real schema of the
 * store in batched transactions, each face with the compact record registerFace writes beside it (bulk SQL:
 * 2 × N fsynced blob files through registerFace would take hours at 1 M; every face shares one placeholder
 * original and crop); start-up then runs the real code: open the store (migrations included), stream the
 * compact vectors, build the index. Queries are fresh samples of random identities searched for the top 5,
 * half in `default` (the whole library), half in 1–3 random other groups; recall@5 is against an exact
 * float64 scan of the stored vectors (streamed through the store). Prints one JSON line last:
 * {"faces","p50_ms","p99_ms","recall_at_5","build_s","rss_mb","startup_s", …}; the `_cpu` figures are CPU time
 * of the process, which other sessions' load on a shared machine inflates far less than wall time.
 * Options: --faces N (10000), --queries Q (200 timed; recall on the first --recall-queries, default 100),
 * --shortlist S (the index default), --cosine-scan-up-to M (a filter of at most M members is ranked in pass 1
 * by int8 cosine, not Hamming: the index default; 0 = never), --threads T (scan threads, default 2; 0 scans on
 * the event loop),
 * --concurrency C (searches in flight in the burst the event-loop delay is measured under, default 8),
 * --store postgres (in a schema of the database at VISAGE_DATABASE_URL or VISAGE_TEST_DATABASE_URL, e.g.
 * `scripts/pg-test-cluster.sh npm run bench:search -- --store postgres`; the PostgreSQL server runs on the same
 * machine, so its CPU is part of the start-up's wall time but not of `startup_cpu_s`),
 * --keep NAME (reuse/keep the library: a data directory for SQLite, a schema name for PostgreSQL),
 * --growth (then fill the index past its capacity and widen its group bitsets, one registration-sized add at a
 * time beside searches in flight, and print the longest event-loop stall). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeCompact } from '../src/index/compact-codec.js';
import { EMBEDDING_SIZE, EMBEDDING_MODEL_ID } from '../src/vision/embed.js';
import { loadVectorIndex } from '../src/index/load-index.js';
import { DEFAULT_COSINE_SCAN_UP_TO, DEFAULT_SHORTLIST } from '../src/index/vector-index.js';
import { embeddingToBytes } from '../src/store/embedding-bytes.js';
import { clientConfig } from '../src/store/postgres/database.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { DEFAULT_GROUP_ID, type Store } from '../src/store/store.js';
import { BlobFiles } from '../src/store/sqlite/blob-files.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { randomUnitVector, seededRandom } from '../test/helpers/random-vectors.js';

const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const faces = option('faces', 10_000);
const queryCount = option('queries', 200);
const recallQueries = Math.min(queryCount, option('recall-queries', 100));
const shortlist = option('shortlist', DEFAULT_SHORTLIST);
const cosineScanUpTo = option('cosine-scan-up-to', DEFAULT_COSINE_SCAN_UP_TO);
/** Scan threads (0: the scan runs on the event loop). */
const scanThreads = option('threads', 2);
/** Searches in flight at once in the burst that event-loop delay is measured under. */
const burstConcurrency = option('concurrency', 8);
const textOption = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
/** A data directory (SQLite) or a schema name (PostgreSQL) to reuse and keep. */
const keptName = textOption('keep');
const measureGrowth = process.argv.includes('--growth');
const storeKind = textOption('store') ?? 'sqlite';
if (storeKind !== 'sqlite' && storeKind !== 'postgres') throw new Error(`--store sqlite|postgres, not ${storeKind}`);

const DIMENSION = EMBEDDING_SIZE;
const FACES_PER_IDENTITY = 5;
/** Noise of std NOISE/√d per component around the identity centre: cosine within an identity ≈ 1/(1 + NOISE²) ≈ 0.6. */
const NOISE = 0.82;
/** The pipeline's model id, so a server started on a kept library (`bench:http --data`) searches these vectors
 * instead of re-embedding them in the background. */
const MODEL_ID = EMBEDDING_MODEL_ID;
const GROUPS = Array.from({ length: 63 }, (_, i) => `g${i + 1}`);
const BATCH = 10_000;
/** Smaller: every value travels as text in the statement's parameters. */
const PG_BATCH = 2_000;
const PLACEHOLDER_JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);

const random = seededRandom(2026);
const identities = Math.ceil(faces / FACES_PER_IDENTITY);
/** Identity centres are regenerated from their own seed, so 1 M faces never sit in memory as float32. */
const centreOf = (identity: number) => randomUnitVector(seededRandom(identity + 1), DIMENSION);
function sampleOf(identity: number): Float32Array {
  const centre = centreOf(identity);
  const noise = randomUnitVector(random, DIMENSION);
  const scale = NOISE * Math.sqrt(-2 * Math.log(1 - random()) / 2 + 0.5); // norm of the noise varies a little
  let norm = 0;
  for (let i = 0; i < DIMENSION; i++) {
    centre[i]! += noise[i]! * scale;
    norm += centre[i]! ** 2;
  }
  for (let i = 0; i < DIMENSION; i++) centre[i]! /= Math.sqrt(norm);
  return centre;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

interface SyntheticFace {
  n: number;
  faceToken: string;
  name: string;
  embedding: Float32Array;
  record: Uint8Array;
  /** `default` first, then one or two of GROUPS. */
  groupIds: string[];
}

/** Faces from..to-1 of the synthetic library, each with the compact record registerFace would write. */
function syntheticFaces(from: number, to: number): SyntheticFace[] {
  return Array.from({ length: to - from }, (_, k) => {
    const n = from + k;
    const identity = n % identities;
    const embedding = sampleOf(identity);
    const groupIds = [DEFAULT_GROUP_ID];
    for (let g = random() < 0.5 ? 1 : 2; g > 0; g--) groupIds.push(pick(GROUPS));
    return {
      n,
      faceToken: `syntheticface${String(n).padStart(10, '0')}`,
      name: `identity ${identity}`,
      embedding,
      record: encodeCompact(embedding),
      groupIds: [...new Set(groupIds)],
    };
  });
}

/** The library's groups, through the Store interface. */
async function createGroups(store: Store): Promise<void> {
  for (const groupId of GROUPS) await store.createGroup({ groupId, groupName: groupId, groupType: 'bench', groupScore: 80 });
}

async function buildSqlite(dataDir: string): Promise<void> {
  const store = await openSqliteStore({ dataDir });
  await createGroups(store);
  await store.close();
  // One durable placeholder original and crop, referenced by every synthetic row.
  const files = new BlobFiles(dataDir);
  const original = await files.write('originals', PLACEHOLDER_JPEG);
  const crop = await files.write('crops', PLACEHOLDER_JPEG);

  const db = new Database(join(dataDir, 'visage.db'));
  db.pragma('journal_mode = WAL');
  db.prepare('ATTACH DATABASE ? AS vectors').run(join(dataDir, 'visage-vectors.db'));
  const groupPk = new Map(db.prepare<[], { pk: number; group_id: string }>('SELECT pk, group_id FROM face_groups').all().map((row) => [row.group_id, row.pk]));
  const insertImage = db.prepare('INSERT INTO images (image_id, description, format, file) VALUES (?, ?, ?, ?)');
  const insertFace = db.prepare(
    `INSERT INTO faces (face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom, model_id, embedding, crop_file)
     VALUES (?, ?, ?, '', 0, 0, 112, 112, ?, ?, ?)`,
  );
  const insertBinding = db.prepare('INSERT OR IGNORE INTO bindings (face_id, group_pk) VALUES (?, ?)');
  // As registerFace writes it: the compact vector and the face's group pks, in visage-vectors.db (migration 8),
  // in the face's transaction.
  const insertCompact = db.prepare(
    `INSERT INTO vectors.compact_vectors (face_id, face_token, model_id, record, group_pks)
     VALUES (?, ?, ?, ?, (SELECT group_concat(group_pk) FROM bindings WHERE face_id = ?))`,
  );
  const insertBatch = db.transaction((batch: SyntheticFace[]) => {
    for (const face of batch) {
      const imagePk = insertImage.run(`syn${face.n}`, `synthetic ${face.n}`, 'jpeg', original).lastInsertRowid;
      const faceId = insertFace.run(face.faceToken, imagePk, face.name, MODEL_ID, embeddingToBytes(face.embedding), crop).lastInsertRowid;
      for (const groupId of face.groupIds) insertBinding.run(faceId, groupPk.get(groupId)!);
      insertCompact.run(faceId, face.faceToken, MODEL_ID, face.record, faceId);
    }
  });
  for (let from = 0; from < faces; from += BATCH) insertBatch(syntheticFaces(from, Math.min(faces, from + BATCH)));
  // Without the store's triggers: the two files are in step, as their generations then say.
  db.exec('UPDATE vectors.generation SET value = (SELECT value FROM main.vectors_generation)');
  db.close();
}

/** The same rows in PostgreSQL (migration 4's compact records included), a transaction per batch. */
async function buildPostgres(url: string, schema: string): Promise<void> {
  const store = await openPostgresStore({ url, schema });
  await createGroups(store);
  await store.close();
  const client = new pg.Client(clientConfig({ url, schema }));
  await client.connect();
  try {
    for (let from = 0; from < faces; from += PG_BATCH) {
      const batch = syntheticFaces(from, Math.min(faces, from + PG_BATCH));
      await client.query('BEGIN');
      await client.query(
        `WITH u AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::bytea[], $5::bytea[]) AS u(n, face_token, name, embedding, record)),
              image AS (INSERT INTO images (image_id, description, format, bytes)
                        SELECT 'syn' || n, 'synthetic ' || n, 'jpeg', $6 FROM u RETURNING pk, image_id),
              face AS (INSERT INTO faces (face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom, model_id, embedding, crop)
                       SELECT u.face_token, image.pk, u.name, '', 0, 0, 112, 112, $7, u.embedding, $6
                       FROM u JOIN image ON image.image_id = 'syn' || u.n RETURNING id, face_token)
         INSERT INTO compact_vectors (face_id, face_token, model_id, record)
         SELECT face.id, face.face_token, $7, u.record FROM face JOIN u USING (face_token)`,
        [
          batch.map((face) => face.n),
          batch.map((face) => face.faceToken),
          batch.map((face) => face.name),
          batch.map((face) => embeddingToBytes(face.embedding)),
          batch.map((face) => Buffer.from(face.record)),
          Buffer.from(PLACEHOLDER_JPEG),
          MODEL_ID,
        ],
      );
      const bindings = batch.flatMap((face) => face.groupIds.map((groupId) => [face.faceToken, groupId] as const));
      await client.query(
        `INSERT INTO bindings (face_id, group_pk)
         SELECT f.id, g.pk FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(face_token, group_id, k)
         JOIN faces f USING (face_token) JOIN face_groups g USING (group_id) ORDER BY u.k`,
        [bindings.map(([faceToken]) => faceToken), bindings.map(([, groupId]) => groupId)],
      );
      await client.query('COMMIT');
    }
    await client.query('VACUUM ANALYZE'); // as autovacuum would soon after a bulk load: visibility map and statistics
  } finally {
    await client.end();
  }
}

interface Query {
  vector: Float32Array;
  groups: string[];
}

/** The exact top 5 of each query by a float64 scan over the stored vectors (the store is the truth). */
async function exactTop5(store: Store, queries: Query[]): Promise<string[][]> {
  const tops = queries.map(() => [] as Array<{ token: string; cosine: number }>);
  for await (const { faceToken, embedding, groupIds } of store.streamVectors()) {
    queries.forEach((query, q) => {
      if (!query.groups.some((groupId) => groupIds.includes(groupId))) return;
      let cosine = 0;
      for (let i = 0; i < DIMENSION; i++) cosine += embedding[i]! * query.vector[i]!;
      const top = tops[q]!;
      if (top.length === 5 && cosine <= top[4]!.cosine) return;
      top.push({ token: faceToken, cosine });
      top.sort((a, b) => b.cosine - a.cosine);
      top.length = Math.min(top.length, 5);
    });
  }
  return tops.map((top) => top.map((entry) => entry.token));
}

/**
 * Growth under load: faces are added 20 to an event-loop turn (as registrations arrive) until the index has
 * outgrown its capacity, then one face joins 40 new groups, one at a time, until the group bitsets have
 * widened; two searches stay in flight throughout. Reports the longest event-loop stall, the add that grew
 * the index, the longest single add/bind, and the longest garbage-collection pause meanwhile.
 */
async function grow(index: Awaited<ReturnType<typeof loadVectorIndex>>['index'], queries: Query[]) {
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let searching = true;
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const searchers = Array.from({ length: 2 }, async (_, k) => {
    for (let q = k; searching; q++) {
      const query = queries[q % queries.length]!;
      await turn(); // each search arrives through the event loop, as a request would
      await index.search(query.vector, { groups: query.groups, limit: 5 });
    }
  });
  const startCapacity = index.capacity;
  let longestAdd = 0;
  let growthStep = 0;
  let added = 0;
  // Garbage-collection pauses meanwhile, to tell them from the growth step itself.
  let longestGc = 0;
  const gcPauses = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) longestGc = Math.max(longestGc, entry.duration);
  });
  gcPauses.observe({ entryTypes: ['gc'] });
  loopDelay.enable();
  const started = performance.now();
  while (index.capacity === startCapacity) {
    for (let k = 0; k < 20; k++) {
      const embedding = sampleOf(Math.floor(random() * identities));
      const at = performance.now();
      const capacity = index.capacity;
      index.add(`growthface${added++}`, embedding, [DEFAULT_GROUP_ID, pick(GROUPS)]);
      const ms = performance.now() - at;
      longestAdd = Math.max(longestAdd, ms);
      if (index.capacity !== capacity) growthStep = ms;
    }
    await turn();
  }
  const growSeconds = (performance.now() - started) / 1000;
  let longestBind = 0;
  for (let g = 0; g < 40; g++) {
    const groups = [DEFAULT_GROUP_ID, ...Array.from({ length: g + 1 }, (_, i) => `growth-group-${i}`)];
    const at = performance.now();
    index.updateGroups('growthface0', groups);
    longestBind = Math.max(longestBind, performance.now() - at);
    await turn();
  }
  loopDelay.disable();
  gcPauses.disconnect();
  searching = false;
  await Promise.all(searchers);
  return {
    growth_faces_added: added,
    growth_capacity: [startCapacity, index.capacity],
    growth_s: Number(growSeconds.toFixed(1)),
    growth_step_add_ms: Number(growthStep.toFixed(1)),
    growth_longest_add_ms: Number(longestAdd.toFixed(1)),
    growth_longest_gc_pause_ms: Number(longestGc.toFixed(1)),
    growth_longest_widening_bind_ms: Number(longestBind.toFixed(1)),
    growth_event_loop_delay_max_ms: Number((loopDelay.max / 1e6).toFixed(1)),
    growth_event_loop_delay_p99_ms: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
  };
}

/** Where the library lives, how to build it and open it as the server does (migrations included). */
interface BenchLibrary {
  exists(): Promise<boolean>;
  build(): Promise<void>;
  open(): Promise<Store>;
  /** Removes it unless kept. */
  dispose(): Promise<void>;
}

function sqliteLibrary(): BenchLibrary {
  const dataDir = keptName ?? mkdtempSync(join(tmpdir(), 'visage-search-bench-'));
  return {
    exists: async () => existsSync(join(dataDir, 'visage.db')),
    build: () => buildSqlite(dataDir),
    open: () => openSqliteStore({ dataDir, checkConsistency: false }),
    dispose: async () => {
      if (!keptName) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function postgresLibrary(): BenchLibrary {
  const url = process.env.VISAGE_DATABASE_URL || process.env.VISAGE_TEST_DATABASE_URL;
  if (!url) {
    console.error('--store postgres: set VISAGE_DATABASE_URL, or run: scripts/pg-test-cluster.sh npm run bench:search -- --store postgres');
    process.exit(2);
  }
  const schema = keptName ?? `visage_search_bench_${process.pid}`;
  const admin = async (sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<{ found: boolean }>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    exists: async () => (await admin('SELECT to_regclass($1) IS NOT NULL AS found', [`${schema}.faces`]))[0]!.found,
    build: () => buildPostgres(url, schema),
    open: () => openPostgresStore({ url, schema }),
    dispose: async () => {
      if (!keptName) await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

const library = storeKind === 'postgres' ? postgresLibrary() : sqliteLibrary();
try {
  const buildStarted = performance.now();
  if (!(await library.exists())) await library.build();
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  console.error(`library of ${faces} faces (${storeKind}) built in ${buildSeconds.toFixed(1)} s`);

  // Start-up as the server does it: open (migrate), load the index from the compact vectors; ready to search.
  // The server checks files against rows after that, in the background (timed separately below).
  const startedUp = performance.now();
  const startupCpu = process.cpuUsage();
  const store = await library.open();
  const { index, loaded } = await loadVectorIndex(store, { modelId: MODEL_ID, embeddingSize: DIMENSION }, { shortlist, scanThreads, cosineScanUpTo });
  const startupSeconds = (performance.now() - startedUp) / 1000;
  const { user, system } = process.cpuUsage(startupCpu);
  const startupCpuSeconds = (user + system) / 1e6;
  (globalThis as { gc?: () => void }).gc?.();
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  console.error(`start-up: ${loaded} faces indexed in ${startupSeconds.toFixed(1)} s, rss ${rssMb.toFixed(0)} MB`);
  const checkStarted = performance.now();
  await store.checkConsistency?.();
  const fileCheckSeconds = (performance.now() - checkStarted) / 1000;

  const queries: Query[] = Array.from({ length: queryCount }, (_, q) => ({
    vector: sampleOf(Math.floor(random() * identities)),
    groups: q % 2 === 0 ? [DEFAULT_GROUP_ID] : Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(GROUPS)),
  }));
  for (const query of queries.slice(0, 10)) await index.search(query.vector, { groups: query.groups, limit: 5 }); // warm-up
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const timesByKind = { whole: [] as number[], filtered: [] as number[] };
  const found: string[][] = [];
  for (const [q, query] of queries.entries()) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const hits = await index.search(query.vector, { groups: query.groups, limit: 5 });
    const cpu = process.cpuUsage(cpuStarted);
    const ms = performance.now() - started;
    times.push(ms);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    (q % 2 === 0 ? timesByKind.whole : timesByKind.filtered).push(ms);
    found.push(hits.map((hit) => hit.faceToken));
  }
  // A burst: `burstConcurrency` searches in flight at once, the queries once more, each arriving through the
  // event loop as a request would; its delay is what every other request waits meanwhile.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const burstStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: burstConcurrency }, async () => {
      while (next < queries.length) {
        const query = queries[next++]!;
        await new Promise((resolve) => setImmediate(resolve));
        await index.search(query.vector, { groups: query.groups, limit: 5 });
      }
    }),
  );
  const burstSeconds = (performance.now() - burstStarted) / 1000;
  loopDelay.disable();
  const growth = measureGrowth ? await grow(index, queries) : {};
  await index.close();

  const exactStarted = performance.now();
  const exact = await exactTop5(store, queries.slice(0, recallQueries));
  await store.close();
  let matched = 0;
  let expected = 0;
  exact.forEach((top, q) => {
    expected += top.length;
    matched += top.filter((token) => found[q]!.includes(token)).length;
  });
  console.error(`exact reference for ${recallQueries} queries in ${((performance.now() - exactStarted) / 1000).toFixed(1)} s`);

  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Number(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(2));
  };
  console.log(
    JSON.stringify({
      faces: loaded,
      store: storeKind,
      p50_ms: percentile(times, 0.5),
      p99_ms: percentile(times, 0.99),
      recall_at_5: Number((matched / expected).toFixed(4)),
      build_s: Number(buildSeconds.toFixed(1)),
      rss_mb: Math.round(rssMb),
      startup_s: Number(startupSeconds.toFixed(2)),
      startup_cpu_s: Number(startupCpuSeconds.toFixed(2)),
      file_check_s: Number(fileCheckSeconds.toFixed(2)),
      p50_cpu_ms: percentile(cpuTimes, 0.5),
      p99_cpu_ms: percentile(cpuTimes, 0.99),
      load_average: Number(loadavg()[0]!.toFixed(1)),
      p50_whole_library_ms: percentile(timesByKind.whole, 0.5),
      p50_filtered_ms: percentile(timesByKind.filtered, 0.5),
      burst_searches_per_s: Number((queries.length / burstSeconds).toFixed(1)),
      event_loop_delay_p99_ms: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
      event_loop_delay_max_ms: Number((loopDelay.max / 1e6).toFixed(1)),
      event_loop_delay_samples: loopDelay.count,
      shortlist,
      cosine_scan_up_to: cosineScanUpTo,
      scan_threads: scanThreads,
      queries: queryCount,
      ...growth,
    }),
  );
} finally {
  await library.dispose();
}
