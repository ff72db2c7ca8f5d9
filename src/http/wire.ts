/** Response pieces several sections share: pixel boxes and the face rows of the list endpoints. */
import type { FaceSummary } from '../library/types.js';
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
