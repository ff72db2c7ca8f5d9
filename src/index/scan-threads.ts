/**
 * Worker threads that run the index's first pass (the Hamming scan, the one part that grows with the
 * library) over the index's shared WebAssembly memory, each over its share of the slots: the event loop
 * stays free while a million faces are scanned, and two threads halve the scan's latency.
 */
import { Worker } from 'node:worker_threads';

/** 513 u32 bins (distances 0–512), as the hamming kernel fills them. */
export const HISTOGRAM_BYTES = (512 + 1) * 4;

/** What a scan needs of the index's layout (byte offsets into the shared memory). */
export interface ScanJob {
  queryCode: number;
  codes: number;
  membership: number;
  words: number;
  mask: number;
  count: number;
  distances: number;
  /** Thread k writes its histogram at histograms + k × HISTOGRAM_BYTES. */
  histograms: number;
}

/** A message to a scan thread: a new memory to scan, or a range of slots to scan in it. */
export type ScanMessage =
  | { kind: 'memory'; memory: WebAssembly.Memory }
  | { kind: 'scan'; job: ScanJob; from: number; to: number; histogram: number };

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

  /** The index moved to a new memory: later scans read it. */
  share(memory: WebAssembly.Memory): void {
    for (const worker of this.workers) worker.postMessage({ kind: 'memory', memory } satisfies ScanMessage);
  }

  /** Distances of slots [0, count) and one histogram per thread; resolves when every thread is done. */
  async scan(job: ScanJob): Promise<void> {
    const share = Math.ceil(job.count / this.workers.length);
    const done = this.workers.map((worker, k) => {
      const from = Math.min(job.count, k * share);
      const to = Math.min(job.count, from + share);
      return new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        worker.once('error', onError);
        worker.once('message', () => {
          worker.off('error', onError);
          resolve();
        });
        worker.ref(); // a scan in flight keeps the process alive
        worker.postMessage({ kind: 'scan', job, from, to, histogram: job.histograms + k * HISTOGRAM_BYTES } satisfies ScanMessage);
      }).finally(() => worker.unref());
    });
    await Promise.all(done);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
