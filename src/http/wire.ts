/** Response pieces several sections share: pixel boxes, detection results and the face rows of the list endpoints. */
import type { FaceSummary } from '../library/types.js';
import type { DetectedFace } from '../recognition/types.js';
import type { Rect } from '../vision/types.js';
import type { WireDetectionResult, WireFace, WireGroupFace, WireRect } from './responses.js';

// The wire types are inferred from the response schemas (responses.ts), which the OpenAPI document is built from.
export type { WireDetectedFace, WireDetectionResult, WireFace, WireGroupFace, WireRect, WireSearchHit } from './responses.js';

/** api.md: box coordinates are ints; the pipeline works in float pixels. */
export function wireRect(rect: Rect): WireRect {
  return {
    left: Math.round(rect.left),
    top: Math.round(rect.top),
    right: Math.round(rect.right),
    bottom: Math.round(rect.bottom),
  };
}

/**
 * A face row of 2.4. The image id appears under three names: `imageId` (api.md, 2.4 example),
 * `imgId` (the original's field table) and `imgeld` (the original's 1.2 table and example), so a
 * client written against any of them reads it unchanged.
 */
export function wireGroupFace(face: FaceSummary): WireGroupFace {
  return {
    imageId: face.imageId,
    imgId: face.imageId,
    imgeld: face.imageId,
    faceToken: face.faceToken,
    description: face.description,
    name: face.name,
    gender: face.gender,
  };
}

/** A face row of 1.2: the 2.4 row plus the numeric `id` the original's example shows. */
export function wireFace(face: FaceSummary): WireFace {
  return { id: face.id, ...wireGroupFace(face) };
}

/** A face as 3.1 and 3.2 report it (`detectionResult`). */
export function wireDetectionResult(face: DetectedFace): WireDetectionResult {
  return {
    ...wireRect(face.rect),
    roll: Math.round(face.pose.roll),
    yaw: Math.round(face.pose.yaw),
    pitch: Math.round(face.pose.pitch),
    blurness: face.quality.blurness,
    blurriness: face.quality.blurness,
    quality: face.quality.quality,
    ...(face.liveness === undefined ? {} : { livenessScore: face.liveness.score, liveness: face.liveness.live }),
  };
}
