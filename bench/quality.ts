/**
 * `npm run bench:quality`: the registration quality gate (thresholds from VISAGE_QUALITY_*, defaults as
 * shipped) on LFW View 1 as it is — which should nearly all pass (goal: < 2 % refused) — and on synthetic
 * degradations of a sample of it, which should be refused: Gaussian blur, faces shrunk below 40 px, very dark,
 * over-exposed and flat images. Yaw cannot be synthesised honestly from a frontal photo (a squeeze is not a
 * head turn), so the bench lists how the pose model spreads over real LFW faces instead. A second table shows
 * that blurness is relative to the face: the same blur at 3× the resolution reads as 3× less blur.
 * `--every N` takes every N-th LFW image as it is (default 4: 1,248 images), `--sample N` every N-th for each
 * degraded set (default 20: 250 images), so a run stays within minutes on a shared 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { loadConfig } from '../src/config.js';
import { qualityFailures } from '../src/library/quality-gate.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { AnalyzedFace } from '../src/vision/types.js';
import { allImages, inLanes, lfwAvailable, LFW_DIR, MODEL_DIR } from './dataset.js';
import { blur, chain, flatten, gain, rescale, shrinkOnCanvas, type Degrade } from './degrade.js';

if (!lfwAvailable()) {
  console.log(`bench:quality: ${LFW_DIR} not found; skipped (nothing measured)`);
  process.exit(0);
}

const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const cleanEvery = option('--every', 4);
const every = option('--sample', 20);
const thresholds = loadConfig(process.env).quality;
const threads = cpus().length;
const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads, maxQueue: Infinity });

type Face = Pick<AnalyzedFace, 'pose' | 'quality'>;

async function analyzeAll(paths: string[], degrade?: Degrade): Promise<Array<Face | null>> {
  const faces: Array<Face | null> = new Array(paths.length);
  await inLanes(paths, threads, async (path, i) => {
    const original = readFileSync(path);
    const face = (await analyzer.analyze(degrade ? await degrade(original) : original, { maxFaces: 1 })).faces[0];
    faces[i] = face ? { pose: face.pose, quality: face.quality } : null;
  });
  return faces;
}

const pct = (x: number, n: number): string => `${((x / n) * 100).toFixed(1)} %`;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

interface Outcome {
  images: number;
  noFace: number;
  refused: number;
  reasons: Record<string, number>;
  medianBlurness: number;
  medianFaceSize: number;
}

function outcome(faces: Array<Face | null>): Outcome {
  const found = faces.filter((f): f is Face => f !== null);
  const reasons: Record<string, number> = {};
  let refused = 0;
  for (const face of found) {
    const failures = qualityFailures(face, thresholds);
    if (failures.length > 0) refused++;
    for (const reason of failures) reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return {
    images: faces.length,
    noFace: faces.length - found.length,
    refused,
    reasons,
    medianBlurness: quantile(found.map((f) => f.quality.blurness), 0.5),
    medianFaceSize: quantile(found.map((f) => f.quality.faceSize), 0.5),
  };
}

function printRow(name: string, o: Outcome): void {
  const reasons = Object.entries(o.reasons).map(([r, n]) => `${r} ${n}`).join(', ') || '—';
  const notRegistered = o.refused + o.noFace;
  console.log(`| ${name} | ${o.images} | ${pct(notRegistered, o.images)} | ${o.refused} (${reasons}) | ${o.noFace} | ${o.medianBlurness.toFixed(0)} | ${o.medianFaceSize.toFixed(0)} |`);
}

const DEGRADATIONS: Array<[string, Degrade]> = [
  ['Gaussian blur σ 2 px', blur(2)],
  ['Gaussian blur σ 3 px', blur(3)],
  ['shrunk to 30 % on a grey canvas', shrinkOnCanvas(0.3)],
  ['very dark (× 0.15)', gain(0.15)],
  ['over-exposed (× 3)', gain(3)],
  ['flat (contrast × 0.15)', flatten(0.15)],
];

try {
  const started = performance.now();
  const all = allImages().map((i) => i.path);
  const sample = all.filter((_, i) => i % every === 0);
  const clean = await analyzeAll(all.filter((_, i) => i % cleanEvery === 0));
  const found = clean.filter((f): f is Face => f !== null);

  console.log(`thresholds: ${JSON.stringify(thresholds)}`);
  console.log('| set | images | not registered | refused by the gate (reasons) | no face | median blurness | median face px |');
  console.log('|---|---|---|---|---|---|---|');
  printRow(`LFW View 1 as is, every ${cleanEvery}th image`, outcome(clean));
  const results: Record<string, Outcome> = { lfw: outcome(clean) };
  for (const [name, degrade] of DEGRADATIONS) {
    results[name] = outcome(await analyzeAll(sample, degrade));
    printRow(`${name}, every ${every}th image`, results[name]!);
  }

  const spread = (label: string, xs: number[]): void =>
    console.log(`  ${label}: 1 % ${quantile(xs, 0.01).toFixed(1)}, 50 % ${quantile(xs, 0.5).toFixed(1)}, 99 % ${quantile(xs, 0.99).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`);
  console.log(`\nLFW View 1 spread (${found.length} faces):`);
  spread('|yaw|', found.map((f) => Math.abs(f.pose.yaw)));
  spread('pitch', found.map((f) => f.pose.pitch));
  spread('blurness', found.map((f) => f.quality.blurness));
  spread('brightness', found.map((f) => f.quality.brightness));
  spread('contrast', found.map((f) => f.quality.contrast));
  spread('face size', found.map((f) => f.quality.faceSize));
  const turned = found.filter((f) => Math.abs(f.pose.yaw) > thresholds.maxYaw).length;
  console.log(`  faces the pose model reads beyond |yaw| ${thresholds.maxYaw}°: ${turned} (${pct(turned, found.length)})`);

  console.log('\nblurness is relative to the face (every ' + every + 'th image, upscaled 3× first, then blurred):');
  for (const [name, degrade] of [
    ['3× upscale, blur σ 3 px', chain(rescale(3), blur(3))],
    ['3× upscale, blur σ 9 px (= σ 3 at 1×)', chain(rescale(3), blur(9))],
  ] as Array<[string, Degrade]>) {
    const o = outcome(await analyzeAll(sample, degrade));
    console.log(`  ${name}: median blurness ${o.medianBlurness.toFixed(0)}, median face ${o.medianFaceSize.toFixed(0)} px, refused ${pct(o.refused + o.noFace, o.images)}`);
  }
  console.log(JSON.stringify({ thresholds, every, results, seconds: Math.round((performance.now() - started) / 1000) }));
} finally {
  await analyzer.close();
}
