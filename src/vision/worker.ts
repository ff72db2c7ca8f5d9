/**
 * Worker-thread entry for the inference pool: loads the models once per thread, then analyses one image per
 * task. ONNX runs block their thread, which is why this is not done on the event loop.
 */
import { workerData } from 'node:worker_threads';
import { VisageError } from '../errors.js';
import { FacePipeline } from './pipeline.js';
import { lowerLibvipsThreads, lowerThisThread, VISION_THREAD_NAME } from './thread-priority.js';
import type { AnalyzeOptions, AnalyzedImage } from './types.js';

export interface AnalyzeTask {
  bytes: Uint8Array;
  options: AnalyzeOptions;
}

/** One model run inside a task: `fr_detect`, `fr_feature`, …, and its time in seconds. */
export interface ModelTiming {
  model: string;
  seconds: number;
}

/** Where a task's time went, measured in the worker (the main thread sees only the whole round trip). */
export interface TaskTimings {
  /** Decode to last model, in seconds; excludes the wait for a free worker. */
  analysisSeconds: number;
  models: ModelTiming[];
}

/** Business errors cross the thread boundary as data: Error subclasses do not survive structured clone. */
export type AnalyzeReply = (
  | { ok: true; image: AnalyzedImage }
  | { ok: false; error: { code: number; message: string } }
) & { timings: TaskTimings };

export interface WorkerData {
  modelDir: string;
  /** Linux nice of this thread and of libvips' threads (thread-priority.ts). */
  nice: number;
}

const { modelDir, nice } = workerData as WorkerData;
/**
 * V8's collector, exposed by the pool (pool.ts), for a young collection after every task. A decoded photo is
 * memory libvips allocated (6 MB at 1080p, 26 MB at the 4096×2160 limit), freed only when this thread's
 * collector finds its Buffer dead; with the old-generation floor that could be tens of megabytes of dead
 * photos a worker. The Buffer is still young when the task ends, so a young collection (~0.3 ms) frees it.
 * It runs after the reply has gone (setImmediate). At 1 M faces, `bench:http`'s cases one after the other,
 * three alternating runs: the overload peak 1,471, 1,522, 1,494 → 1,422, 1,452, 1,368 MB; collected before
 * the reply, registration with 2 clients lost ~1 face/s, after it nothing measurable.
 */
const collect = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
const collectYoung = () => collect?.({ type: 'minor' });
// Before the models load, so that any thread onnxruntime starts from here inherits the lower priority.
lowerThisThread(VISION_THREAD_NAME, nice);
/** The runs of the current task. piscina gives a worker one task at a time (concurrentTasksPerWorker 1). */
let modelRuns: ModelTiming[] = [];
const pipeline = await FacePipeline.load(modelDir, (file, seconds) =>
  modelRuns.push({ model: file.replace(/\.onnx$/, ''), seconds }),
);

export default async function analyze(task: AnalyzeTask | 'warmup'): Promise<AnalyzeReply | string> {
  if (task === 'warmup') return pipeline.modelId;
  modelRuns = [];
  const started = performance.now();
  const timings = (): TaskTimings => ({ analysisSeconds: (performance.now() - started) / 1000, models: modelRuns });
  try {
    const image = await pipeline.analyze(task.bytes, task.options);
    return { ok: true, image, timings: timings() };
  } catch (error) {
    if (error instanceof VisageError) return { ok: false, error: { code: error.code, message: error.message }, timings: timings() };
    throw error;
  } finally {
    setImmediate(collectYoung);
    if (nice > 0) lowerLibvipsThreads(nice);
  }
}
