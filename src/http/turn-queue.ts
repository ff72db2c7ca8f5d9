/**
 * Runs queued synchronous jobs one per event-loop turn, in order. The bodies of a burst of photo uploads
 * arrive together; decoding and parsing them (a few ms each, growing with the photo) back to back would hold
 * the loop for the sum — 64 pending analyses measured 0.5 s of CPU in one stretch. One a turn lets timers and
 * other I/O run between them.
 */
export class TurnQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => T): Promise<T> {
    // setImmediate from within a turn's callbacks fires in the next turn, never in the current one.
    const result = this.tail.then(() => new Promise<T>((resolve, reject) => setImmediate(() => {
      try {
        resolve(job());
      } catch (error) {
        reject(error as Error);
      }
    })));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
