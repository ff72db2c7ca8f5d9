/** The livenessScore scale (fitted by `npm run bench:liveness -- --write-table`) and the live/not-live verdict. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectedFace } from '../src/recognition/detected-face.js';
import { loadLivenessScale, type LivenessTable } from '../src/recognition/liveness-scale.js';
import table from '../src/recognition/liveness-table.json' with { type: 'json' };
import type { AnalyzedFace } from '../src/vision/types.js';

const scale = loadLivenessScale();
const knots = (table as LivenessTable).knots;

function face(liveLogOdds?: number): AnalyzedFace {
  return {
    rect: { left: 0, top: 0, right: 10, bottom: 10 },
    detectionScore: 1,
    landmarks: [],
    pose: { roll: 0, yaw: 0, pitch: 0 },
    quality: { blurness: 0, brightness: 128, contrast: 40, faceSize: 10, quality: 1 },
    embedding: new Float32Array(1),
    ...(liveLogOdds === undefined ? {} : { liveLogOdds }),
  };
}

describe('liveness scale', () => {
  it('puts 50 at the equal-error knot, 0 and 100 at the ends, monotone in between', () => {
    const eer = knots.find((k) => k.score === 50)!;
    assert.equal(scale.fromLogOdds(eer.logOdds), 50);
    assert.equal(scale.fromLogOdds(knots[0]!.logOdds - 100), 0);
    assert.equal(scale.fromLogOdds(knots.at(-1)!.logOdds + 100), 100);
    let previous = -Infinity;
    for (let x = knots[0]!.logOdds - 1; x <= knots.at(-1)!.logOdds + 1; x += 0.25) {
      const score = scale.fromLogOdds(x);
      assert.ok(score >= previous, `not monotone at log-odds ${x}`);
      previous = score;
    }
  });

  it('reports a face live at or above the configured threshold, and nothing when liveness was not asked', () => {
    const eer = knots.find((k) => k.score === 50)!.logOdds;
    const check = { scale, threshold: 50 };
    assert.deepEqual(detectedFace(face(eer + 0.5), check).liveness?.live, true);
    assert.deepEqual(detectedFace(face(eer - 0.5), check).liveness?.live, false);
    assert.deepEqual(detectedFace(face(eer + 0.5), { scale, threshold: 99 }).liveness?.live, false);
    assert.equal(detectedFace(face(), check).liveness, undefined);
  });
});
