/**
 * The WebAssembly SIMD kernels of the compact index (source: kernels.wat, built into kernels.wasm at install
 * or by `npm run build:kernels`). They work in a shared linear memory the index lays its arrays out in; each
 * thread that scans it has its own instance over the same memory.
 */
import { readFileSync } from 'node:fs';

export interface ScanKernels {
  /**
   * Distances (u16, 0xFFFF = not a member) of every slot's 512-bit code, added to their histogram (513 × u32).
   * Membership: word w of the first slot's group bitset is at `at` bytes into plane w, whose offset is the
   * w-th u32 at `planes`.
   */
  hamming(query: number, codes: number, planes: number, at: number, words: number, mask: number, count: number, out: number, hist: number): void;
  /**
   * As hamming, with the int8 cosine bucketed as the distance: clamp(round((1 − cos) × 256), 0, 512), where
   * cos = dot(int8 query, int8 vector) × queryScale × the slot's f32 scale at `scales`.
   */
  cosines(
    query: number, vectors: number, dim: number, scales: number, queryScale: number,
    planes: number, at: number, words: number, mask: number, count: number, out: number, hist: number,
  ): void;
  /** Slots (u32) with low ≤ distance ≤ high, at most `max`, in slot order; returns how many. */
  collect(out: number, count: number, low: number, high: number, result: number, max: number): number;
  /** i32 dot products of the int8 query with the int8 vectors of `n` listed slots. */
  dots(query: number, vectors: number, dim: number, slots: number, n: number, out: number): void;
  /** Writes the float32 vector's sign code and int8 copy; returns the int8 scale. */
  encode(source: number, dim: number, code: number, int8: number, padded: number): number;
}

export const WASM_PAGE = 65536;
/** The most a 32-bit WebAssembly memory can hold: 4 GiB. */
const MAX_PAGES = 65536;
let compiled: WebAssembly.Module | undefined;

/**
 * A shared memory of at least `bytes`. A growable one reserves address space up to 4 GiB (not RAM: pages
 * cost memory once written) and grows in place, so what it holds never moves and the threads see the growth.
 */
export function sharedMemory(bytes: number, growable = false): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  return new WebAssembly.Memory({ initial: pages, maximum: growable ? MAX_PAGES : pages, shared: true });
}

/** A kernel instance working in `memory` (from sharedMemory). */
export function instantiateKernels(memory: WebAssembly.Memory): ScanKernels {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./kernels.wasm', import.meta.url)));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as ScanKernels;
}
