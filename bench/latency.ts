/**
 * `npm run bench:latency`: p50/p99 of 1:1 compare and 1:N search through the real HTTP server (loopback),
 * with the demo photos of @vladmandic/face-api (1920 px group photos) and, when ../shared is present, LFW
 * portraits (250 px). The gallery is enrolled first: every LFW View 1 image when available (~5,000 faces),
 * else the demo photos. Requests run one at a time, so the figures are service times, not queueing.
 * Each row also gives the CPU time a request took (server and client are this process, so it includes the
 * client's JSON; on a loaded machine it is the steadier figure) and the load average around the runs.
 * Options: `--runs N` (default 40 per case), `--gallery N` (enrol only the first N LFW images; default all).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { allImages, lfwAvailable } from './dataset.js';

const runsIndex = process.argv.indexOf('--runs');
const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 40;
const galleryIndex = process.argv.indexOf('--gallery');
const gallerySize = galleryIndex > 0 ? Number(process.argv[galleryIndex + 1]) : Number.POSITIVE_INFINITY;

const demo = (i: number) => readFileSync(join(import.meta.dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`));
const dataUrl = (bytes: Uint8Array) => `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;

const dataDir = mkdtempSync(join(tmpdir(), 'visage-latency-'));
const app = await createApp({ ...loadConfig({ ...process.env, VISAGE_DATA: dataDir }), logLevel: 'silent' });
const base = await app.server.listen({ host: '127.0.0.1', port: 0 });

interface Timed {
  code: number;
  ms: number;
  cpuMs: number;
}

async function post(path: string, body: unknown): Promise<Timed> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reply = (await response.json()) as { code: number };
  const cpu = process.cpuUsage(cpuBefore);
  return { code: reply.code, ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const load = () => loadavg()[0]!.toFixed(1);

async function measure(label: string, request: () => Promise<Timed>): Promise<Record<string, unknown>> {
  await request(); // warm-up
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let errors = 0;
  const loadBefore = load();
  for (let i = 0; i < runs; i++) {
    const { code, ms, cpuMs } = await request();
    if (code !== 0) errors++;
    times.push(ms);
    cpuTimes.push(cpuMs);
  }
  const pct = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Number(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(1));
  };
  const row = { case: label, runs, p50_ms: pct(times, 0.5), p99_ms: pct(times, 0.99), p50_cpu_ms: pct(cpuTimes, 0.5), errors, load: `${loadBefore}→${load()}` };
  console.log(JSON.stringify(row));
  return row;
}

try {
  // Gallery.
  const gallery = lfwAvailable() ? allImages().map((i) => i.path).slice(0, gallerySize) : [];
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
  console.log(`gallery: ${enrolled} faces enrolled in ${enrolSeconds.toFixed(1)} s (${(enrolled / enrolSeconds).toFixed(1)} faces/s, ${cpus().length} cores, load average ${load()})`);

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
