/**
 * Image bytes → RGB raster, with the spec's limits checked before any pixel is decoded (so a decompression
 * bomb is refused from its header): JPEG, PNG, BMP and WebP; each side ≥ 100 px; at most 4096×2160 in either
 * orientation. EXIF orientation is applied, alpha is flattened onto white.
 */
import sharp from 'sharp';
import { imageInvalid } from '../errors.js';
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

  const limitInputPixels = IMAGE_LIMITS.maxLong * IMAGE_LIMITS.maxShort;
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch {
    throw imageInvalid('CORRUPT');
  }
  checkDimensions(width, height);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels, failOn: 'error' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { format, raster: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
  } catch {
    throw imageInvalid('CORRUPT');
  }
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
