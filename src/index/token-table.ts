/**
 * The face token of each index slot, and the slot of each token, kept off the JavaScript heap. A million
 * tokens held as strings in an array and a Map are two million small heap objects that every major garbage
 * collection marks again (about 90 ms at 1 M faces on the 2-core VM: the event-loop stalls `bench:http`
 * measured). Here they are bytes in typed arrays, which the collector never walks: each slot's token as a
 * fixed-width UTF-8 record, and an open-addressing hash table (linear probing, backward-shift deletion)
 * from token to slot, split by the hash's top bits into 64 tables that each grow on their own: one table of
 * a million entries would rehash them all at once (~0.6 s on the event loop when the index grows at 1 M).
 */
const MAX_TOKEN_BYTES = 255;
const EMPTY = 0;
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Slots per chunk of records: growing adds a chunk (no copy of the records held). */
const CHUNK_BITS = 16;
const CHUNK_SLOTS = 1 << CHUNK_BITS;
const IN_CHUNK = CHUNK_SLOTS - 1;

/** The records of CHUNK_SLOTS consecutive slots. */
interface Chunk {
  records: Uint8Array;
  lengths: Uint8Array;
  hashes: Uint32Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class TokenTable {
  private count = 0;
  /** Bytes per record: the longest token seen so far (widened, and the records rewritten, when one is longer). */
  private width: number;
  private readonly chunks: Chunk[] = [];
  /**
   * Per shard (the hash's top bits): slot + 1 of the token hashed to each bucket (EMPTY = none); a power of
   * two, at least twice the shard's entries.
   */
  private readonly shards: Int32Array[];
  private readonly shardEntries = new Int32Array(SHARDS);
  private readonly scratch = new Uint8Array(MAX_TOKEN_BYTES);

  constructor(initialCapacity = 1024, initialWidth = 24) {
    this.width = Math.max(1, initialWidth);
    const buckets = Math.max(8, bucketCountFor(Math.max(1, initialCapacity)) / SHARDS);
    this.shards = Array.from({ length: SHARDS }, () => new Int32Array(buckets));
  }

  get size(): number {
    return this.count;
  }

  slotOf(token: string): number | undefined {
    const length = this.encode(token);
    const hash = hashBytes(this.scratch, length);
    const buckets = this.shards[hash >>> (32 - SHARD_BITS)]!;
    const mask = buckets.length - 1;
    for (let bucket = hash & mask; ; bucket = (bucket + 1) & mask) {
      const entry = buckets[bucket]!;
      if (entry === EMPTY) return undefined;
      if (this.holds(entry - 1, length)) return entry - 1;
    }
  }

  tokenAt(slot: number): string {
    if (slot < 0 || slot >= this.count) throw new RangeError(`slot ${slot} of ${this.count}`);
    const { records, lengths } = this.chunks[slot >>> CHUNK_BITS]!;
    const start = (slot & IN_CHUNK) * this.width;
    return fromUtf8.decode(records.subarray(start, start + lengths[slot & IN_CHUNK]!));
  }

  /** Adds a token that is not in the table yet, at the next slot (returned). */
  append(token: string): number {
    const length = this.encode(token);
    if (length > this.width) this.widen(length);
    if (this.count === this.chunks.length * CHUNK_SLOTS) this.chunks.push(newChunk(this.width));
    const slot = this.count++;
    const { records, lengths, hashes } = this.chunks[slot >>> CHUNK_BITS]!;
    const at = slot & IN_CHUNK;
    records.set(this.scratch.subarray(0, length), at * this.width);
    records.fill(0, at * this.width + length, (at + 1) * this.width);
    lengths[at] = length;
    hashes[at] = hashBytes(this.scratch, length);
    this.insertBucket(slot);
    return slot;
  }

  /** Removes the token at `slot`; the last slot's token moves into it (as the index moves its vectors). */
  removeAt(slot: number): void {
    if (slot < 0 || slot >= this.count) throw new RangeError(`slot ${slot} of ${this.count}`);
    this.deleteBucket(slot);
    const last = --this.count;
    const from = this.chunks[last >>> CHUNK_BITS]!;
    const lastAt = last & IN_CHUNK;
    if (slot !== last) {
      this.shardOf(last)[this.bucketOf(last)] = slot + 1;
      const to = this.chunks[slot >>> CHUNK_BITS]!;
      const at = slot & IN_CHUNK;
      to.records.set(from.records.subarray(lastAt * this.width, (lastAt + 1) * this.width), at * this.width);
      to.lengths[at] = from.lengths[lastAt]!;
      to.hashes[at] = from.hashes[lastAt]!;
    }
    from.lengths[lastAt] = 0;
  }

  clear(): void {
    this.count = 0;
    for (const buckets of this.shards) buckets.fill(EMPTY);
    this.shardEntries.fill(0);
    for (const chunk of this.chunks) chunk.lengths.fill(0);
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
    const { records, lengths } = this.chunks[slot >>> CHUNK_BITS]!;
    if (lengths[slot & IN_CHUNK] !== length) return false;
    const start = (slot & IN_CHUNK) * this.width;
    for (let k = 0; k < length; k++) if (records[start + k] !== this.scratch[k]) return false;
    return true;
  }

  private shardOf(slot: number): Int32Array {
    return this.shards[this.hashOf(slot) >>> (32 - SHARD_BITS)]!;
  }

  private bucketOf(slot: number): number {
    const buckets = this.shardOf(slot);
    const mask = buckets.length - 1;
    for (let bucket = this.hashOf(slot) & mask; ; bucket = (bucket + 1) & mask) {
      if (buckets[bucket] === slot + 1) return bucket;
    }
  }

  private insertBucket(slot: number): void {
    const shard = this.hashOf(slot) >>> (32 - SHARD_BITS);
    if (2 * (this.shardEntries[shard]! + 1) > this.shards[shard]!.length) this.growShard(shard);
    this.shardEntries[shard]! += 1;
    placeIn(this.shards[shard]!, this.hashOf(slot), slot + 1);
  }

  /** Twice the buckets for one shard: a sixty-fourth of the entries rehashed at a time. */
  private growShard(shard: number): void {
    const old = this.shards[shard]!;
    const buckets = new Int32Array(old.length * 2);
    for (const entry of old) if (entry !== EMPTY) placeIn(buckets, this.hashOf(entry - 1), entry);
    this.shards[shard] = buckets;
  }

  /** Empties the slot's bucket and shifts back the entries after it that would otherwise become unreachable. */
  private deleteBucket(slot: number): void {
    const shard = this.hashOf(slot) >>> (32 - SHARD_BITS);
    const buckets = this.shards[shard]!;
    this.shardEntries[shard]! -= 1;
    let hole = this.bucketOf(slot);
    const mask = buckets.length - 1;
    for (let next = (hole + 1) & mask; buckets[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.hashOf(buckets[next]! - 1) & mask;
      // The entry may move into the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysPut) continue;
      buckets[hole] = buckets[next]!;
      hole = next;
    }
    buckets[hole] = EMPTY;
  }

  private hashOf(slot: number): number {
    return this.chunks[slot >>> CHUNK_BITS]!.hashes[slot & IN_CHUNK]!;
  }

  /** Longer records for a longer token than any so far: every chunk's records rewritten (rare). */
  private widen(width: number): void {
    for (const chunk of this.chunks) {
      const records = new Uint8Array(CHUNK_SLOTS * width);
      for (let at = 0; at < CHUNK_SLOTS; at++) {
        records.set(chunk.records.subarray(at * this.width, at * this.width + chunk.lengths[at]!), at * width);
      }
      chunk.records = records;
    }
    this.width = width;
  }
}

function newChunk(width: number): Chunk {
  return { records: new Uint8Array(CHUNK_SLOTS * width), lengths: new Uint8Array(CHUNK_SLOTS), hashes: new Uint32Array(CHUNK_SLOTS) };
}

/** Puts `entry` in the first empty bucket from the hash's own (linear probing). */
function placeIn(buckets: Int32Array, hash: number, entry: number): void {
  const mask = buckets.length - 1;
  let bucket = hash & mask;
  while (buckets[bucket] !== EMPTY) bucket = (bucket + 1) & mask;
  buckets[bucket] = entry;
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
