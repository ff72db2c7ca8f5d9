/**
 * LFW View 1 from ../shared/datasets/lfw-view1 (never copied into the repo): pair lists and embeddings of
 * every image through the shipped pipeline (the worker pool, largest face, exactly as the server does).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { createFaceAnalyzer } from '../src/vision/pool.js';

export const LFW_DIR = resolve(process.env.VISAGE_LFW ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'lfw-view1'));
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

/** Embeds the given images (largest face; null where no face is found) on a pool of `threads` workers. */
export async function embedAll(paths: string[], threads = cpus().length): Promise<EmbeddingRun> {
  const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads, maxQueue: Infinity });
  const embeddings = new Map<string, Float32Array | null>();
  const times: number[] = [];
  let done = 0;
  const unique = [...new Set(paths)];
  try {
    await Promise.all(
      unique.map(async (path) => {
        const t = performance.now();
        const result = await analyzer.analyze(readFileSync(path), { maxFaces: 1 });
        times.push(performance.now() - t);
        embeddings.set(path, result.faces[0]?.embedding ?? null);
        if (++done % 500 === 0) process.stderr.write(`  embedded ${done}/${unique.length}\n`);
      }),
    );
  } finally {
    await analyzer.close();
  }
  times.sort((a, b) => a - b);
  return { embeddings, modelId: analyzer.modelId, medianMs: times[Math.floor(times.length / 2)] ?? 0 };
}
