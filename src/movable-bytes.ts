/**
 * Bytes handed to another thread by transfer: the ArrayBuffer moves (no copy, no serialisation; a 1 MB photo
 * cloned by postMessage cost ~5 ms here) and is then owned, and counted, by the thread that holds it.
 *
 * Not a SharedArrayBuffer: V8 counts shared memory against no thread's heap, so nothing reminds a thread's
 * garbage collector of photos it holds only small objects for. The main thread kept every photo of a request
 * until its next full collection, rare at a million faces: under sustained compare at 1 M the photos held
 * ~550 MB after 30 s and the resident set grew ~25 MB a second.
 */
import { MessageChannel } from 'node:worker_threads';

/** A port nobody listens on: an ArrayBuffer posted to it by transfer is detached, and its memory freed at once. */
const nowhere = (() => {
  const { port1 } = new MessageChannel();
  port1.close();
  return port1;
})();

/** A new Buffer of `length` bytes filling an ArrayBuffer of its own (not a slice of Node's pool): movable. */
export function movableBuffer(length: number): Buffer {
  return Buffer.allocUnsafeSlow(length);
}

/**
 * Bytes that can be moved to another thread: these, when they fill their own ArrayBuffer, else a copy (a
 * small Buffer may sit in Node's shared pool, whose other slices must stay where they are).
 */
export function movable(bytes: Uint8Array): Uint8Array {
  return isMovable(bytes) ? bytes : new Uint8Array(bytes);
}

/** Whether these bytes fill an ArrayBuffer of their own (not a slice of Node's pool, not shared memory). */
function isMovable(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
}

/** The ArrayBuffers to list for transfer when posting these bytes (each once). */
export function transferList(bytes: readonly Uint8Array[]): ArrayBuffer[] {
  return [...new Set(bytes.map((chunk) => chunk.buffer as ArrayBuffer))];
}

/**
 * Frees these bytes now, not at this thread's next garbage collection, which under a flood of photos can
 * come after tens of megabytes of them: their ArrayBuffers are detached (every view of them reads as empty
 * from here on), so only for bytes nothing reads again. Bytes in Node's shared pool, or shared memory, are
 * left to the collector.
 */
export function releaseNow(bytes: readonly Uint8Array[]): void {
  nowhere.postMessage(null, transferList(bytes.filter(isMovable)));
}
