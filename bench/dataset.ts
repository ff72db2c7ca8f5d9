/**
 * LFW View 1 from ../shared/datasets/lfw-view1 (never copied into the repo): pair lists and embeddings of
 * every image through the shipped pipeline (the worker pool, largest face, exactly as the server does).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { cosine } from '../src/vision/embed.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';

/** ../shared/datasets: the development data every bench reads (never copied into the repository). */
export const DATASETS_DIR = resolve(join(import.meta.dirname, '..', '..', 'shared', 'datasets'));
export const LFW_DIR = resolve(process.env.VISAGE_LFW ?? join(DATASETS_DIR, 'lfw-view1'));
export const MODEL_DIR = resolve(process.env.VISAGE_MODELS ?? join(import.meta.dirname, '..', 'models'));

export interface Pair {
  a: string;
  b: string;
  same: boolean;
}

export function lfwAvailable(): boolean {
  return existsSync(join(LFW_DIR, 'pairsDevTest.txt'));
}

export function imagePath(name: string, index: number): string {
  return join(LFW_DIR, 'images', name, `${name}_${String(index).padStart(4, '0')}.jpg`);
}

/** `Name i j` is a same-person pair, `Name1 i Name2 j` a different-person pair; the first line is the count. */
export function readPairs(file: 'pairsDevTrain.txt' | 'pairsDevTest.txt'): Pair[] {
  const lines = readFileSync(join(LFW_DIR, file), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const f = line.trim().split('\t');
    if (f.length === 3) return { a: imagePath(f[0]!, Number(f[1])), b: imagePath(f[0]!, Number(f[2])), same: true };
    return { a: imagePath(f[0]!, Number(f[1])), b: imagePath(f[2]!, Number(f[3])), same: false };
  });
}

/** Every image of View 1, with its identity. */
export function allImages(): Array<{ path: string; identity: string }> {
  const root = join(LFW_DIR, 'images');
  return readdirSync(root)
    .sort()
    .flatMap((identity) => readdirSync(join(root, identity)).sort().map((file) => ({ path: join(root, identity, file), identity })));
}

export interface EmbeddingRun {
  embeddings: Map<string, Float32Array | null>;
  modelId: string;
  /** Milliseconds per image, median over the run (wall time of one analyze call). */
  medianMs: number;
}

const CACHE_DIR = join(import.meta.dirname, '..', '.bench');

/** Vision files that add to a face record but cannot change its embedding or which face is chosen. */
const NOT_EMBEDDING = new Set(['quality.ts', 'pose.ts', 'liveness.ts']);

/**
 * A digest of everything that decides an embedding (the vision code and the model manifest), so cached
 * embeddings are reused only while the pipeline is byte-for-byte the same.
 */
function pipelineDigest(): string {
  const dir = join(import.meta.dirname, '..', 'src', 'vision');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) {
    if (!NOT_EMBEDDING.has(file)) hash.update(file).update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Embeddings of all View 1 images, cached in .bench/ under the pipeline digest: the accuracy bench and the
 * calibration script then share one 2-minute embedding run.
 */
export async function embedAllCached(paths: string[]): Promise<EmbeddingRun> {
  const file = join(CACHE_DIR, `lfw-${pipelineDigest()}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { modelId: string; medianMs: number; embeddings: Record<string, number[] | null> };
    if (paths.every((p) => p in cached.embeddings)) {
      const embeddings = new Map(Object.entries(cached.embeddings).map(([k, v]) => [k, v && Float32Array.from(v)] as const));
      process.stderr.write(`  using cached embeddings ${file}\n`);
      return { embeddings, modelId: cached.modelId, medianMs: cached.medianMs };
    }
  }
  const run = await embedAll(paths);
  mkdirSync(CACHE_DIR, { recursive: true });
  const plain = Object.fromEntries([...run.embeddings].map(([k, v]) => [k, v && Array.from(v)]));
  writeFileSync(file, JSON.stringify({ modelId: run.modelId, medianMs: run.medianMs, embeddings: plain }));
  return run;
}

/** Embeds the given images (largest face; null where no face is found) on a pool of `threads` workers. */
export async function embedAll(paths: string[], threads = cpus().length): Promise<EmbeddingRun> {
  const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads, maxQueue: Infinity });
  const embeddings = new Map<string, Float32Array | null>();
  const times: number[] = [];
  let done = 0;
  const unique = [...new Set(paths)];
  try {
    // `threads` lanes, so each timed call measures one analysis, not time spent queued.
    await inLanes(unique, threads, async (path) => {
      const bytes = readFileSync(path);
      const t = performance.now();
      const result = await analyzer.analyze(bytes, { maxFaces: 1 });
      times.push(performance.now() - t);
      embeddings.set(path, result.faces[0]?.embedding ?? null);
      if (++done % 1000 === 0) process.stderr.write(`  embedded ${done}/${unique.length}\n`);
    });
  } finally {
    await analyzer.close();
  }
  times.sort((a, b) => a - b);
  return { embeddings, modelId: analyzer.modelId, medianMs: times[Math.floor(times.length / 2)] ?? 0 };
}

/** Runs `work` on every item, `lanes` at a time (one per worker thread, so nothing waits in the pool's queue). */
export async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * Cosine of every pair of View 1 images that both have a face: same identity → genuine, different →
 * impostor (about 12 million impostor pairs, enough to resolve a FAR of 1e-5).
 */
export function crossScores(
  images: Array<{ path: string; identity: string }>,
  embeddings: Map<string, Float32Array | null>,
): { genuine: number[]; /** Sorted ascending. */ impostor: Float32Array } {
  const withFace = images.filter((i) => embeddings.get(i.path));
  const genuine: number[] = [];
  const impostor = new Float32Array((withFace.length * (withFace.length - 1)) / 2);
  let n = 0;
  for (let i = 0; i < withFace.length; i++) {
    const ei = embeddings.get(withFace[i]!.path)!;
    for (let j = i + 1; j < withFace.length; j++) {
      const s = cosine(ei, embeddings.get(withFace[j]!.path)!);
      if (withFace[i]!.identity === withFace[j]!.identity) genuine.push(s);
      else impostor[n++] = s;
    }
  }
  return { genuine, impostor: impostor.subarray(0, n).sort() };
}
