/**
 * `npm run bench:http`: the server under concurrent load over loopback, driven by autocannon in the same
 * process (request bodies are prepared strings, so the client adds little to the event loop). Cases, each for --duration seconds:
 * search (3.2, top 5 in `default`) and compare (3.1) with the 1920 px demo photos of @vladmandic/face-api,
 * registration (1.1; the same photo under a fresh imageMd5 each time) and an overload burst far beyond
 * VISAGE_MAX_PENDING (which must answer 503 with Retry-After, never queue without bound).
 * Prints one JSON line a case: req/s, latency p50/p99, errors, and the event-loop delay (monitorEventLoopDelay)
 * seen meanwhile. Options: --data DIR (serve an existing library, e.g. `bench:search --keep DIR`; default a
 * fresh one), --duration S (10), --connections C (4).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const duration = Number(option('duration') ?? 10);
const connections = Number(option('connections') ?? 4);
const keptData = option('data');

const demo = (i: number) => readFileSync(join(import.meta.dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`));
const dataUrl = (bytes: Uint8Array) => `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;
const photo = dataUrl(demo(6));
const otherPhoto = dataUrl(demo(3));

const dataDir = keptData ?? mkdtempSync(join(tmpdir(), 'visage-http-bench-'));
const started = performance.now();
const app = await createApp({ ...loadConfig({ ...process.env, VISAGE_DATA: dataDir }), logLevel: 'silent' });
console.error(`server ready in ${((performance.now() - started) / 1000).toFixed(1)} s with ${app.indexed.loaded} faces indexed`);
const base = await app.server.listen({ host: '127.0.0.1', port: 0 });
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();

interface Case {
  name: string;
  path: string;
  body: (request: number) => string;
  connections?: number;
}

const searchBody = JSON.stringify({ image: photo, group: ['default'], topN: 5 });
const compareBody = JSON.stringify({ image1: photo, image2: otherPhoto });
const run = Date.now().toString(36);
/** The same photo under a new imageMd5 each time (else FACE_ALREADY_EXIST). */
const registerBody = (request: number) =>
  `{"imageMd5":"b${run}x${request}","description":"bench","name":"bench","gender":"","image":"${photo}"}`;

const cases: Case[] = [
  { name: 'search', path: '/api/face/search', body: () => searchBody },
  { name: 'compare', path: '/api/face/compare', body: () => compareBody },
  { name: 'register', path: '/api/faces', body: registerBody },
  { name: 'overload', path: '/api/face/search', body: () => searchBody, connections: 200 },
];

try {
  // One registration so that search has the photo's own face to find.
  await fetch(`${base}/api/faces`, { method: 'POST', body: registerBody(-1) });
  for (const bench of cases) {
    let request = 0;
    delay.reset();
    const statuses = new Map<number, number>();
    let retryAfter = 0;
    const result = await autocannon({
      url: base + bench.path,
      method: 'POST',
      connections: bench.connections ?? connections,
      duration,
      timeout: 30,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: bench.body(request++) }) }],
      setupClient: (client) => {
        // At run time autocannon passes http-parser's record, whose `headers` is [name, value, name, value, …].
        client.on('headers', (parsed) => {
          const fields = (parsed as { headers?: unknown }).headers;
          if (Array.isArray(fields) && fields.some((field, i) => i % 2 === 0 && String(field).toLowerCase() === 'retry-after')) retryAfter++;
        });
        client.on('response', (statusCode: number) => statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1));
      },
    });
    console.log(
      JSON.stringify({
        case: bench.name,
        connections: bench.connections ?? connections,
        req_per_s: Number(result.requests.average.toFixed(1)),
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        errors: result.errors + result.timeouts,
        statuses: Object.fromEntries(statuses),
        with_retry_after: retryAfter,
        event_loop_p50_ms: Number((delay.percentile(50) / 1e6).toFixed(1)),
        event_loop_p99_ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
        event_loop_max_ms: Number((delay.max / 1e6).toFixed(1)),
        indexed_faces: app.indexed.loaded,
        load_average: Number(loadavg()[0]!.toFixed(1)),
      }),
    );
  }
} finally {
  delay.disable();
  await app.close();
  if (!keptData) rmSync(dataDir, { recursive: true, force: true });
}
