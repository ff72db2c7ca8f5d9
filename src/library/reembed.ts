/**
 * Model upgrade: every stored face is embedded again from its kept original by the analyzer's (new) model and
 * staged beside its current embedding, which search keeps using; when every face has one, a single store
 * promotion switches them all at once. Nobody re-enrols. Used by `visage reembed` (beside a server still
 * running the old model) and by the server itself at start when it finds faces of another model.
 */
import type { ModelCoverage, Store } from '../store/store.js';
import type { FaceAnalyzer, Rect } from '../vision/types.js';

export interface ReembedOptions {
  /** Faces fetched per round. */
  batchSize?: number;
  /** Called after each face with the coverage so far (the progress figure). */
  onProgress?: (coverage: ModelCoverage) => void;
  /** Called for each staged embedding, e.g. to make it searchable in a live index. */
  onStaged?: (faceToken: string, embedding: Float32Array) => Promise<void>;
  /** Runs the promotion; the server passes its write queue so no registration interleaves. */
  serialize?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Stage only; leave the switch to a later run (or the server's start). */
  stageOnly?: boolean;
  /** Stops after the face in hand (the staged embeddings stay; a later run resumes). */
  signal?: AbortSignal;
}

export interface ReembedOutcome {
  modelId: string;
  staged: number;
  /** Faces whose original shows no face to the new pipeline any more: they block the switch. */
  failed: string[];
  /** True when every face is now current by `modelId`. */
  switched: boolean;
}

export async function reembedLibrary(store: Store, analyzer: FaceAnalyzer, options: ReembedOptions = {}): Promise<ReembedOutcome> {
  const modelId = analyzer.modelId;
  const batchSize = options.batchSize ?? 32;
  const serialize = options.serialize ?? (<T>(work: () => Promise<T>) => work());
  const failed = new Set<string>();
  let staged = 0;
  for (;;) {
    // Faces registered meanwhile by the old model show up in a later round; failures are not retried.
    const targets = (await store.facesToReembed(modelId, batchSize + failed.size)).filter((t) => !failed.has(t.faceToken));
    if (targets.length === 0) {
      if (failed.size > 0 || options.stageOnly) return { modelId, staged, failed: [...failed], switched: false };
      const switched = await serialize(() => store.promoteEmbeddings(modelId));
      if (switched) return { modelId, staged, failed: [], switched };
      continue; // a face arrived between the last round and the promotion
    }
    for (const target of targets) {
      if (options.signal?.aborted) return { modelId, staged, failed: [...failed], switched: false };
      const embedding = await embedAgain(store, analyzer, target.faceToken, target.imageId);
      if (!embedding) {
        if ((await store.getFace(target.faceToken)) !== undefined) failed.add(target.faceToken);
        continue;
      }
      if (await store.stageEmbedding(target.faceToken, modelId, embedding)) {
        staged += 1;
        await options.onStaged?.(target.faceToken, embedding);
      }
      options.onProgress?.(await store.modelCoverage(modelId));
    }
  }
}

/**
 * The face's embedding by the analyzer's model, from its image's original: the detected face that overlaps the
 * stored box most (not simply the main face, so a change of the main-face rule cannot swap people).
 */
async function embedAgain(store: Store, analyzer: FaceAnalyzer, faceToken: string, imageId: string): Promise<Float32Array | undefined> {
  const [face, image] = await Promise.all([store.getFace(faceToken), store.getImage(imageId)]);
  if (!face || !image) return undefined; // deleted meanwhile
  const analysis = await analyzer.analyze(image.bytes);
  let best: { overlap: number; embedding: Float32Array } | undefined;
  for (const candidate of analysis.faces) {
    const overlap = intersectionOverUnion(candidate.rect, face.rect);
    if (overlap > 0.3 && (!best || overlap > best.overlap)) best = { overlap, embedding: candidate.embedding };
  }
  return best?.embedding;
}

function intersectionOverUnion(a: Rect, b: Rect): number {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  if (w <= 0 || h <= 0) return 0;
  const area = (r: Rect) => (r.right - r.left) * (r.bottom - r.top);
  return (w * h) / (area(a) + area(b) - w * h);
}
