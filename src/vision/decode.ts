/**
 * Image bytes → RGB raster, within the spec's limits: JPEG, PNG, BMP and WebP; each side ≥ 100 px; at most
 * 4096×2160 in either orientation. More pixels than that is refused from the header, before any pixel is
 * decoded (so a decompression bomb never inflates). EXIF orientation is applied, alpha is flattened onto white.
 */
import sharp from 'sharp';
import { imageInvalid, VisageError } from '../errors.js';
import { decodeBmp, readBmpHeader } from './bmp.js';
import type { Raster } from './raster.js';
import type { ImageFormat } from './types.js';

export const IMAGE_LIMITS = { minSide: 100, maxLong: 4096, maxShort: 2160 } as const;

function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (
    b.length >= 12 &&
    String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) === 'RIFF' &&
    String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!) === 'WEBP'
  ) {
    return 'webp';
  }
  return undefined;
}

function checkDimensions(width: number, height: number): void {
  if (width < IMAGE_LIMITS.minSide || height < IMAGE_LIMITS.minSide) throw imageInvalid('TOO_SMALL');
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long > IMAGE_LIMITS.maxLong || short > IMAGE_LIMITS.maxShort) throw imageInvalid('TOO_BIG_DIMENSIONS');
}

export interface DecodedImage {
  format: ImageFormat;
  raster: Raster;
}

export async function decodeImage(bytes: Uint8Array): Promise<DecodedImage> {
  if (bytes.length === 0) throw imageInvalid('EMPTY');
  const format = sniffFormat(bytes);
  if (format === undefined) throw imageInvalid('UNSUPPORTED_FORMAT');

  if (format === 'bmp') {
    const header = readBmpHeader(bytes);
    checkDimensions(header.width, header.height);
    return { format, raster: decodeBmp(bytes) };
  }

  // One libvips call for a good photo (a separate header read cost 0.3–0.6 ms a photo and a thread-pool round
  // trip); limitInputPixels still refuses a bomb from its header, and a failure is classified afterwards.
  const { data, info } = await sharp(bytes, { limitInputPixels: IMAGE_LIMITS.maxLong * IMAGE_LIMITS.maxShort, failOn: 'error' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(async () => {
      throw await undecodable(bytes);
    });
  // Under the pixel limit but too long, or too small: decoded, then refused (a rotation swaps the sides, which
  // the checks do not tell apart).
  checkDimensions(info.width, info.height);
  if (info.channels !== 3) throw imageInvalid('CORRUPT');
  return { format, raster: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
}

/** Why libvips could not decode the photo: its header's dimensions when they are out of bounds, else corrupt. */
async function undecodable(bytes: Uint8Array): Promise<Error> {
  try {
    const { width = 0, height = 0 } = await sharp(bytes, { limitInputPixels: false }).metadata();
    checkDimensions(width, height);
  } catch (error) {
    if (error instanceof VisageError) return error;
  }
  return imageInvalid('CORRUPT');
}

/** The quality of the JPEGs the server makes (face crops). */
export const JPEG_QUALITY = 90;

/** JPEG bytes of a raster (face crops). */
export async function encodeJpeg(raster: Raster, quality = JPEG_QUALITY): Promise<Uint8Array> {
  const buffer = await sharp(raster.data, { raw: { width: raster.width, height: raster.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}
