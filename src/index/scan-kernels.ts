/**
 * The WebAssembly SIMD kernels of the compact index (source: kernels.wat, built into kernels.wasm by
 * `npm run build:kernels`). Each instance owns one linear memory; the index lays its arrays out in it.
 */
import { readFileSync } from 'node:fs';

export interface ScanKernels {
  memory: WebAssembly.Memory;
  /** Distances (u16, 0xFFFF = not a member) of every slot's 512-bit code, and their histogram (513 × u32). */
  hamming(query: number, codes: number, member: number, words: number, mask: number, count: number, out: number, hist: number): void;
  /** Slots (u32) with distance ≤ threshold, at most `max`, in slot order; returns how many. */
  collect(out: number, count: number, threshold: number, result: number, max: number): number;
  /** i32 dot products of the int8 query with the int8 vectors of `n` listed slots. */
  dots(query: number, vectors: number, dim: number, slots: number, n: number, out: number): void;
  /** Writes the float32 vector's sign code and int8 copy; returns the int8 scale. */
  encode(source: number, dim: number, code: number, int8: number, padded: number): number;
}

const WASM_PAGE = 65536;
let compiled: WebAssembly.Module | undefined;

/** A fresh kernel instance whose memory holds at least `bytes`. */
export function instantiateKernels(bytes: number): ScanKernels {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./kernels.wasm', import.meta.url)));
  const kernels = new WebAssembly.Instance(compiled).exports as unknown as ScanKernels;
  const pages = Math.ceil(bytes / WASM_PAGE);
  const current = kernels.memory.buffer.byteLength / WASM_PAGE;
  if (pages > current) kernels.memory.grow(pages - current);
  return kernels;
}
