/**
 * Large request bodies (photos) are parsed in a thread of their own: UTF-8 check, JSON.parse and the base64
 * decoding of their images cost ~5–6 ms a 1080p photo there (twice that for compare), far more under a burst,
 * when the memory they touch is fresh; the thread cuts the photos out of the bytes instead (image-cuts.ts),
 * ~2 ms a photo. On the event loop those were the largest stretches left. The loop now only moves the chunks
 * over as they came (joining 2.8 MB of them took the loop ~1–3 ms); the images come back decoded, moved
 * rather than copied (movable-bytes.ts).
 * Replies are taken one per event-loop turn: a port delivers all waiting messages in one turn, and each
 * reply runs its request on to the analysis (validation, the post of its images to a vision worker), so a
 * burst of them back to back would hold the loop for the sum.
 */
import { Worker } from 'node:worker_threads';
import type { ParsedJson } from './body-parse.js';
import type { Base64ImageFailure } from './data-url.js';
import { DECODED_IMAGES, decodedPlaceholder, type DecodedImages } from './decoded-images.js';
import { movable, transferList } from '../movable-bytes.js';

export interface BodyRequest {
  id: number;
  /** The body as it arrived, chunk by chunk: joined in the thread, not on the loop. */
  chunks: Uint8Array[];
}

export interface BodyReply {
  id: number;
  parsed: ParsedJson;
  /** Each image field that held text: its bytes, or why they are not an image. */
  images: Array<{ field: string; bytes: Uint8Array } | { field: string; failure: Base64ImageFailure }>;
}

export class BodyThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (parsed: ParsedJson) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private readonly replies: BodyReply[] = [];
  /** Settles the oldest reply; the next waits for the next turn (setImmediate from a callback never runs in this one). */
  private readonly settleNext = () => {
    const reply = this.replies.shift();
    if (reply !== undefined) this.settle(reply);
    if (this.replies.length > 0) setImmediate(this.settleNext);
  };

  /** The body's JSON value, with its images decoded (decoded-images.ts); `ok: false` when it is not a JSON object. */
  parse(body: readonly Uint8Array[]): Promise<ParsedJson> {
    const worker = this.start();
    const id = this.nextId++;
    // Moved, not copied: a socket's chunks each fill a buffer of their own (anything else is copied).
    const chunks = body.map(movable);
    return new Promise<ParsedJson>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref(); // a parse in flight keeps the process alive
      worker.postMessage({ id, chunks } satisfies BodyRequest, transferList(chunks));
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL('./body-worker-entry.mjs', import.meta.url));
    worker.unref(); // an idle thread never keeps the process alive
    worker.on('message', (reply: BodyReply) => {
      if (this.replies.push(reply) === 1) setImmediate(this.settleNext);
    });
    // A dead thread fails the bodies it held (500); the next body starts a new one.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the body thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle({ id, parsed, images }: BodyReply): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    if (parsed.ok && parsed.value !== undefined && images.length > 0) {
      const decoded: DecodedImages = new Map();
      for (const image of images) {
        const key = decodedPlaceholder(image.field);
        if ('failure' in image) decoded.set(key, { ok: false, failure: image.failure });
        else decoded.set(key, { ok: true, bytes: Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength) });
      }
      Object.defineProperty(parsed.value, DECODED_IMAGES, { value: decoded });
    }
    waiting.resolve(parsed);
  }
}
