/**
 * The index's shared WebAssembly memory as a heap of regions that never move: a region is allocated once
 * (from a released one that fits, else at the end, growing the memory in place) and stays at its offset
 * until released. Growing the index therefore appends regions and copies nothing — no stall however large
 * the index — and scan threads keep reading the same memory, which they see grow.
 */
import { align16 } from './compact-codec.js';
import { sharedMemory, WASM_PAGE } from './scan-kernels.js';

/** Zeroed per event-loop turn when the whole memory is scrubbed (a few milliseconds' worth). */
const SCRUB_CHUNK_BYTES = 8 << 20;

export class IndexMemory {
  readonly memory: WebAssembly.Memory;
  /** Views of the whole memory, renewed when it grows. */
  bytes!: Uint8Array;
  words32!: Uint32Array;
  floats!: Float32Array;
  private end = 0;
  /** Released regions, reused first-fit. */
  private readonly released: Array<{ at: number; bytes: number }> = [];

  constructor(initialBytes: number) {
    this.memory = sharedMemory(initialBytes, true);
    this.renewViews();
  }

  /** Offset of a fresh zeroed region of at least `bytes`, 16-byte aligned. */
  allocate(bytes: number): number {
    const size = align16(Math.max(1, bytes));
    const fit = this.released.findIndex((region) => region.bytes >= size);
    if (fit >= 0) {
      const region = this.released[fit]!;
      const at = region.at;
      if (region.bytes === size) this.released.splice(fit, 1);
      else Object.assign(region, { at: at + size, bytes: region.bytes - size });
      return at;
    }
    const at = this.end;
    this.end += size;
    const short = this.end - this.memory.buffer.byteLength;
    if (short > 0) {
      this.memory.grow(Math.ceil(short / WASM_PAGE));
      this.renewViews();
    }
    return at;
  }

  /** Zeroes a region and lets a later allocation reuse it. */
  release(at: number, bytes: number): void {
    const size = align16(Math.max(1, bytes));
    this.bytes.fill(0, at, at + size);
    this.released.push({ at, bytes: size });
  }

  /** Zeroes everything ever allocated, a few megabytes per event-loop turn (no stall on a large index). */
  async scrub(): Promise<void> {
    for (let from = 0; from < this.end; from += SCRUB_CHUNK_BYTES) {
      this.bytes.fill(0, from, Math.min(this.end, from + SCRUB_CHUNK_BYTES));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private renewViews(): void {
    this.bytes = new Uint8Array(this.memory.buffer);
    this.words32 = new Uint32Array(this.memory.buffer);
    this.floats = new Float32Array(this.memory.buffer);
  }
}
