/**
 * Worker threads that run the index's first pass (the scan of every slot, the one part that grows with the
 * library) over the index's shared WebAssembly memory, each over its share of the slots: the event loop
 * stays free while a million faces are scanned, and two threads halve the scan's latency.
 */
import { Worker } from 'node:worker_threads';
import { CODE_BYTES } from './compact-codec.js';
import type { ScanKernels } from './scan-kernels.js';

/** 513 u32 bins (distances 0–512), as the hamming and cosines kernels fill them. */
export const HISTOGRAM_BYTES = (512 + 1) * 4;

/** Which distance pass 1 computes: Hamming of the sign codes, or the bucketed int8 cosine (scan-kernels.ts). */
export type ScanKernel = 'hamming' | 'cosines';

/** Consecutive slots laid out together (one segment of the index, or a part of one): byte offsets. */
export interface ScanRange {
  codes: number;
  /** The int8 vectors (paddedDimension bytes a slot) and their f32 scales. */
  vectors: number;
  scales: number;
  /** The segment's list of group-bitset planes, and the range's first slot's offset into each. */
  planes: number;
  at: number;
  distances: number;
  count: number;
}

/** What a scan needs of the index (byte offsets into the shared memory). */
export interface ScanJob {
  kernel: ScanKernel;
  queryCode: number;
  /** The query's int8 copy and its scale (cosines). */
  queryVector: number;
  queryScale: number;
  paddedDimension: number;
  words: number;
  mask: number;
  /** Every slot to scan, in slot order. */
  ranges: ScanRange[];
  /** Thread k adds its distances to the histogram at histograms + k × HISTOGRAM_BYTES, zeroed by the caller. */
  histograms: number;
}

/** The part of `ranges` from slot `from` (counted across them) to slot `to`. */
export function sliceRanges(ranges: readonly ScanRange[], from: number, to: number, paddedDimension: number): ScanRange[] {
  const slices: ScanRange[] = [];
  let start = 0;
  for (const range of ranges) {
    const low = Math.max(from, start) - start;
    const high = Math.min(to, start + range.count) - start;
    if (high > low) {
      slices.push({
        codes: range.codes + low * CODE_BYTES,
        vectors: range.vectors + low * paddedDimension,
        scales: range.scales + low * 4,
        planes: range.planes,
        at: range.at + low * 4,
        distances: range.distances + low * 2,
        count: high - low,
      });
    }
    start += range.count;
  }
  return slices;
}

/** A message to a scan thread: a new memory to scan, or ranges of slots to scan in it. */
export type ScanMessage =
  | { kind: 'memory'; memory: WebAssembly.Memory }
  | ({ kind: 'scan'; ranges: ScanRange[]; histogram: number } & Omit<ScanJob, 'ranges' | 'histograms'>);

/** One thread's share of a scan: its ranges into its histogram (the index runs it inline too). */
export function runScan(kernels: ScanKernels, job: Omit<Extract<ScanMessage, { kind: 'scan' }>, 'kind'>): void {
  const { kernel, queryCode, queryVector, queryScale, paddedDimension, words, mask, ranges, histogram } = job;
  for (const { codes, vectors, scales, planes, at, distances, count } of ranges) {
    if (kernel === 'cosines') {
      kernels.cosines(queryVector, vectors, paddedDimension, scales, queryScale, planes, at, words, mask, count, distances, histogram);
    } else {
      kernels.hamming(queryCode, codes, planes, at, words, mask, count, distances, histogram);
    }
  }
}

export class ScanThreads {
  private readonly workers: Worker[];

  constructor(count: number, memory: WebAssembly.Memory) {
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./scan-worker-entry.mjs', import.meta.url));
      worker.unref(); // idle threads never keep the process alive
      return worker;
    });
    this.share(memory);
  }

  /** The index moved to another memory (a reload swapped it in): later scans read it. */
  share(memory: WebAssembly.Memory): void {
    for (const worker of this.workers) worker.postMessage({ kind: 'memory', memory } satisfies ScanMessage);
  }

  /** Distances of every slot of the job and one histogram per thread; resolves when every thread is done. */
  async scan(job: ScanJob): Promise<void> {
    const count = job.ranges.reduce((sum, range) => sum + range.count, 0);
    const share = Math.ceil(count / this.workers.length);
    const { ranges: all, histograms, ...query } = job;
    const done = this.workers.map((worker, k) => {
      const ranges = sliceRanges(all, k * share, (k + 1) * share, job.paddedDimension);
      return new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        worker.once('error', onError);
        worker.once('message', () => {
          worker.off('error', onError);
          resolve();
        });
        worker.ref(); // a scan in flight keeps the process alive
        const histogram = histograms + k * HISTOGRAM_BYTES;
        worker.postMessage({ kind: 'scan', ...query, ranges, histogram } satisfies ScanMessage);
      }).finally(() => worker.unref());
    });
    await Promise.all(done);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
