/**
 * A BMP decoder, because the spec requires BMP and sharp (libvips) does not read it. Covers what cameras and
 * Windows tools write: uncompressed 1/4/8-bit palette, 16-bit 5-5-5, 24-bit, 32-bit (BI_RGB / BI_BITFIELDS),
 * bottom-up or top-down. RLE-compressed files are refused as unsupported.
 */
import { VisageError, imageInvalid } from '../errors.js';
import type { Raster } from './raster.js';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  dataOffset: number;
  headerSize: number;
}

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw imageInvalid('CORRUPT');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bitsPerPixel = view.getUint16(24, true);
  } else {
    if (bytes.length < 54 || headerSize < 40) throw imageInvalid('CORRUPT');
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bitsPerPixel = view.getUint16(28, true);
    compression = view.getUint32(30, true);
  }
  if (width <= 0 || height === 0) throw imageInvalid('CORRUPT');
  return { width, height: Math.abs(height), topDown: height < 0, bitsPerPixel, compression, dataOffset, headerSize };
}

/** Position and width of one channel inside a packed pixel, from its bit mask. */
function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

export function decodeBmp(bytes: Uint8Array): Raster {
  const header = readBmpHeader(bytes);
  const { width, height, bitsPerPixel: bpp, compression, dataOffset, headerSize } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (!(compression === BI_RGB || (bitfields && (bpp === 16 || bpp === 32)))) {
    throw new VisageError('IMAGE_INVALID', 'UNSUPPORTED_FORMAT');
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw imageInvalid('CORRUPT');

  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw imageInvalid('CORRUPT');

  // Palette: after the info header (and its three masks for BITFIELDS in a 40-byte header).
  const palette: number[] = [];
  if (bpp <= 8) {
    const entrySize = headerSize === 12 ? 3 : 4;
    const start = 14 + headerSize;
    const colours = Math.min(1 << bpp, Math.floor((dataOffset - start) / entrySize));
    for (let i = 0; i < colours; i++) palette.push(start + i * entrySize);
  }

  let masks = { r: 0x7c00, g: 0x03e0, b: 0x001f };
  if (bpp === 32) masks = { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff };
  if (bitfields) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    masks = { r: view.getUint32(at, true), g: view.getUint32(at + 4, true), b: view.getUint32(at + 8, true) };
  }
  const channels = [maskShift(masks.r), maskShift(masks.g), maskShift(masks.b)];

  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (header.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (bpp === 24) {
        const i = row + x * 3;
        out[o] = bytes[i + 2]!;
        out[o + 1] = bytes[i + 1]!;
        out[o + 2] = bytes[i]!;
      } else if (bpp === 16 || bpp === 32) {
        const pixel = bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
        for (let c = 0; c < 3; c++) {
          const { shift, max } = channels[c]!;
          out[o + c] = max === 0 ? 0 : Math.round((((pixel >>> shift) & max) * 255) / max);
        }
      } else {
        const bitIndex = x * bpp;
        const byte = bytes[row + (bitIndex >> 3)]!;
        const index = (byte >> (8 - bpp - (bitIndex & 7))) & ((1 << bpp) - 1);
        const entry = palette[index];
        if (entry === undefined) throw imageInvalid('CORRUPT');
        out[o] = bytes[entry + 2]!;
        out[o + 1] = bytes[entry + 1]!;
        out[o + 2] = bytes[entry]!;
      }
    }
  }
  return { width, height, data: out };
}
