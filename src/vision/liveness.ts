/**
 * Anti-spoofing: faceplugin `fr_liveness.onnx`. Input: the face box scaled 2.7× about its centre (shrunk
 * to fit and shifted inside the image), 128×128, BGR, raw 0..255. Output: two logits. We report their
 * difference, the log-odds of "live": the softmax probability saturates (live frames ≈ 0.999, attacks ≈ 1e-6),
 * so only the log-odds keeps the resolution a calibrated scale needs (src/recognition/liveness-scale.ts).
 */
import type { Detection } from './detect.js';
import type { Model } from './onnx.js';
import { cropResize, toTensorData, type Box, type ChannelOrder, type Raster } from './raster.js';

const SIZE = 128;
const CONTEXT = 2.7;
/** Index of the "live" class among the model's two outputs (measured on liveness-dev: `npm run bench:liveness`). */
const LIVE_CLASS = 0;

export class LivenessModel {
  /** `order` other than the model's BGR exists only so the bench can show what RGB input costs. */
  constructor(
    private readonly model: Model,
    private readonly order: ChannelOrder = 'bgr',
  ) {}

  /** Log-odds that the face is live (logit of the live class minus the attack class). */
  async liveLogOdds(image: Raster, face: Detection): Promise<number> {
    const input = toTensorData(cropResize(image, contextBox(image, face), SIZE, SIZE), this.order, [0, 0, 0], [1, 1, 1]);
    const out = (await this.model.run(input, [1, 3, SIZE, SIZE]))['output']!;
    return out[LIVE_CLASS]! - out[1 - LIVE_CLASS]!;
  }
}

/** The model was trained on the face with 2.7× context; near the border the context shrinks instead of padding. */
function contextBox(image: Raster, face: Detection): Box {
  const bw = face.x2 - face.x1;
  const bh = face.y2 - face.y1;
  const scale = Math.min((image.height - 1) / bh, (image.width - 1) / bw, CONTEXT);
  const w = bw * scale;
  const h = bh * scale;
  const x = Math.min(Math.max((face.x1 + face.x2) / 2 - w / 2, 0), image.width - 1 - w);
  const y = Math.min(Math.max((face.y1 + face.y2) / 2 - h / 2, 0), image.height - 1 - h);
  return { x, y, w, h };
}
