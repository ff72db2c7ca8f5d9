/** Face-box geometry shared by the models that crop around a detection. */
import type { Detection } from './detect.js';
import type { Box } from './raster.js';

/** A square box of side `scale` × the detection's longer side, on the detection's centre. */
export function squareAround(d: Detection, scale: number): Box {
  const side = Math.max(d.x2 - d.x1, d.y2 - d.y1) * scale;
  const cx = (d.x1 + d.x2) / 2;
  const cy = (d.y1 + d.y2) / 2;
  return { x: cx - side / 2, y: cy - side / 2, w: side, h: side };
}

/**
 * How much a face is "the subject" of the photo, which registration, compare and search all use (one rule, so
 * an image searched for finds the face it enrolled): the face's area, weighted down with its centre's distance
 * from the image centre (× 1 at the centre … × 0.5 at a corner). A face twice as large as another wins wherever
 * it is — api.md's "largest face" — and between faces of nearly the same size, where area alone is decided by
 * box jitter, the central one wins. Measured on LFW View 1, where the subject is centred: DevTest errors
 * 11 → 7 against area alone (a full-strength weight, × 0 at the corner, gave the same).
 */
export function prominence(d: Detection, image: { width: number; height: number }): number {
  const dx = (d.x1 + d.x2) / 2 - image.width / 2;
  const dy = (d.y1 + d.y2) / 2 - image.height / 2;
  const offCentre = Math.hypot(dx, dy) / Math.hypot(image.width / 2, image.height / 2);
  return (d.x2 - d.x1) * (d.y2 - d.y1) * (1 - 0.5 * offCentre);
}
