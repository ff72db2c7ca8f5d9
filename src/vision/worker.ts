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
    if (nice > 0) lowerLibvipsThreads(nice);
  }
}
