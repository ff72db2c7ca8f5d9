/** Response pieces several sections share: pixel boxes, detection results and the face rows of the list endpoints. */
import type { FaceSummary } from '../library/types.js';
import type { DetectedFace } from '../recognition/types.js';
import type { Rect } from '../vision/types.js';

export interface WireRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

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
export interface WireGroupFace {
  imageId: string;
  imgId: string;
  imgeld: string;
  faceToken: string;
  description: string;
  name: string;
  gender: string;
}

/** A face row of 1.2: the 2.4 row plus the numeric `id` the original's example shows. */
export interface WireFace extends WireGroupFace {
  id: number;
}

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

export function wireFace(face: FaceSummary): WireFace {
  return { id: face.id, ...wireGroupFace(face) };
}

/** A face as 3.1 and 3.2 report it (`detectionResult`). */
export interface WireDetectionResult extends WireRect {
  roll: number;
  yaw: number;
  pitch: number;
  /** The original's spelling; `blurriness` carries the same value. 0..100, larger = blurrier. */
  blurness: number;
  blurriness: number;
  /** 0..1, larger = better. */
  quality: number;
  livenessScore?: number;
  /** Extension: livenessScore ≥ the configured threshold (VISAGE_LIVENESS_THRESHOLD). */
  liveness?: boolean;
}

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

/** A face of the detect extension: the detection result plus the registration gate's measures. */
export interface WireDetectedFace extends WireDetectionResult {
  brightness: number;
  contrast: number;
  faceSize: number;
}

/** A hit of 3.2 (`top1` … `top5`); `imageUrl` is the stored face crop as a data URL. */
export interface WireSearchHit {
  group: Array<{ groupId: string }>;
  searchScore: number;
  /** Extension: the estimated false-accept rate of one comparison at searchScore. */
  far: number;
  faceToken: string;
  imageId: string;
  description: string;
  name: string;
  gender: string;
  imageUrl: string;
}
