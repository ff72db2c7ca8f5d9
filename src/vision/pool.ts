/**
 * The FaceAnalyzer the server uses: a piscina pool of worker threads (one per core by default), each with
 * its own copy of the models, so inference never blocks the event loop.
 */
import { setFlagsFromString } from 'node:v8';
import { Piscina } from 'piscina';
import { ErrorCode, VisageError, type ErrorName } from '../errors.js';
import { movable, transferList } from '../movable-bytes.js';
import { EMBEDDING_SIZE } from './embed.js';
import type { AnalyzeReply, AnalyzeTask, TaskTimings, WorkerData } from './worker.js';
import type { AnalyzeOptions, AnalyzedImage, FaceAnalyzer } from './types.js';

export interface AnalyzerOptions {
  modelDir: string;
  /** Worker threads, each with its own models. */
  threads: number;
  /** Linux nice of the worker threads and the libvips threads decoding for them (thread-priority.ts; default 0). */
  nice?: number;
  /** Tasks allowed to wait for a worker; beyond it analyze() rejects (the HTTP edge answers 503). */
  maxQueue?: number;
  /** Hears where each analysis's time went (per model), measured in its worker: the /metrics feed. */
  onAnalyzed?: (timings: TaskTimings) => void;
}

/** The pool's analyzer, with what operations want to see of the pool. */
export interface PooledFaceAnalyzer extends FaceAnalyzer {
  /** Analyses waiting for a free worker. */
  readonly queueDepth: number;
  /** Worker threads alive (piscina replaces one that dies). */
  readonly liveThreads: number;
}

const codeNames = new Map<number, ErrorName>(Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorName]));

/** Rebuilds a VisageError from a worker's reply, e.g. code 104202 + "IMAGE_INVALID:CORRUPT". */
function reviveError(error: { code: number; message: string }): VisageError {
  const name = codeNames.get(error.code) ?? 'INVALID_PARAM';
  const colon = error.message.indexOf(':');
  return new VisageError(name, colon < 0 ? undefined : error.message.slice(colon + 1));
}

/** How long close() waits for the analyses in progress or queued before it terminates the workers anyway. */
const CLOSE_WAIT_MS = 10_000;

/**
 * The old-generation size below which V8 does not start a full collection, for every isolate created from here
 * on (the workers; V8 reads the flag when it makes an isolate's heap). A decoded 1080p photo is 6 MB of
 * ArrayBuffer that V8 counts against that limit, so with the default each worker ran a full (concurrent)
 * mark-compact every ~2.5 analyses (`--trace-gc`: 67 and 59 in 10 s of registrations with 2 clients, 1 and 1
 * with the floor), and the marking threads took ~10 % of both cores (`perf`). Registration of a 1080p photo,
 * 2 clients, alternating: 31.9, 29.3 → 34.0, 34.4 faces/s. The cost: up to ~64 MB of dead photos a worker may
 * hold until it collects. The event loop's heap gets the same floor from the launchers (MAIN_HEAP_FLAG, config.ts).
 */
const WORKER_OLD_SPACE_FLOOR_MB = 64;

export async function createFaceAnalyzer(options: AnalyzerOptions): Promise<PooledFaceAnalyzer> {
  setFlagsFromString(`--initial-old-space-size=${WORKER_OLD_SPACE_FLOOR_MB}`);
  // `gc` in the workers' globals: each collects its young generation after every task (worker.ts).
  setFlagsFromString('--expose-gc');
  const pool = new Piscina({
    filename: new URL('./worker-entry.mjs', import.meta.url).href,
    minThreads: options.threads,
    maxThreads: options.threads,
    maxQueue: options.maxQueue ?? 256,
    // worker.ts attributes model runs to the task in progress: one task per worker at a time.
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData: { modelDir: options.modelDir, nice: options.nice ?? 0 } satisfies WorkerData,
  });
  // One warm-up task per thread: models load at start, not on the first request.
  const ids = await Promise.all(Array.from({ length: options.threads }, () => pool.run('warmup') as Promise<string>));
  const tasks = new Set<Promise<unknown>>();
  let closing = false;

  return {
    modelId: ids[0]!,
    embeddingSize: EMBEDDING_SIZE,
    async analyze(bytes: Uint8Array, analyzeOptions: AnalyzeOptions = {}): Promise<AnalyzedImage> {
      if (closing) throw new Error('the face analyzer is closed');
      // Moved to the worker (movable-bytes.ts), where its collector counts the photo: the bytes themselves when
      // the caller hands them over, else a copy (a registration stores its photo afterwards).
      const { handOver, ...taskOptions } = analyzeOptions;
      const moved = handOver ? movable(bytes) : new Uint8Array(bytes);
      const task: AnalyzeTask = { bytes: moved, options: taskOptions };
      const running = pool.run(task, { transferList: transferList([moved]) }) as Promise<AnalyzeReply>;
      tasks.add(running);
      let reply: AnalyzeReply;
      try {
        reply = await running;
      } finally {
        tasks.delete(running);
      }
      options.onAnalyzed?.(reply.timings);
      if (!reply.ok) throw reviveError(reply.error);
      return reply.image;
    },
    get queueDepth() {
      return pool.queueSize;
    },
    get liveThreads() {
      return pool.threads.length;
    },
    async close(): Promise<void> {
      // The analyses already asked for finish first (at most CLOSE_WAIT_MS): terminating a worker in the midst
      // of one can abort the whole process (std::terminate in onnxruntime's binding; 1 shutdown in ~6 right
      // after a bench's last request, and most of piscina's close({ force }) calls, in a .scratch test). An
      // idle worker is terminated safely.
      closing = true;
      const settled = Promise.allSettled([...tasks]);
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
      await pool.destroy();
    },
  };
}
