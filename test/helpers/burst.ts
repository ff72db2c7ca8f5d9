/**
 * A burst of clients as the server's event loop sees it: requests already waiting on many connections when
 * it next reads, and the turns of that loop, to tell how much of the burst one turn took.
 */
import { Worker } from 'node:worker_threads';

/**
 * The client thread: connects one socket a request, reports when all are connected, then on the word writes
 * each request at once; reports when all are closed.
 */
const CLIENT = `
const { connect } = require('node:net');
const { parentPort, workerData: { port, requests } } = require('node:worker_threads');
const sockets = requests.map(() => connect(port, '127.0.0.1'));
let connected = 0;
let closed = 0;
for (const socket of sockets) {
  socket.on('connect', () => { if (++connected === sockets.length) parentPort.postMessage('connected'); });
  socket.on('close', () => { if (++closed === sockets.length) parentPort.postMessage('closed'); });
  socket.resume();
}
// Written, not ended: a client that half-closes would have its request aborted by Node if not yet answered.
parentPort.once('message', () => sockets.forEach((socket, i) => socket.write(requests[i])));
`;

/**
 * Sends each request (whole HTTP/1.1 requests, `Connection: close`) on a connection of its own from another
 * thread. The connections are made first (the server accepts one a turn), then the requests are written while
 * this thread sleeps `sleepMs`: the server, in this thread, then finds them all waiting at once. Resolves once
 * every connection is closed.
 */
export async function burst(port: number, requests: readonly Buffer[], sleepMs = 300): Promise<void> {
  const client = new Worker(CLIENT, { eval: true, workerData: { port, requests } });
  try {
    const said = (word: string) =>
      new Promise<void>((resolve, reject) => {
        const hear = (message: unknown) => {
          if (message !== word) return;
          client.off('message', hear);
          resolve();
        };
        client.on('message', hear);
        client.once('error', reject);
      });
    const closed = said('closed');
    await said('connected');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server accepts them meanwhile
    client.postMessage('send');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sleepMs);
    await closed;
  } finally {
    await client.terminate();
  }
}

/** Counts this thread's event-loop turns (one setImmediate a turn) until stopped. */
export class TurnCounter {
  turn = 0;
  private running = true;

  constructor() {
    const tick = () => {
      this.turn += 1;
      if (this.running) setImmediate(tick);
    };
    setImmediate(tick);
  }

  stop(): void {
    this.running = false;
  }
}
