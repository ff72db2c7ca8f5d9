/**
 * `npm run bench:load`: sustained mixed load through the real server on loopback. The server runs as a
 * child process (so its memory is measured apart from this driver); N connections (keep-alive) each send
 * requests back to back: 60 % search (top 5 in `default`), 20 % compare, 20 % registration (a new imageId
 * each time). Reports throughput, p50/p95/p99 per kind, errors (anything but a success, a deliberate
 * `503 OVERLOADED`, or a registration refused for its image), and the server's RSS sampled every second:
 * after warm-up, its growth should be flat.
 *
 * Photos: LFW View 1 portraits (250 px) when ../shared is present, else the demo photos at 640 px.
 * Options: --seconds 60, --connections 32, --warmup 15 (seconds excluded from the RSS trend), --gallery 300.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startChildServer } from '../test/helpers/child-server.js';
import { allImages, lfwAvailable } from './dataset.js';

const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const seconds = option('seconds', 60);
const connections = option('connections', 32);
const warmupSeconds = option('warmup', 15);
const gallerySize = option('gallery', 300);

type Kind = 'search' | 'compare' | 'register';

async function photos(): Promise<string[]> {
  if (lfwAvailable()) {
    const images = allImages();
    const step = Math.max(1, Math.floor(images.length / (gallerySize + 200)));
    return images.filter((_, i) => i % step === 0).map((image) => readFileSync(image.path).toString('base64'));
  }
  const demo = join(import.meta.dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'demo');
  return Promise.all(
    [1, 2, 3, 4, 5, 6].map(async (n) => (await sharp(join(demo, `sample${n}.jpg`)).resize({ width: 640 }).jpeg().toBuffer()).toString('base64')),
  );
}

const agent = new Agent({ keepAlive: true, maxSockets: connections });

function post(base: URL, path: string, body: unknown): Promise<{ status: number; code: number }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { agent, host: base.hostname, port: base.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code: number };
            resolve({ status: response.statusCode ?? 0, code: reply.code });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

function rssMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return variance === 0 ? 0 : covariance / variance;
}

const dataDir = mkdtempSync(join(tmpdir(), 'visage-load-'));
const server = await startChildServer({ VISAGE_DATA: dataDir });
const base = new URL(server.url);
try {
  const images = await photos();
  const gallery = images.slice(0, gallerySize);
  const probes = images.length > gallerySize ? images.slice(gallerySize) : images;
  // Enrol the gallery (not timed).
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < gallery.length; i = next++) await post(base, '/api/faces', { image: gallery[i], imageMd5: `gallery-${i}` });
    }),
  );

  const latencies: Record<Kind, number[]> = { search: [], compare: [], register: [] };
  const outcomes = { ok: 0, overloaded: 0, refusedImage: 0, errors: 0 };
  const errorSamples: string[] = [];
  let registrations = 0;
  const pick = () => probes[Math.floor(Math.random() * probes.length)]!;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const rss: Array<[number, number]> = [];
  const sampler = setInterval(() => rss.push([(performance.now() - started) / 1000, rssMegabytes(server.pid)]), 1000);

  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const roll = Math.random();
        const kind: Kind = roll < 0.6 ? 'search' : roll < 0.8 ? 'compare' : 'register';
        const body =
          kind === 'search'
            ? { image: pick(), group: ['default'], topN: 5 }
            : kind === 'compare'
              ? { image1: pick(), image2: pick() }
              : { image: pick(), imageMd5: `load-${registrations++}` };
        const path = kind === 'search' ? '/api/face/search' : kind === 'compare' ? '/api/face/compare' : '/api/faces';
        const sent = performance.now();
        try {
          const { status, code } = await post(base, path, body);
          if (status === 200 && code === 0) {
            outcomes.ok++;
            latencies[kind].push(performance.now() - sent);
          } else if (status === 503) outcomes.overloaded++;
          else if (status === 400 && [104200, 104201].includes(code)) outcomes.refusedImage++; // no face / bad quality: the photo's fault
          else {
            outcomes.errors++;
            if (errorSamples.length < 5) errorSamples.push(`${kind}: HTTP ${status} code ${code}`);
          }
        } catch (error) {
          outcomes.errors++;
          if (errorSamples.length < 5) errorSamples.push(`${kind}: ${String(error)}`);
        }
      }
    }),
  );
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;

  const all = Object.values(latencies).flat().sort((a, b) => a - b);
  const row = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { kind: label, ok: sorted.length, p50_ms: Math.round(percentile(sorted, 0.5)), p95_ms: Math.round(percentile(sorted, 0.95)), p99_ms: Math.round(percentile(sorted, 0.99)) };
  };
  const steady = rss.filter(([t]) => t >= warmupSeconds);
  const report = {
    seconds: Math.round(elapsed),
    connections,
    photos: lfwAvailable() ? 'LFW 250 px' : 'demo 640 px',
    gallery: gallery.length,
    throughput_per_s: Number(((outcomes.ok + outcomes.overloaded + outcomes.refusedImage + outcomes.errors) / elapsed).toFixed(1)),
    outcomes,
    errorSamples,
    latency: [row('search', latencies.search), row('compare', latencies.compare), row('register', latencies.register), row('all', all)],
    rss_mb: {
      at_warmup_end: Math.round(steady[0]?.[1] ?? NaN),
      max_after_warmup: Math.round(Math.max(...steady.map(([, mb]) => mb))),
      final: Math.round(rss.at(-1)?.[1] ?? NaN),
      trend_mb_per_min_after_warmup: Number((slope(steady) * 60).toFixed(1)),
    },
  };
  console.log(JSON.stringify(report, null, 2));
  if (outcomes.errors > 0) process.exitCode = 1;
} finally {
  server.child.kill('SIGTERM');
  await server.exited;
  agent.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
