/** A scan thread of the index (scan-threads.ts): runs the hamming or cosines kernel over the slot ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { instantiateKernels, type ScanKernels } from './scan-kernels.js';
import { runScan, type ScanMessage } from './scan-threads.js';

let kernels: ScanKernels | undefined;

parentPort!.on('message', (message: ScanMessage) => {
  if (message.kind === 'memory') {
    kernels = instantiateKernels(message.memory);
    return;
  }
  runScan(kernels!, message);
  parentPort!.postMessage(null);
});

