/**
 * `npm run bench:latency`: p50/p99 of 1:1 compare and 1:N search through the real HTTP server (loopback),
 * with the demo photos of @vladmandic/face-api (1920 px group photos) and, when ../shared is present, LFW
 * portraits (250 px). The gallery is enrolled first: every LFW View 1 image when available (~5,000 faces),
 * else the demo photos. Requests run one at a time, so the figures are service times, not queueing.
 * Options: `--runs N` (default 40 per case).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { allImages, lfwAvailable } from './dataset.js';

const runsIndex = process.argv.indexOf('--runs');
const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 40;

const demo = (i: number) => readFileSync(join(import.meta.dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`));
const dataUrl = (bytes: Uint8Array) => `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;

const dataDir = mkdtempSync(join(tmpdir(), 'visage-latency-'));
const app = await createApp({ ...loadConfig({ ...process.env, VISAGE_DATA: dataDir }), logLevel: 'silent' });
const base = await app.server.listen({ host: '127.0.0.1', port: 0 });

async function post(path: string, body: unknown): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reply = (await response.json()) as { code: number };
  return { code: reply.code, ms: performance.now() - started };
}

async function measure(label: string, request: () => Promise<{ code: number; ms: number }>): Promise<Record<string, unknown>> {
  await request(); // warm-up
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < runs; i++) {
    const { code, ms } = await request();
    if (code !== 0) errors++;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => Number(times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!.toFixed(1));
  const row = { case: label, runs, p50_ms: pct(0.5), p99_ms: pct(0.99), errors };
  console.log(JSON.stringify(row));
  return row;
}

try {
  // Gallery.
  const gallery = lfwAvailable() ? allImages().map((i) => i.path) : [];
  let enrolled = 0;
  const enrolStarted = performance.now();
  const queue = [...gallery];
  await Promise.all(
    Array.from({ length: cpus().length * 2 }, async () => {
      for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
        const { code } = await post('/api/faces', { image: dataUrl(readFileSync(path)), imageMd5: '', description: path.split('/').pop() });
        if (code === 0) enrolled++;
      }
    }),
  );
  for (let i = 1; i <= 6; i++) if ((await post('/api/faces', { image: dataUrl(demo(i)) })).code === 0) enrolled++;
  const enrolSeconds = (performance.now() - enrolStarted) / 1000;
  console.log(`gallery: ${enrolled} faces enrolled in ${enrolSeconds.toFixed(1)} s (${(enrolled / enrolSeconds).toFixed(1)} faces/s, ${cpus().length} cores)`);

  const big1 = dataUrl(demo(6));
  const big2 = dataUrl(demo(3));
  await measure('compare 1920px vs 1920px', () => post('/api/face/compare', { image1: big1, image2: big2, livenessEnabled: false }));
  await measure('search 1920px, top5', () => post('/api/face/search', { image: big1, group: ['default'], topN: 5 }));
  await measure('search 1920px, top5, liveness', () => post('/api/face/search', { image: big1, group: ['default'], topN: 5, livenessEnabled: true }));
  if (gallery.length > 1) {
    const small1 = dataUrl(readFileSync(gallery[0]!));
    const small2 = dataUrl(readFileSync(gallery[1]!));
    await measure('compare 250px vs 250px', () => post('/api/face/compare', { image1: small1, image2: small2, livenessEnabled: false }));
    await measure('search 250px, top5', () => post('/api/face/search', { image: small1, group: ['default'], topN: 5 }));
  }
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
