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
