/**
 * The face token of each index slot, and the slot of each token, kept off the JavaScript heap. A million
 * tokens held as strings in an array and a Map are two million small heap objects that every major garbage
 * collection marks again (about 90 ms at 1 M faces on the 2-core VM: the event-loop stalls `bench:http`
 * measured). Here they are bytes in typed arrays, which the collector never walks: each slot's token as a
 * fixed-width UTF-8 record, and an open-addressing hash table (linear probing, backward-shift deletion)
 * from token to slot.
 */
const MAX_TOKEN_BYTES = 255;
const EMPTY = 0;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class TokenTable {
  private count = 0;
  private capacity: number;
  /** Bytes per record: the longest token seen so far (widened, and the records rewritten, when one is longer). */
  private width: number;
  private records: Uint8Array;
  private lengths: Uint8Array;
  private hashes: Uint32Array;
  /** slot + 1 of the token hashed to each bucket (EMPTY = none); a power of two, at least twice the capacity. */
  private buckets: Int32Array;
  private readonly scratch = new Uint8Array(MAX_TOKEN_BYTES);

  constructor(initialCapacity = 1024, initialWidth = 24) {
    this.capacity = Math.max(1, initialCapacity);
    this.width = Math.max(1, initialWidth);
    this.records = new Uint8Array(this.capacity * this.width);
    this.lengths = new Uint8Array(this.capacity);
    this.hashes = new Uint32Array(this.capacity);
    this.buckets = new Int32Array(bucketCountFor(this.capacity));
  }

  get size(): number {
    return this.count;
  }

  slotOf(token: string): number | undefined {
    const length = this.encode(token);
    const mask = this.buckets.length - 1;
    for (let bucket = hashBytes(this.scratch, length) & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.buckets[bucket]!;
      if (entry === EMPTY) return undefined;
      if (this.holds(entry - 1, length)) return entry - 1;
    }
  }

  tokenAt(slot: number): string {
    if (slot < 0 || slot >= this.count) throw new RangeError(`slot ${slot} of ${this.count}`);
    const start = slot * this.width;
    return fromUtf8.decode(this.records.subarray(start, start + this.lengths[slot]!));
  }

  /** Adds a token that is not in the table yet, at the next slot (returned). */
  append(token: string): number {
    const length = this.encode(token);
    if (this.count === this.capacity) this.resize(Math.ceil(this.capacity * 1.5), this.width);
    if (length > this.width) this.resize(this.capacity, length);
    const slot = this.count++;
    this.records.set(this.scratch.subarray(0, length), slot * this.width);
    this.records.fill(0, slot * this.width + length, (slot + 1) * this.width);
    this.lengths[slot] = length;
    this.hashes[slot] = hashBytes(this.scratch, length);
    this.insertBucket(slot);
    return slot;
  }

  /** Removes the token at `slot`; the last slot's token moves into it (as the index moves its vectors). */
  removeAt(slot: number): void {
    if (slot < 0 || slot >= this.count) throw new RangeError(`slot ${slot} of ${this.count}`);
    this.deleteBucket(this.bucketOf(slot));
    const last = --this.count;
    if (slot !== last) {
      this.buckets[this.bucketOf(last)] = slot + 1;
      this.records.copyWithin(slot * this.width, last * this.width, (last + 1) * this.width);
      this.lengths[slot] = this.lengths[last]!;
      this.hashes[slot] = this.hashes[last]!;
    }
    this.lengths[last] = 0;
  }

  clear(): void {
    this.count = 0;
    this.buckets.fill(EMPTY);
    this.lengths.fill(0);
  }

  /** The token's UTF-8 bytes into `scratch`; returns their count. */
  private encode(token: string): number {
    let length = 0;
    for (; length < token.length; length++) {
      const code = token.charCodeAt(length);
      if (code >= 0x80 || length === MAX_TOKEN_BYTES) break;
      this.scratch[length] = code;
    }
    if (length < token.length) {
      const { read, written } = utf8.encodeInto(token, this.scratch);
      if (read < token.length) throw new Error(`face token longer than ${MAX_TOKEN_BYTES} UTF-8 bytes`);
      length = written;
    }
    return length;
  }

  /** Whether the record at `slot` equals the first `length` bytes of `scratch`. */
  private holds(slot: number, length: number): boolean {
    if (this.lengths[slot] !== length) return false;
    const start = slot * this.width;
    for (let k = 0; k < length; k++) if (this.records[start + k] !== this.scratch[k]) return false;
    return true;
  }

  private bucketOf(slot: number): number {
    const mask = this.buckets.length - 1;
    for (let bucket = this.hashes[slot]! & mask; ; bucket = (bucket + 1) & mask) {
      if (this.buckets[bucket] === slot + 1) return bucket;
    }
  }

  private insertBucket(slot: number): void {
    const mask = this.buckets.length - 1;
    let bucket = this.hashes[slot]! & mask;
    while (this.buckets[bucket] !== EMPTY) bucket = (bucket + 1) & mask;
    this.buckets[bucket] = slot + 1;
  }

  /** Empties a bucket and shifts back the entries after it that would otherwise become unreachable. */
  private deleteBucket(hole: number): void {
    const mask = this.buckets.length - 1;
    for (let next = (hole + 1) & mask; this.buckets[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.hashes[this.buckets[next]! - 1]! & mask;
      // The entry may move into the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysPut) continue;
      this.buckets[hole] = this.buckets[next]!;
      hole = next;
    }
    this.buckets[hole] = EMPTY;
  }

  private resize(capacity: number, width: number): void {
    const records = new Uint8Array(capacity * width);
    for (let slot = 0; slot < this.count; slot++) {
      records.set(this.records.subarray(slot * this.width, slot * this.width + this.lengths[slot]!), slot * width);
    }
    const lengths = new Uint8Array(capacity);
    lengths.set(this.lengths.subarray(0, this.count));
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes.subarray(0, this.count));
    [this.capacity, this.width, this.records, this.lengths, this.hashes] = [capacity, width, records, lengths, hashes];
    if (bucketCountFor(capacity) > this.buckets.length) {
      this.buckets = new Int32Array(bucketCountFor(capacity));
      for (let slot = 0; slot < this.count; slot++) this.insertBucket(slot);
    }
  }
}

/** A power of two at least twice the capacity: linear probes stay short. */
function bucketCountFor(capacity: number): number {
  return 2 ** Math.ceil(Math.log2(2 * capacity));
}

/** FNV-1a, 32 bits. */
function hashBytes(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < length; k++) hash = Math.imul(hash ^ bytes[k]!, 0x01000193);
  return hash >>> 0;
}
