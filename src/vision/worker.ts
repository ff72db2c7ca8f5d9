/**
 * Worker-thread entry for the inference pool: loads the models once per thread, then analyses one image per
 * task. ONNX runs block their thread, which is why this is not done on the event loop.
 */
import { workerData } from 'node:worker_threads';
import { VisageError } from '../errors.js';
import { FacePipeline } from './pipeline.js';
import type { AnalyzeOptions, AnalyzedImage } from './types.js';

export interface AnalyzeTask {
  bytes: Uint8Array;
  options: AnalyzeOptions;
}

/** Business errors cross the thread boundary as data: Error subclasses do not survive structured clone. */
export type AnalyzeReply =
  | { ok: true; image: AnalyzedImage }
  | { ok: false; error: { code: number; message: string } };

const { modelDir } = workerData as { modelDir: string };
const pipeline = await FacePipeline.load(modelDir);

export default async function analyze(task: AnalyzeTask | 'warmup'): Promise<AnalyzeReply | string> {
  if (task === 'warmup') return pipeline.modelId;
  try {
    return { ok: true, image: await pipeline.analyze(task.bytes, task.options) };
  } catch (error) {
    if (error instanceof VisageError) return { ok: false, error: { code: error.code, message: error.message } };
    throw error;
  }
}
