/** A scan thread of the index (scan-threads.ts): runs the hamming kernel over the slot ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { CODE_BYTES } from './compact-codec.js';
import { instantiateKernels, type ScanKernels } from './scan-kernels.js';
import type { ScanMessage } from './scan-threads.js';

let kernels: ScanKernels | undefined;

parentPort!.on('message', (message: ScanMessage) => {
  if (message.kind === 'memory') {
    kernels = instantiateKernels(message.memory);
    return;
  }
  const { job, from, to, histogram } = message;
  kernels!.hamming(
    job.queryCode,
    job.codes + from * CODE_BYTES,
    job.membership + from * job.words * 4,
    job.words,
    job.mask,
    to - from,
    job.distances + from * 2,
    histogram,
  );
  parentPort!.postMessage(null);
});
