/**
 * Exact in-memory 1:N index: every vector in one contiguous Float32Array (slot-major), group
 * membership as a small bitset per slot. A search is a linear scan with a dot product per member
 * face; it allocates only O(groups + limit), never O(faces).
 *
 * The index mirrors the store and is updated after each store commit; the store stays the truth.
 */

export interface IndexCandidate {
  faceToken: string;
  /** Dot product of the L2-normalised vectors. */
  cosine: number;
  /** Every group the face belongs to in the index. */
  groupIds: string[];
}

export interface IndexSearch {
  /** Only faces belonging to at least one of these groups are candidates; absent = every face. */
  groups?: Iterable<string>;
  /** Best `limit` candidates, by descending cosine. */
  limit: number;
  /** Candidates below this cosine are dropped. */
  minCosine?: number;
  /**
   * Per-group thresholds (groupId → cosine): a candidate qualifies only through a searched group it
   * belongs to whose threshold it reaches. Applied during the scan, so a face failing its groups'
   * thresholds never takes a top slot from one that passes.
   */
  groupMinCosine?: ReadonlyMap<string, number>;
}

const BITS_PER_WORD = 32;

export class VectorIndex {
  private capacity: number;
  private count = 0;
  private vectors: Float32Array;
  /** `wordsPerSlot` Uint32 words of group bits per slot. */
  private membership: Uint32Array;
  private wordsPerSlot = 1;
  private readonly tokens: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly bitOf = new Map<string, number>();
  private readonly groupOfBit: Array<string | undefined> = [];
  private readonly freeBits: number[] = [];

  constructor(
    readonly dimension: number,
    initialCapacity = 1024,
  ) {
    this.capacity = Math.max(1, initialCapacity);
    this.vectors = new Float32Array(this.capacity * dimension);
    this.membership = new Uint32Array(this.capacity * this.wordsPerSlot);
  }

  get size(): number {
    return this.count;
  }

  has(faceToken: string): boolean {
    return this.slotOf.has(faceToken);
  }

  /** Adds a face, or replaces its vector and groups when the token is already present. */
  add(faceToken: string, embedding: Float32Array, groupIds: Iterable<string>): void {
    if (embedding.length !== this.dimension) {
      throw new Error(`embedding has ${embedding.length} dimensions, the index ${this.dimension}`);
    }
    let slot = this.slotOf.get(faceToken);
    if (slot === undefined) {
      if (this.count === this.capacity) this.grow(this.capacity * 2);
      slot = this.count++;
      this.tokens[slot] = faceToken;
      this.slotOf.set(faceToken, slot);
    }
    this.vectors.set(embedding, slot * this.dimension);
    this.writeGroups(slot, groupIds);
  }

  /** Removes a face; the last slot moves into the hole so vectors stay contiguous. */
  remove(faceToken: string): boolean {
    const slot = this.slotOf.get(faceToken);
    if (slot === undefined) return false;
    const last = --this.count;
    if (slot !== last) {
      const dim = this.dimension;
      this.vectors.copyWithin(slot * dim, last * dim, (last + 1) * dim);
      const words = this.wordsPerSlot;
      this.membership.copyWithin(slot * words, last * words, (last + 1) * words);
      const moved = this.tokens[last]!;
      this.tokens[slot] = moved;
      this.slotOf.set(moved, slot);
    }
    this.tokens.length = last;
    // No stale copy of a deleted face's vector stays in memory.
    this.vectors.fill(0, last * this.dimension, (last + 1) * this.dimension);
    this.membership.fill(0, last * this.wordsPerSlot, (last + 1) * this.wordsPerSlot);
    this.slotOf.delete(faceToken);
    return true;
  }

  /** Replaces the face's group membership. False when the token is not indexed. */
  updateGroups(faceToken: string, groupIds: Iterable<string>): boolean {
    const slot = this.slotOf.get(faceToken);
    if (slot === undefined) return false;
    this.writeGroups(slot, groupIds);
    return true;
  }

  /** Takes the group out of every face (group deleted, or emptied by deletion mode 3) and frees its bit. */
  dropGroup(groupId: string): void {
    const bit = this.bitOf.get(groupId);
    if (bit === undefined) return;
    const word = bit >>> 5;
    const clear = ~(1 << (bit & 31));
    for (let slot = 0; slot < this.count; slot++) this.membership[slot * this.wordsPerSlot + word]! &= clear;
    this.bitOf.delete(groupId);
    this.groupOfBit[bit] = undefined;
    this.freeBits.push(bit);
  }

  /** Forgets every face (library wipe); groups have no members left either. */
  clear(): void {
    this.count = 0;
    this.vectors.fill(0);
    this.tokens.length = 0;
    this.slotOf.clear();
    this.membership.fill(0);
    this.bitOf.clear();
    this.groupOfBit.length = 0;
    this.freeBits.length = 0;
  }

  groupsOf(faceToken: string): string[] | undefined {
    const slot = this.slotOf.get(faceToken);
    return slot === undefined ? undefined : this.groupIdsAt(slot);
  }

  search(query: Float32Array, options: IndexSearch): IndexCandidate[] {
    if (query.length !== this.dimension) {
      throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    }
    const limit = Math.max(0, Math.floor(options.limit));
    const minCosine = options.minCosine ?? -Infinity;
    const words = this.wordsPerSlot;
    const mask = new Uint32Array(words);
    // Searched bits with their own threshold; only needed when thresholds differ per group.
    const thresholdBits: number[] = [];
    const thresholds: number[] = [];
    const everyFace = options.groups === undefined;
    for (const groupId of new Set(options.groups ?? [])) {
      const bit = this.bitOf.get(groupId);
      if (bit === undefined) continue; // a group without members
      mask[bit >>> 5]! |= 1 << (bit & 31);
      if (options.groupMinCosine) {
        thresholdBits.push(bit);
        thresholds.push(options.groupMinCosine.get(groupId) ?? -Infinity);
      }
    }
    if (limit === 0 || this.count === 0) return [];

    // Best `limit` so far, sorted by descending cosine.
    const topSlots = new Int32Array(limit);
    const topCosines = new Float64Array(limit);
    let found = 0;
    const dim = this.dimension;
    const vectors = this.vectors;
    const membership = this.membership;

    for (let slot = 0; slot < this.count; slot++) {
      const memberBase = slot * words;
      let member = everyFace;
      for (let w = 0; w < words && !member; w++) {
        if ((membership[memberBase + w]! & mask[w]!) !== 0) {
          member = true;
          break;
        }
      }
      if (!member) continue;

      const base = slot * dim;
      let cosine = 0;
      for (let i = 0; i < dim; i++) cosine += vectors[base + i]! * query[i]!;
      if (cosine < minCosine) continue;
      if (found === limit && cosine <= topCosines[limit - 1]!) continue;
      if (thresholdBits.length > 0 && !this.passesAGroup(memberBase, cosine, thresholdBits, thresholds)) continue;

      // Insertion into the small sorted top list.
      let at = found < limit ? found++ : limit - 1;
      while (at > 0 && topCosines[at - 1]! < cosine) {
        topCosines[at] = topCosines[at - 1]!;
        topSlots[at] = topSlots[at - 1]!;
        at--;
      }
      topCosines[at] = cosine;
      topSlots[at] = slot;
    }

    const candidates: IndexCandidate[] = [];
    for (let k = 0; k < found; k++) {
      const slot = topSlots[k]!;
      candidates.push({ faceToken: this.tokens[slot]!, cosine: topCosines[k]!, groupIds: this.groupIdsAt(slot) });
    }
    return candidates;
  }

  private passesAGroup(memberBase: number, cosine: number, bits: number[], thresholds: number[]): boolean {
    for (let k = 0; k < bits.length; k++) {
      const bit = bits[k]!;
      if ((this.membership[memberBase + (bit >>> 5)]! & (1 << (bit & 31))) !== 0 && cosine >= thresholds[k]!) return true;
    }
    return false;
  }

  private groupIdsAt(slot: number): string[] {
    const groupIds: string[] = [];
    const base = slot * this.wordsPerSlot;
    for (let w = 0; w < this.wordsPerSlot; w++) {
      let bits = this.membership[base + w]!;
      while (bits !== 0) {
        const low = 31 - Math.clz32(bits & -bits);
        const groupId = this.groupOfBit[w * BITS_PER_WORD + low];
        if (groupId !== undefined) groupIds.push(groupId);
        bits &= bits - 1;
      }
    }
    return groupIds;
  }

  private writeGroups(slot: number, groupIds: Iterable<string>): void {
    const bits = [...new Set(groupIds)].map((groupId) => this.bitFor(groupId));
    const base = slot * this.wordsPerSlot;
    this.membership.fill(0, base, base + this.wordsPerSlot);
    for (const bit of bits) this.membership[base + (bit >>> 5)]! |= 1 << (bit & 31);
  }

  private bitFor(groupId: string): number {
    const existing = this.bitOf.get(groupId);
    if (existing !== undefined) return existing;
    const bit = this.freeBits.pop() ?? this.groupOfBit.length;
    this.bitOf.set(groupId, bit);
    this.groupOfBit[bit] = groupId;
    if (bit >= this.wordsPerSlot * BITS_PER_WORD) this.widenMembership(Math.floor(bit / BITS_PER_WORD) + 1);
    return bit;
  }

  private grow(capacity: number): void {
    const vectors = new Float32Array(capacity * this.dimension);
    vectors.set(this.vectors.subarray(0, this.count * this.dimension));
    this.vectors = vectors;
    const membership = new Uint32Array(capacity * this.wordsPerSlot);
    membership.set(this.membership.subarray(0, this.count * this.wordsPerSlot));
    this.membership = membership;
    this.capacity = capacity;
  }

  private widenMembership(wordsPerSlot: number): void {
    const widened = new Uint32Array(this.capacity * wordsPerSlot);
    for (let slot = 0; slot < this.count; slot++) {
      widened.set(
        this.membership.subarray(slot * this.wordsPerSlot, (slot + 1) * this.wordsPerSlot),
        slot * wordsPerSlot,
      );
    }
    this.membership = widened;
    this.wordsPerSlot = wordsPerSlot;
  }
}
