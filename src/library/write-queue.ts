/**
 * Runs library writes one at a time. A write is "store commit, then index update"; serialising the
 * pair keeps the index applying changes in commit order (two concurrent binds of one face must not
 * leave the older group list in the index). Reads and the expensive image analysis stay outside.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(write: () => Promise<T>): Promise<T> {
    const result = this.tail.then(write);
    this.tail = result.catch(() => undefined); // one failed write must not block the next
    return result;
  }
}
