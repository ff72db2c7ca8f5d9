/**
 * `npm run bench:quality`: the registration quality gate (thresholds from VISAGE_QUALITY_*, defaults as
 * shipped) on LFW View 1 as it is — which should nearly all pass (goal: < 2 % refused) — and on synthetic
 * degradations of a sample of it, which should be refused: Gaussian blur, faces shrunk below 40 px, very dark,
 * over-exposed and flat images. Yaw cannot be synthesised honestly from a frontal photo (a squeeze is not a
 * head turn), so turned heads come from `pose-labels.csv`: real LFW photos whose head turn was judged by eye
 * (in 5° steps), grouped against the configured limit — frontal, within it, at it (± 5°, where an eye cannot
 * tell), beyond it — with the gate's ANGLE refusals and the pose model's error against the eye per group.
 * Two more tables: blurness must not follow exposure or contrast (a darker or flatter sharp face keeps its
 * blurness), and blurness is relative to the face (the same blur at 3× the resolution reads as less blur).
 * `--every N` takes every N-th LFW image as it is (default 4: 1,248 images), `--sample N` every N-th for each
 * degraded set (default 20: 250 images), so a run stays within minutes on a shared 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { qualityFailures, type QualityThresholds } from '../src/library/quality-gate.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { AnalyzedFace, FaceAnalyzer } from '../src/vision/types.js';
import { isMain, numberOption, percent } from './cli.js';
import { allImages, DATASETS_DIR, inLanes, lfwAvailable, LFW_DIR, MODEL_DIR } from './dataset.js';
import { blur, chain, flatten, gain, rescale, shrinkOnCanvas, type Degrade } from './degrade.js';

type Face = Pick<AnalyzedFace, 'pose' | 'quality'>;

export interface GateOutcome {
  images: number;
  noFace: number;
  /** Faces found but refused by the gate. */
  refused: number;
  /** Not registered: refused or no face, as a fraction of the images. */
  notRegistered: number;
  reasons: Record<string, number>;
  medianBlurness: number;
  medianFaceSize: number;
}

export interface PoseClassOutcome {
  label: PoseClass;
  images: number;
  noFace: number;
  /** Refused for ANGLE, as a fraction of the faces found. */
  refusedForAngle: number;
  /** The pose model's |yaw| over the class: median, and lowest and highest. */
  yaw: { median: number; min: number; max: number };
  /** The pose model's |yaw| against the eye's: mean absolute difference and mean difference (bias). */
  errorVsEye: { mean: number; bias: number };
}

export interface BlurStability {
  name: string;
  /** Median and 5…95 % spread of the change in blurness of the same face against the image as is. */
  medianShift: number;
  p5: number;
  p95: number;
}

export interface QualityResult {
  thresholds: QualityThresholds;
  clean: GateOutcome;
  degraded: Record<string, GateOutcome>;
  pose: PoseClassOutcome[];
  blurStability: BlurStability[];
  seconds: number;
}

/** Photos by how far the head is turned, judged by eye against the yaw limit (see pose-labels.csv). */
export type PoseClass = 'frontal' | 'within' | 'at the limit' | 'beyond';
const POSE_CLASSES: readonly PoseClass[] = ['frontal', 'within', 'at the limit', 'beyond'];

function poseClass(yawByEye: number, limit: number): PoseClass {
  if (yawByEye <= 15) return 'frontal';
  if (yawByEye <= limit - 10) return 'within';
  if (yawByEye < limit + 10) return 'at the limit';
  return 'beyond';
}

export const DEGRADATIONS: ReadonlyArray<[string, Degrade]> = [
  ['Gaussian blur σ 2 px', blur(2)],
  ['Gaussian blur σ 3 px', blur(3)],
  ['face < 40 px (shrunk to 30 % on a grey canvas)', shrinkOnCanvas(0.3)],
  ['very dark (× 0.15)', gain(0.15)],
  ['over-exposed (× 3)', gain(3)],
  ['flat (contrast × 0.15)', flatten(0.15)],
];

/** Changes a sharp face should come through with the same blurness. */
const EXPOSURE_CHANGES: ReadonlyArray<[string, Degrade]> = [
  ['darker (× 0.5)', gain(0.5)],
  ['brighter (× 1.4)', gain(1.4)],
  ['flatter (contrast × 0.5)', flatten(0.5)],
];

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function readPoseLabels(): Array<{ path: string; yawByEye: number }> {
  const lines = readFileSync(join(import.meta.dirname, 'pose-labels.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [path, yaw] = line.split(',');
    if (!path || !(Number(yaw) >= 0 && Number(yaw) <= 90)) throw new Error(`pose-labels.csv: bad line "${line}"`);
    return { path: join(DATASETS_DIR, path), yawByEye: Number(yaw) };
  });
}

/** Measures and prints; undefined (and says so) when LFW is not there. */
export async function measureQualityGate(options: { cleanEvery?: number; every?: number } = {}): Promise<QualityResult | undefined> {
  if (!lfwAvailable()) {
    console.log(`bench:quality: ${LFW_DIR} not found; skipped (nothing measured)`);
    return undefined;
  }
  const cleanEvery = options.cleanEvery ?? 4;
  const every = options.every ?? 20;
  const thresholds = loadConfig(process.env).quality;
  const threads = cpus().length;
  const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads, maxQueue: Infinity });
  try {
    return await measureWith(analyzer, threads, thresholds, cleanEvery, every);
  } finally {
    await analyzer.close();
  }
}

async function measureWith(analyzer: FaceAnalyzer, threads: number, thresholds: QualityThresholds, cleanEvery: number, every: number): Promise<QualityResult> {
  const started = performance.now();
  const analyzeAll = async (paths: string[], degrade?: Degrade): Promise<Array<Face | null>> => {
    const faces: Array<Face | null> = new Array(paths.length);
    await inLanes(paths, threads, async (path, i) => {
      const original = readFileSync(path);
      const face = (await analyzer.analyze(degrade ? await degrade(original) : original, { maxFaces: 1 })).faces[0];
      faces[i] = face ? { pose: face.pose, quality: face.quality } : null;
    });
    return faces;
  };

  const outcome = (faces: Array<Face | null>): GateOutcome => {
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
      notRegistered: (refused + faces.length - found.length) / faces.length,
      reasons,
      medianBlurness: quantile(found.map((f) => f.quality.blurness), 0.5),
      medianFaceSize: quantile(found.map((f) => f.quality.faceSize), 0.5),
    };
  };
  const printRow = (name: string, o: GateOutcome): void => {
    const reasons = Object.entries(o.reasons).map(([r, n]) => `${r} ${n}`).join(', ') || '—';
    console.log(`| ${name} | ${o.images} | ${percent(o.notRegistered)} | ${o.refused} (${reasons}) | ${o.noFace} | ${o.medianBlurness.toFixed(0)} | ${o.medianFaceSize.toFixed(0)} |`);
  };

  const all = allImages().map((i) => i.path);
  const sample = all.filter((_, i) => i % every === 0);
  const clean = await analyzeAll(all.filter((_, i) => i % cleanEvery === 0));
  const found = clean.filter((f): f is Face => f !== null);

  console.log(`thresholds: ${JSON.stringify(thresholds)}`);
  console.log('| set | images | not registered | refused by the gate (reasons) | no face | median blurness | median face px |');
  console.log('|---|---|---|---|---|---|---|');
  const cleanOutcome = outcome(clean);
  printRow(`LFW View 1 as is, every ${cleanEvery}th image`, cleanOutcome);
  const degraded: Record<string, GateOutcome> = {};
  for (const [name, degrade] of DEGRADATIONS) {
    degraded[name] = outcome(await analyzeAll(sample, degrade));
    printRow(`${name}, every ${every}th image`, degraded[name]!);
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

  const labelled = readPoseLabels();
  const labelledFaces = await analyzeAll(labelled.map((l) => l.path));
  const limit = thresholds.maxYaw;
  console.log(`\nhead turn judged by eye (bench/pose-labels.csv, ${labelled.length} real LFW photos) against the gate (|yaw| > ${limit}° → ANGLE):`);
  console.log('| by eye | images | refused for ANGLE | pose model |yaw|: median (min…max) | model − eye: mean abs. / bias |');
  console.log('|---|---|---|---|---|');
  const pose: PoseClassOutcome[] = [];
  for (const label of POSE_CLASSES) {
    const members = labelled.flatMap((l, i) => (poseClass(l.yawByEye, limit) === label ? [{ eye: l.yawByEye, face: labelledFaces[i] ?? null }] : []));
    if (members.length === 0) continue;
    const withFace = members.filter((m): m is { eye: number; face: Face } => m.face !== null);
    const yaws = withFace.map((m) => Math.abs(m.face.pose.yaw));
    const differences = withFace.map((m) => Math.abs(m.face.pose.yaw) - m.eye);
    const angle = withFace.filter((m) => qualityFailures(m.face, thresholds).includes('ANGLE')).length;
    const row: PoseClassOutcome = {
      label,
      images: members.length,
      noFace: members.length - withFace.length,
      refusedForAngle: angle / Math.max(1, withFace.length),
      yaw: { median: quantile(yaws, 0.5), min: Math.min(...yaws), max: Math.max(...yaws) },
      errorVsEye: {
        mean: differences.reduce((a, d) => a + Math.abs(d), 0) / differences.length,
        bias: differences.reduce((a, d) => a + d, 0) / differences.length,
      },
    };
    pose.push(row);
    const eyes = members.map((m) => m.eye);
    console.log(
      `| ${label} (${Math.min(...eyes)}…${Math.max(...eyes)}°) | ${row.images} | ${percent(row.refusedForAngle)} | ` +
        `${row.yaw.median.toFixed(0)}° (${row.yaw.min.toFixed(0)}…${row.yaw.max.toFixed(0)}) | ${row.errorVsEye.mean.toFixed(1)}° / ${row.errorVsEye.bias >= 0 ? '+' : ''}${row.errorVsEye.bias.toFixed(1)}° |`,
    );
  }

  console.log(`\nblurness under exposure and contrast changes of the same sharp faces (every ${every}th image):`);
  const asIs = await analyzeAll(sample);
  const blurStability: BlurStability[] = [];
  for (const [name, change] of [...EXPOSURE_CHANGES, ['Gaussian blur σ 3 px (for scale)', blur(3)] as [string, Degrade]]) {
    const changed = await analyzeAll(sample, change);
    const shifts = changed.flatMap((f, i) => (f && asIs[i] ? [f.quality.blurness - asIs[i]!.quality.blurness] : []));
    const row = { name, medianShift: quantile(shifts, 0.5), p5: quantile(shifts, 0.05), p95: quantile(shifts, 0.95) };
    blurStability.push(row);
    console.log(`  ${name}: blurness shift median ${row.medianShift.toFixed(1)} (5…95 %: ${row.p5.toFixed(1)}…${row.p95.toFixed(1)})`);
  }

  console.log(`\nblurness is relative to the face (every ${every}th image, upscaled 3× first, then blurred):`);
  for (const [name, degrade] of [
    ['3× upscale, blur σ 3 px', chain(rescale(3), blur(3))],
    ['3× upscale, blur σ 9 px (= σ 3 at 1×)', chain(rescale(3), blur(9))],
  ] as Array<[string, Degrade]>) {
    const o = outcome(await analyzeAll(sample, degrade));
    console.log(`  ${name}: median blurness ${o.medianBlurness.toFixed(0)}, median face ${o.medianFaceSize.toFixed(0)} px, refused ${percent(o.notRegistered)}`);
  }
  return { thresholds, clean: cleanOutcome, degraded, pose, blurStability, seconds: Math.round((performance.now() - started) / 1000) };
}

if (isMain(import.meta.url)) {
  const result = await measureQualityGate({ cleanEvery: numberOption('--every', 4), every: numberOption('--sample', 20) });
  if (result) console.log(JSON.stringify(result));
}
