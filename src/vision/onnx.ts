/**
 * The model zoo: every model is one ONNX file from the faceplugin npm package (installed by
 * scripts/fetch-models.mjs), checked against its pinned sha256 and opened on one CPU thread — on two cores,
 * parallelism comes from one worker per core, not from intra-op threads (measured 3–5× slower with spinning).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import manifest from './models.json' with { type: 'json' };
import { rewritePRelu } from './prelu-rewrite.js';

/** File name → pinned sha256; scripts/fetch-models.mjs installs from the same manifest. */
const MODELS = manifest.files;

export type ModelFile = keyof typeof MODELS;
export const MODEL_FILES = Object.keys(MODELS) as ModelFile[];

/** Told of every model run and how long it took (seconds); the worker reports these for /metrics. */
export type InferenceObserver = (model: ModelFile, seconds: number) => void;

export class Model {
  constructor(
    readonly file: ModelFile,
    private readonly session: ort.InferenceSession,
    /** PRelu nodes replaced at load by operators of the blocked layout (prelu-rewrite.ts). */
    readonly rewrittenPRelus: number,
    private readonly observe?: InferenceObserver,
  ) {}

  /** Runs the model on one float32 NCHW input and returns each output's data by name. */
  async run(input: Float32Array, dims: readonly number[]): Promise<Record<string, Float32Array>> {
    const feeds = { [this.session.inputNames[0]!]: new ort.Tensor('float32', input, dims) };
    const started = performance.now();
    const results = await this.session.run(feeds);
    this.observe?.(this.file, (performance.now() - started) / 1000);
    const out: Record<string, Float32Array> = {};
    for (const [name, tensor] of Object.entries(results)) out[name] = tensor.data as Float32Array;
    return out;
  }
}

export async function loadModel(modelDir: string, file: ModelFile, observe?: InferenceObserver): Promise<Model> {
  const path = join(modelDir, file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new Error(`model ${path} is missing: run \`npm install\` (scripts/fetch-models.mjs installs it)`);
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== MODELS[file]) throw new Error(`model ${path} does not match its pinned checksum`);
  const graph = rewritePRelu(bytes);
  const session = await ort.InferenceSession.create(graph.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return new Model(file, session, graph.rewritten, observe);
}
