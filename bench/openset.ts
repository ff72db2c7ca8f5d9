/**
 * `npm run bench:openset`: enrolled-vs-stranger search on LFW View 1 through the real index and score scale.
 * One image of every identity with ≥ 2 images is enrolled (its first); each of its other images is a probe
 * that should find it (rank-1 hit at or above the threshold); every image of an identity with a single image
 * — never enrolled — is a stranger probe that should find nothing. Reuses the accuracy bench's embeddings.
 */
import { exactFrom, VectorIndex } from '../src/index/vector-index.js';
import { loadScoreScale } from '../src/recognition/calibration.js';
import { allImages, embedAllCached, lfwAvailable, LFW_DIR } from './dataset.js';

const thresholdIndex = process.argv.indexOf('--threshold');
const threshold = thresholdIndex > 0 ? Number(process.argv[thresholdIndex + 1]) : 80;

if (!lfwAvailable()) {
  console.log(`bench:openset: ${LFW_DIR} not found; skipped (nothing measured)`);
  process.exit(0);
}

const images = allImages();
const run = await embedAllCached(images.map((i) => i.path));
const scale = loadScoreScale();

const byIdentity = new Map<string, string[]>();
for (const image of images) byIdentity.set(image.identity, [...(byIdentity.get(image.identity) ?? []), image.path]);

const enrolledVectors = new Map<string, Float32Array>();
const index = new VectorIndex(512, { exact: exactFrom(enrolledVectors) });
const enrolledProbes: Array<{ identity: string; embedding: Float32Array }> = [];
const strangerProbes: Float32Array[] = [];
let noFace = 0;
for (const [identity, paths] of byIdentity) {
  const embeddings = paths.map((path) => run.embeddings.get(path) ?? null);
  noFace += embeddings.filter((e) => !e).length;
  if (paths.length === 1) {
    if (embeddings[0]) strangerProbes.push(embeddings[0]);
    continue;
  }
  // The first image with a face is enrolled, the rest probe.
  const enrolled = embeddings.findIndex((e) => e);
  if (enrolled < 0) continue;
  enrolledVectors.set(identity, embeddings[enrolled]!);
  index.add(identity, embeddings[enrolled]!, ['lfw']);
  for (const e of embeddings.slice(enrolled + 1)) if (e) enrolledProbes.push({ identity, embedding: e });
}

/** Rank-1 hits and stranger false alarms at one score threshold, as the search service decides (index scan + score re-check). */
async function evaluate(threshold: number) {
  const minCosine = scale.toCosine(threshold);
  const topHit = async (embedding: Float32Array) => {
    const [best] = await index.search(embedding, { groups: ['lfw'], limit: 1, minCosine });
    return best && scale.fromCosine(best.cosine) >= threshold ? best : undefined;
  };
  let hits = 0;
  let wrong = 0;
  for (const probe of enrolledProbes) {
    const hit = await topHit(probe.embedding);
    if (hit?.faceToken === probe.identity) hits++;
    else if (hit) wrong++;
  }
  let falseAlarms = 0;
  for (const probe of strangerProbes) if (await topHit(probe)) falseAlarms++;
  const pct = (n: number, d: number) => Number(((100 * n) / d).toFixed(2));
  return {
    threshold,
    rank1_hit_rate: pct(hits, enrolledProbes.length),
    misidentified: wrong,
    missed: enrolledProbes.length - hits - wrong,
    stranger_false_alarm_rate: pct(falseAlarms, strangerProbes.length),
    stranger_false_alarms: falseAlarms,
  };
}

const result = {
  model: run.modelId,
  gallery: index.size,
  enrolled_probes: enrolledProbes.length,
  stranger_probes: strangerProbes.length,
  images_without_face: noFace,
  ...(await evaluate(threshold)),
};
console.log(
  `open set at score ${threshold}: rank-1 hit ${result.rank1_hit_rate} % of ${enrolledProbes.length} enrolled probes ` +
    `(${result.misidentified} wrong person, ${result.missed} missed) in a gallery of ${index.size}; ` +
    `strangers: ${result.stranger_false_alarms} false alarms of ${strangerProbes.length} (${result.stranger_false_alarm_rate} %)`,
);
// A stranger meets every enrolled face, so the per-probe false-alarm rate grows with the gallery (≈ size × pair FAR).
for (const other of [85, 90, 95].filter((t) => t !== threshold)) {
  const r = await evaluate(other);
  console.log(`  at score ${other}: rank-1 hit ${r.rank1_hit_rate} %, stranger false alarms ${r.stranger_false_alarm_rate} % (${r.stranger_false_alarms})`);
}
console.log(JSON.stringify(result));
