/** Embeddings as stored bytes: float32 in platform byte order (little-endian everywhere we run). */

export const embeddingToBytes = (embedding: Float32Array): Buffer =>
  Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);

/** Copies, because a driver's Buffer need not be 4-byte aligned. */
export const bytesToEmbedding = (bytes: Uint8Array): Float32Array => {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
};
