/**
 * Moving bytes between threads: a transfer detaches the whole ArrayBuffer, so only bytes that fill their own
 * buffer can move; a view into a larger one (a small Buffer in Node's shared pool) must be copied, or its
 * neighbours would vanish with it.
 */
export function fillsItsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
