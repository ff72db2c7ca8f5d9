/**
 * An 8-bit RGB raster and the two resampling primitives every model's preprocessing is built from:
 * a whole-image resize for the detector, and an affine sampler for crops and alignment.
 */
import sharp, { type Sharp } from 'sharp';
import { areaShrink } from './area-shrink.js';
import { encodeJpeg, JPEG_QUALITY } from './decode.js';

export interface Raster {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

/** An axis-aligned region of a raster, in pixels (fractional allowed). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * A 2×3 affine map from output pixel index (x, y) to source pixel coordinates, as OpenCV's warpAffine uses
 * it (integer coordinates are pixel centres): [a, b, c, d, e, f] → (a·x + b·y + c, d·x + e·y + f).
 */
export type Affine = readonly [number, number, number, number, number, number];

function createRaster(width: number, height: number): Raster {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/**
 * Whole-image resize (the detector's inputs, where the downscale factor can be 10×). A shrink on both axes is
 * an exact area average in this thread (area-shrink.ts: ~2.7 ms for 1080p → 320×240, against 3–6 ms through
 * libvips and its threads, which two analyses on two cores also fight over). Anything else (an enlargement,
 * e.g. a 250×250 LFW portrait to 320×240) goes to libvips, whose shrink-then-reduce is properly anti-aliased.
 */
export async function resize(src: Raster, outW: number, outH: number): Promise<Raster> {
  if (outW <= src.width && outH <= src.height) return areaShrink(src, outW, outH);
  const data = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .resize(outW, outH, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: outW, height: outH, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * A decoded photo and the reduced copies of it made during its analysis (the detector's inputs). Crops come
 * from libvips (`crop`) or from the smallest kept copy that still has the pixels they need (`sampledCrop`),
 * instead of resampling the megapixels of the full photo every time.
 */
export class ScaledPhoto {
  /** Reduced copies, in the order they were made. */
  private readonly copies: Raster[] = [];

  constructor(readonly full: Raster) {}

  get width(): number {
    return this.full.width;
  }

  get height(): number {
    return this.full.height;
  }

  /** The photo stretched to outW × outH, resized from the smallest kept copy at least that large; kept. */
  async resized(outW: number, outH: number): Promise<Raster> {
    const kept = this.copies.find((copy) => copy.width === outW && copy.height === outH);
    if (kept) return kept;
    const copy = await resize(this.smallestCovering(outW, outH), outW, outH);
    this.copies.push(copy);
    return copy;
  }

  /**
   * A box of the photo stretched to outW × outH, for what tolerates another resampler than the embedding's
   * (pose). A box that spans more than the output is area-averaged from its own whole pixels (area-shrink.ts,
   * ~0.6 ms for a 224 px pose crop of a 525 px box, in this thread; libvips took ~1.9 ms and a hand-over to its
   * threads); what lies outside the photo is black. Smaller boxes are upsampled by `cropResize`, which is
   * cheap at that size.
   */
  async crop(box: Box, outW: number, outH: number): Promise<Raster> {
    const at = shrinkPlacement(this.full, box, outW, outH);
    if (at === undefined || at.x1 - at.x0 > at.right - at.left || at.y1 - at.y0 > at.bottom - at.top) return cropResize(this.full, box, outW, outH);
    const region = { left: at.left, top: at.top, width: at.right - at.left, height: at.bottom - at.top };
    const inner = areaShrink(this.full, at.x1 - at.x0, at.y1 - at.y0, region);
    if (inner.width === outW && inner.height === outH) return inner;
    const out = createRaster(outW, outH);
    for (let row = 0; row < inner.height; row++) {
      out.data.set(inner.data.subarray(row * inner.width * 3, (row + 1) * inner.width * 3), ((at.y0 + row) * outW + at.x0) * 3);
    }
    return out;
  }

  /** `crop` as a JPEG (the stored face crop): shrunk and encoded in one libvips pass when it shrinks. */
  async cropJpeg(box: Box, outW: number, outH: number): Promise<Uint8Array> {
    const pipeline = shrinkPipeline(this.full, box, outW, outH);
    if (pipeline === undefined) return encodeJpeg(cropResize(this.full, box, outW, outH));
    const data = await pipeline.jpeg({ quality: JPEG_QUALITY }).toBuffer();
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  }

  /**
   * `cropResize` of a box of the full photo, sampled from the smallest kept copy on which the box still spans
   * at least outW × outH pixels (so the sampler only ever shrinks, as it would from the full photo): the
   * detector's second looks, whose verdicts were measured with this sampler.
   */
  sampledCrop(box: Box, outW: number, outH: number): Raster {
    let source = this.full;
    for (const copy of this.copies) {
      const sx = copy.width / this.full.width;
      const sy = copy.height / this.full.height;
      if (box.w * sx >= outW && box.h * sy >= outH && copy.width < source.width) source = copy;
    }
    if (source === this.full) return cropResize(source, box, outW, outH);
    const sx = source.width / this.full.width;
    const sy = source.height / this.full.height;
    return cropResize(source, { x: box.x * sx, y: box.y * sy, w: box.w * sx, h: box.h * sy }, outW, outH);
  }

  private smallestCovering(outW: number, outH: number): Raster {
    let source = this.full;
    for (const copy of this.copies) {
      if (copy.width >= outW && copy.height >= outH && copy.width < source.width) source = copy;
    }
    return source;
  }
}

/** Where the photo's whole pixels under a box go in an outW × outH crop of it: [x0, x1) × [y0, y1). */
interface ShrinkPlacement {
  left: number;
  top: number;
  right: number;
  bottom: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * How `cropResize` of a box at least as large as the output is done by shrinking: the whole pixels the box
 * covers are resized to the part of the output they fill, and what lies outside the photo is black. Box
 * edges are rounded outwards to whole pixels (at most one source pixel, a fraction of an output pixel).
 * Undefined when the box is smaller than the output or shows none of the photo.
 */
function shrinkPlacement(src: Raster, box: Box, outW: number, outH: number): ShrinkPlacement | undefined {
  if (box.w < outW || box.h < outH) return undefined;
  const left = Math.max(0, Math.floor(box.x));
  const top = Math.max(0, Math.floor(box.y));
  const right = Math.min(src.width, Math.ceil(box.x + box.w));
  const bottom = Math.min(src.height, Math.ceil(box.y + box.h));
  if (right - left < 1 || bottom - top < 1) return undefined;
  const sx = outW / box.w;
  const sy = outH / box.h;
  const x0 = Math.min(outW - 1, Math.max(0, Math.round((left - box.x) * sx)));
  const y0 = Math.min(outH - 1, Math.max(0, Math.round((top - box.y) * sy)));
  const x1 = Math.max(x0 + 1, Math.min(outW, Math.round((right - box.x) * sx)));
  const y1 = Math.max(y0 + 1, Math.min(outH, Math.round((bottom - box.y) * sy)));
  return { left, top, right, bottom, x0, y0, x1, y1 };
}

/** The same shrink as a libvips pipeline, for the stored face crop (which libvips then encodes in one pass). */
function shrinkPipeline(src: Raster, box: Box, outW: number, outH: number): Sharp | undefined {
  const at = shrinkPlacement(src, box, outW, outH);
  if (at === undefined) return undefined;
  return sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extract({ left: at.left, top: at.top, width: at.right - at.left, height: at.bottom - at.top })
    .resize(at.x1 - at.x0, at.y1 - at.y0, { fit: 'fill' })
    .extend({ left: at.x0, top: at.y0, right: outW - at.x1, bottom: outH - at.y1, background: { r: 0, g: 0, b: 0 } });
}

/**
 * Samples `src` through the affine map `toSource` into an outW × outH raster: bilinear, with k×k
 * supersampling when the map shrinks (k = the scale, at most 4) so a large face is not aliased into a small
 * model input. Pixels that fall outside the source are black, as OpenCV's warpAffine leaves them.
 *
 * Every detector confirmation, pose, landmark and alignment input goes through here, so it is written for
 * speed: the per-column and per-row halves of each sample position are computed once (the sum
 * `a·px + b·py + c` is formed in the same order, so results are bit-identical to the direct loop), and
 * samples whose four neighbours lie inside the source skip the edge clamping.
 */
export function sampleAffine(src: Raster, toSource: Affine, outW: number, outH: number): Raster {
  const [a, b, c, d, e, f] = toSource;
  const out = createRaster(outW, outH);
  const scale = Math.sqrt(Math.abs(a * e - b * d));
  const k = Math.min(4, Math.max(1, Math.round(scale)));
  const inv = 1 / (k * k);
  const { width: w, height: h, data } = src;
  const target = out.data;
  if (b === 0 && d === 0) {
    sampleAxisAligned(src, a, c, e, f, k, out);
    return out;
  }
  // a·px and d·px for every (column, sub-column); b·py and e·py for every (row, sub-row).
  const colA = new Float64Array(outW * k);
  const colD = new Float64Array(outW * k);
  for (let ox = 0, n = 0; ox < outW; ox++) {
    for (let i = 0; i < k; i++, n++) {
      const px = ox - 0.5 + (i + 0.5) / k;
      colA[n] = a * px;
      colD[n] = d * px;
    }
  }
  const rowB = new Float64Array(k);
  const rowE = new Float64Array(k);
  let o = 0;
  for (let oy = 0; oy < outH; oy++) {
    for (let j = 0; j < k; j++) {
      const py = oy - 0.5 + (j + 0.5) / k;
      rowB[j] = b * py;
      rowE[j] = e * py;
    }
    for (let ox = 0; ox < outW; ox++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let j = 0; j < k; j++) {
        const bpy = rowB[j]!;
        const epy = rowE[j]!;
        for (let i = 0, n = ox * k; i < k; i++, n++) {
          const sx = colA[n]! + bpy + c;
          const sy = colD[n]! + epy + f;
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const fx = sx - x0;
          const fy = sy - y0;
          let i00: number;
          let i10: number;
          let i01: number;
          let i11: number;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
            i00 = (y0 * w + x0) * 3;
            i10 = i00 + 3;
            i01 = i00 + w * 3;
            i11 = i01 + 3;
          } else {
            if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
            const xa = x0 < 0 ? 0 : x0;
            const xb = x0 + 1 >= w ? w - 1 : x0 + 1;
            const ya = y0 < 0 ? 0 : y0;
            const yb = y0 + 1 >= h ? h - 1 : y0 + 1;
            i00 = (ya * w + xa) * 3;
            i10 = (ya * w + xb) * 3;
            i01 = (yb * w + xa) * 3;
            i11 = (yb * w + xb) * 3;
          }
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11;
          g += data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11;
          bl += data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11;
        }
      }
      target[o++] = Math.round(r * inv);
      target[o++] = Math.round(g * inv);
      target[o++] = Math.round(bl * inv);
    }
  }
  return out;
}

/** Where one sub-sample row or column falls in the source: the two neighbours' offsets and the weight of the second. */
interface SampleAxis {
  /** Offset of the first neighbour (row offset or byte offset in a row), or −1 when the sample lies outside. */
  first: Int32Array;
  second: Int32Array;
  fraction: Float64Array;
}

/**
 * The sub-sample positions along one axis of an axis-aligned map (source = scale·p + shift), with the same
 * arithmetic and edge clamping as sampleAffine's general loop; `stride` turns a pixel index into an offset.
 */
function sampleAxis(outLength: number, k: number, scale: number, shift: number, length: number, stride: number): SampleAxis {
  const axis = { first: new Int32Array(outLength * k), second: new Int32Array(outLength * k), fraction: new Float64Array(outLength * k) };
  for (let o = 0, n = 0; o < outLength; o++) {
    for (let i = 0; i < k; i++, n++) {
      const position = scale * (o - 0.5 + (i + 0.5) / k) + shift;
      const p0 = Math.floor(position);
      axis.fraction[n] = position - p0;
      if (p0 < -1 || p0 >= length) {
        axis.first[n] = -1;
        continue;
      }
      axis.first[n] = (p0 < 0 ? 0 : p0) * stride;
      axis.second[n] = (p0 + 1 >= length ? length - 1 : p0 + 1) * stride;
    }
  }
  return axis;
}

/**
 * sampleAffine for a map without rotation (every crop and resize of a box): the neighbours and weights of
 * each sub-sample row and column are computed once per axis instead of once per sample. Bit-identical to the
 * general loop (there b·py and d·px are zero, and adding zero changes no float). Its weighted sum of the four
 * neighbours is the general loop's written out again on purpose: a shared helper accumulating into a
 * Float64Array gave the same bytes but cost 20–35 % of the sampler's time (pose crop 6.3 → 8.2 ms).
 */
function sampleAxisAligned(src: Raster, a: number, c: number, e: number, f: number, k: number, out: Raster): void {
  const { width: w, height: h, data } = src;
  const outW = out.width;
  const target = out.data;
  const inv = 1 / (k * k);
  const columns = sampleAxis(outW, k, a, c, w, 3);
  const rows = sampleAxis(out.height, k, e, f, h, w * 3);
  let o = 0;
  for (let oy = 0; oy < out.height; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let j = oy * k; j < (oy + 1) * k; j++) {
        const rowA = rows.first[j]!;
        if (rowA < 0) continue;
        const rowB = rows.second[j]!;
        const fy = rows.fraction[j]!;
        for (let n = ox * k; n < (ox + 1) * k; n++) {
          const colA = columns.first[n]!;
          if (colA < 0) continue;
          const colB = columns.second[n]!;
          const fx = columns.fraction[n]!;
          const i00 = rowA + colA;
          const i10 = rowA + colB;
          const i01 = rowB + colA;
          const i11 = rowB + colB;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11;
          g += data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11;
          bl += data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11;
        }
      }
      target[o++] = Math.round(r * inv);
      target[o++] = Math.round(g * inv);
      target[o++] = Math.round(bl * inv);
    }
  }
}

/**
 * The affine map that stretches the axis-aligned box (x, y, w, h) of the source onto an outW × outH raster,
 * edges onto edges (the half-pixel convention of cv.resize, so centres shift by half a pixel of each scale).
 */
function boxToSource(x: number, y: number, w: number, h: number, outW: number, outH: number): Affine {
  const sx = w / outW;
  const sy = h / outH;
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/** Crop-and-resize of an axis-aligned box: the common case of sampleAffine. */
export function cropResize(src: Raster, box: Box, outW: number, outH: number): Raster {
  return sampleAffine(src, boxToSource(box.x, box.y, box.w, box.h, outW, outH), outW, outH);
}

/** ITU-R BT.601 luma, as OpenCV's RGB2GRAY. */
export function toGray(src: Raster): Float32Array {
  const n = src.width * src.height;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = 0.299 * src.data[j]! + 0.587 * src.data[j + 1]! + 0.114 * src.data[j + 2]!;
  }
  return out;
}

export type ChannelOrder = 'rgb' | 'bgr';

/** HWC uint8 → CHW float32 with (v − mean[c]) / std[c] per channel, in the order the model was trained on. */
export function toTensorData(
  src: Raster,
  order: ChannelOrder,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): Float32Array {
  const plane = src.width * src.height;
  const out = new Float32Array(plane * 3);
  const data = src.data;
  // Offsets of the tensor's channels 0, 1, 2 within a pixel.
  const [c0, c2] = order === 'rgb' ? [0, 2] : [2, 0];
  const [m0, m1, m2] = mean;
  const s0 = 1 / std[0];
  const s1 = 1 / std[1];
  const s2 = 1 / std[2];
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = (data[p + c0]! - m0) * s0;
    out[plane + i] = (data[p + 1]! - m1) * s1;
    out[2 * plane + i] = (data[p + c2]! - m2) * s2;
  }
  return out;
}
