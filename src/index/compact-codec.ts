/**
 * The compact form of an embedding that the 1:N index scans, as one record: its 512-bit sign code, its int8
 * copy (zero-padded to a multiple of 16 bytes) and the float32 scale of that copy (little-endian). Stores
 * persist the record beside the float32 embedding, so start-up copies records instead of encoding a million
 * vectors; the index encodes with the same function, so both always agree.
 */
import { instantiateKernels, sharedMemory, type ScanKernels } from './scan-kernels.js';

export const CODE_BITS = 512;
export const CODE_BYTES = CODE_BITS / 8;

export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Where each part lies in a record of a `dimension`-d vector. */
export interface RecordLayout {
  bytes: number;
  paddedDimension: number;
  /** Offset of the int8 copy; the code is at 0. */
  int8: number;
  /** Offset of the float32 scale. */
  scale: number;
}

export function recordLayout(dimension: number): RecordLayout {
  const paddedDimension = align16(dimension);
  return { bytes: CODE_BYTES + paddedDimension + 4, paddedDimension, int8: CODE_BYTES, scale: CODE_BYTES + paddedDimension };
}

let encoder: { kernels: ScanKernels; memory: WebAssembly.Memory } | undefined;

/** The compact record of a float32 vector. */
export function encodeCompact(vector: Float32Array): Uint8Array {
  const layout = recordLayout(vector.length);
  const source = align16(layout.bytes);
  const needed = source + vector.length * 4;
  if (!encoder || encoder.memory.buffer.byteLength < needed) {
    const memory = sharedMemory(needed);
    encoder = { kernels: instantiateKernels(memory), memory };
  }
  const { kernels, memory } = encoder;
  const floats = new Float32Array(memory.buffer, source, vector.length);
  floats.set(vector);
  const scale = kernels.encode(source, vector.length, 0, layout.int8, layout.paddedDimension);
  floats.fill(0); // no float copy outlives the call
  const record = new Uint8Array(layout.bytes);
  const encoded = new Uint8Array(memory.buffer, 0, layout.scale);
  record.set(encoded);
  encoded.fill(0); // nor an int8 copy
  new DataView(record.buffer).setFloat32(layout.scale, scale, true);
  return record;
}
