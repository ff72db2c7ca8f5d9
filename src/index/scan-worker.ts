/** A scan thread of the index (scan-threads.ts): runs the hamming kernel over the slot ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { instantiateKernels, type ScanKernels } from './scan-kernels.js';
import type { ScanMessage } from './scan-threads.js';

let kernels: ScanKernels | undefined;

parentPort!.on('message', (message: ScanMessage) => {
  if (message.kind === 'memory') {
    kernels = instantiateKernels(message.memory);
    return;
  }
  const { queryCode, words, mask, ranges, histogram } = message;
  for (const { codes, planes, at, distances, count } of ranges) {
    kernels!.hamming(queryCode, codes, planes, at, words, mask, count, distances, histogram);
  }
  parentPort!.postMessage(null);
});
