/**
 * `npm run bench:http`: the server under concurrent load over loopback, driven by autocannon from a child
 * process (bench/http-client.ts), so the event-loop delay reported is the server's alone. Cases, each for
 * --duration seconds: search (3.2, top 5 in `default`) and compare (3.1) of the photo, registration (1.1;
 * the photo under a fresh imageMd5 each time, or LFW portraits in turn with --portraits) and an overload burst
 * far beyond VISAGE_MAX_PENDING (which must answer 503 with Retry-After, never queue without bound).
 * Prints one JSON line a case (and `after-start`: from listening until the first registration, which may wait
 * for the start-up file check's re-verification in the write queue, and file_check_s, from listening until that
 * check is done; the cases start after it): req/s, latency p50/p99, errors, and the
 * event-loop delay (monitorEventLoopDelay) seen meanwhile, wall clock and (event_loop_max_cpu_ms) the longest
 * stretch of the loop thread's own CPU time (with event_loop_cpu_over_20ms_at_s, when each stretch over 20 ms ended,
 * in seconds into the case),
 * and how long the loop waited for a core (event_loop_max_wait_ms between two ticks, event_loop_wait_ms in all),
 * and the largest resident set of the process meanwhile (rss_max_mb: the server, sampled every 100 ms).
 * Options: --data DIR (serve an existing library, e.g. `bench:search --keep DIR`; default a fresh one),
 * --duration S (10), --connections C (4), --cases search,compare,register,overload (all),
 * --photo FILE (default the 1920 px demo sample6.jpg; e.g. ../shared/datasets/samples/face_recognition/examples/obama-1080p.jpg),
 * --other FILE (compare's second photo; default the 1920 px demo sample3.jpg); either may instead name a photo
 *   cut here from real ones: `half-body` (needs ../shared) or `group` (see NAMED_PHOTOS),
 * --portraits N (register the first N LFW View 1 portraits in turn instead of the photo; needs ../shared).
 * The server runs with its logs off (`silent`) unless VISAGE_LOG_LEVEL is set.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { allImages, DATASETS_DIR, lfwAvailable } from './dataset.js';
import { dataUrl } from '../test/helpers/images.js';
import type { ClientCase, ClientResult } from './http-client.js';

/**
 * The most CPU time the event-loop thread spent between two ticks of a 5 ms timer: the longest stall the
 * server itself caused. On a shared machine the wall-clock delay also counts the time the thread waited for
 * a core; this does not (Linux: the thread's run time from /proc/thread-self/schedstat; undefined elsewhere).
 * That wait is measured apart (schedstat's second field: time runnable but not running), the part a
 * thread's priority decides.
 */
class LongestBusyStretch {
  maxMs: number | undefined;
  /** Stretches of more than 20 ms of CPU, and when each ended (seconds into the case). */
  over20 = 0;
  over20AtS: number[] = [];
  /** The longest time the loop waited for a core between two ticks, and the whole case's wait. */
  maxWaitMs: number | undefined;
  totalWaitMs = 0;
  private started = performance.now();
  private last = LongestBusyStretch.schedstat();
  private readonly timer = setInterval(() => {
    const now = LongestBusyStretch.schedstat();
    if (now !== undefined && this.last !== undefined) {
      const ms = Number(now.run - this.last.run) / 1e6;
      this.maxMs = Math.max(this.maxMs ?? 0, ms);
      if (ms > 20) {
        this.over20 += 1;
        this.over20AtS.push(Number(((performance.now() - this.started) / 1000).toFixed(2)));
      }
      const waitMs = Number(now.wait - this.last.wait) / 1e6;
      this.maxWaitMs = Math.max(this.maxWaitMs ?? 0, waitMs);
      this.totalWaitMs += waitMs;
    }
    this.last = now;
  }, 5);

  reset(): void {
    this.maxMs = undefined;
    this.over20 = 0;
    this.over20AtS = [];
    this.started = performance.now();
    this.maxWaitMs = undefined;
    this.totalWaitMs = 0;
    this.last = LongestBusyStretch.schedstat();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private static schedstat(): { run: bigint; wait: bigint } | undefined {
    try {
      const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
      return { run: BigInt(run!), wait: BigInt(wait!) };
    } catch {
      return undefined;
    }
  }
}

const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const duration = Number(option('duration') ?? 10);
const connections = Number(option('connections') ?? 4);
const keptData = option('data');
const selected = new Set((option('cases') ?? 'search,compare,register,overload').split(','));
const portraits = Number(option('portraits') ?? 0);
if (portraits > 0 && !lfwAvailable()) throw new Error('--portraits needs LFW View 1 in ../shared/datasets');

const demo = (i: number) => join(import.meta.dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`);
/**
 * 1080p photos the README's figures name, cut from real ones here rather than kept as files: `half-body`
 * (CompreFace's 4912×7360 `001_A.jpg` scaled to 1920 px wide, rows 400–1479: one 154×202 px face, one
 * detector run) and `group` (the demo group photo `sample3.jpg`, its middle 1920×1080: main face 223×310 px,
 * 7 detector runs).
 */
const NAMED_PHOTOS: Record<string, () => Promise<Buffer>> = {
  'half-body': () =>
    sharp(join(DATASETS_DIR, 'samples', 'compreface', '001_A.jpg'))
      .resize(1920)
      .extract({ left: 0, top: 400, width: 1920, height: 1080 })
      .jpeg({ quality: 90 })
      .toBuffer(),
  group: () => sharp(demo(3)).resize(1920, 1080, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer(),
};
const photoOption = async (name: string, fallback: string) => {
  const value = option(name) ?? fallback;
  const named = NAMED_PHOTOS[value];
  return dataUrl(named ? await named() : readFileSync(value));
};
const photo = await photoOption('photo', demo(6));
const otherPhoto = await photoOption('other', demo(3));

const dataDir = keptData ?? mkdtempSync(join(tmpdir(), 'visage-http-bench-'));
const started = performance.now();
// The server's request logs are off unless VISAGE_LOG_LEVEL is set (they then go to stdout with the results).
const app = await createApp(loadConfig({ VISAGE_LOG_LEVEL: 'silent', ...process.env, VISAGE_DATA: dataDir }));
console.error(`server ready in ${((performance.now() - started) / 1000).toFixed(1)} s with ${app.indexed.loaded} faces indexed`);
const base = await app.server.listen({ host: '127.0.0.1', port: 0 });
const listening = performance.now();
const client = fork(join(import.meta.dirname, 'http-client.ts'), { execArgv: ['--import', 'tsx'] });

const run = Date.now().toString(36);
/** A photo under a new imageMd5 each time (else FACE_ALREADY_EXIST); the client puts the request number for {n}. */
const registerBody = (image: string, tag = 'x') =>
  `{"imageMd5":"b${run}${tag}{n}","description":"bench","name":"bench","gender":"","image":"${image}"}`;
const registerBodies = portraits > 0 ? allImages().slice(0, portraits).map(({ path }, k) => registerBody(dataUrl(readFileSync(path)), `p${k}n`)) : [registerBody(photo)];
const searchBody = JSON.stringify({ image: photo, group: ['default'], topN: 5 });
const compareBody = JSON.stringify({ image1: photo, image2: otherPhoto });

const cases: Array<{ name: string; path: string; bodies: string[]; connections?: number }> = [
  { name: 'search', path: '/api/face/search', bodies: [searchBody] },
  { name: 'compare', path: '/api/face/compare', bodies: [compareBody] },
  { name: 'register', path: '/api/faces', bodies: registerBodies },
  { name: 'overload', path: '/api/face/search', bodies: [searchBody], connections: 200 },
];

// From here on the bench itself does nothing heavy on this thread (the bodies above are built).
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const busy = new LongestBusyStretch();
/** The process's largest resident set during a case (the server runs in this process; the load client does not). */
let rssMax = 0;
const rssSampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 100);

const loopFigures = () => ({
  event_loop_p50_ms: Number((delay.percentile(50) / 1e6).toFixed(1)),
  event_loop_p99_ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
  event_loop_max_ms: Number((delay.max / 1e6).toFixed(1)),
  event_loop_max_cpu_ms: busy.maxMs === undefined ? null : Number(busy.maxMs.toFixed(1)),
  event_loop_cpu_over_20ms: busy.over20,
  event_loop_cpu_over_20ms_at_s: busy.over20AtS,
  event_loop_max_wait_ms: busy.maxWaitMs === undefined ? null : Number(busy.maxWaitMs.toFixed(1)),
  event_loop_wait_ms: Math.round(busy.totalWaitMs),
  load_average: Number(loadavg()[0]!.toFixed(1)),
  rss_max_mb: Math.round(rssMax / 2 ** 20),
});

const answer = <T>(message: unknown) =>
  new Promise<T>((resolve, reject) => {
    client.once('message', (reply) => resolve(reply as T));
    client.once('exit', (code) => reject(new Error(`the load client exited (${code})`)));
    client.send(message as object);
  });

try {
  // One registration so that search has the photo's own face to find. It runs beside the start-up file check
  // and may wait in the write queue for its re-verification, so its line shows what that check does to the event
  // loop and to the first write. The cases start once the check is done, so that it is in none of their figures.
  const firstStarted = performance.now();
  const first = await fetch(`${base}/api/faces`, { method: 'POST', body: registerBody(photo, 'first').replace('{n}', '') });
  const firstDone = performance.now();
  await app.fileCheck;
  const fileCheckDone = performance.now();
  console.log(
    JSON.stringify({
      case: 'after-start',
      first_registration_ms: Math.round(firstDone - firstStarted),
      file_check_s: Number(((fileCheckDone - listening) / 1000).toFixed(1)),
      status: first.status,
      ...loopFigures(),
    }),
  );
  for (const bench of cases.filter(({ name }) => selected.has(name))) {
    const job: ClientCase = { url: base + bench.path, bodies: bench.bodies, connections: bench.connections ?? connections, duration };
    await answer<'ready'>(job);
    delay.reset();
    busy.reset();
    rssMax = 0;
    const result = await answer<ClientResult>('go');
    console.log(
      JSON.stringify({
        case: bench.name,
        connections: bench.connections ?? connections,
        req_per_s: Number(result.requestsPerSecond.toFixed(1)),
        ok_per_s: Number(((result.statuses['200'] ?? 0) / duration).toFixed(1)),
        p50_ms: result.p50,
        p99_ms: result.p99,
        errors: result.errors,
        statuses: result.statuses,
        with_retry_after: result.withRetryAfter,
        ...loopFigures(),
        indexed_faces: app.indexed.loaded,
      }),
    );
  }
} finally {
  delay.disable();
  busy.stop();
  clearInterval(rssSampler);
  client.send('exit');
  await app.close();
  if (!keptData) rmSync(dataDir, { recursive: true, force: true });
}
