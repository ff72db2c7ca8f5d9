/** Bytes between threads (movable-bytes.ts): what can move, and releasing bytes nothing reads again. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { movable, movableBuffer, releaseNow } from '../src/movable-bytes.js';

describe('movable bytes', () => {
  it('moves bytes that fill their own buffer and copies the rest', () => {
    const own = movableBuffer(1000);
    assert.equal(movable(own), own);
    const pooled = Buffer.from('a small buffer, in the shared pool');
    assert.notEqual(movable(pooled), pooled);
    assert.deepEqual(Buffer.from(movable(pooled)), pooled);
  });

  it('releases bytes now: the memory goes at once, not at the next collection', () => {
    const before = process.memoryUsage().arrayBuffers;
    const chunks = Array.from({ length: 16 }, () => movableBuffer(1 << 20).fill(7));
    assert.ok(process.memoryUsage().arrayBuffers >= before + 16 * 2 ** 20);
    releaseNow(chunks);
    assert.ok(chunks.every((chunk) => chunk.length === 0 && chunk.buffer.byteLength === 0));
    assert.ok(process.memoryUsage().arrayBuffers < before + 2 ** 20, 'the released megabytes are still counted');
  });

  it('leaves bytes in the shared pool and shared memory alone', () => {
    const pooled = Buffer.from('kept');
    const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(1);
    releaseNow([pooled, shared]);
    assert.equal(pooled.toString(), 'kept');
    assert.deepEqual([...shared], [1, 1, 1, 1, 1, 1, 1, 1]);
  });
});
