/**
 * The in-memory 1:N index, compact enough for a million faces on a small machine. Per face it keeps a
 * 512-bit sign code (64 bytes), an int8 copy of the vector with its scale (dimension + 4 bytes) and a
 * bitset of its groups, all in one shared WebAssembly memory scanned by SIMD kernels (scan-kernels.ts).
 *
 * A search runs in three passes, each over far fewer faces than the one before:
 *  1. Hamming distance of the query's sign code to every member of the searched groups (64 bytes a face) —
 *     on a large index in worker threads, each over its share of the faces, so the event loop stays free;
 *  2. int8 dot products for the `shortlist` closest codes;
 *  3. exact float32 cosines, read from the store (the truth), for the best `limit + EXACT_EXTRA` of those.
 * Returned cosines are therefore exact; only a true neighbour missing from the shortlist can be lost, which
 * `npm run bench:search` measures (recall@5 against exact search).
 *
 * Group bit 0 is set on every face: a search without a group filter (every face, those bound to no group
 * included) is the same scan with only that bit in its mask.
 *
 * Writes are synchronous on the main thread, into the shared memory, so a search started after a write
 * sees it. A removal moves another face into the freed slot: a scan that a removal (or a relayout) overtook
 * is run again, so slot numbers are never read against the wrong faces.
 *
 * The index mirrors the store and is updated after each store commit; the store stays the truth.
 */
import { availableParallelism } from 'node:os';
import { CODE_BITS, CODE_BYTES, align16, encodeCompact, recordLayout, type RecordLayout } from './compact-codec.js';
import { instantiateKernels, sharedMemory, type ScanKernels } from './scan-kernels.js';
import { HISTOGRAM_BYTES, ScanThreads } from './scan-threads.js';
import { TokenTable } from './token-table.js';

export interface IndexCandidate {
  faceToken: string;
  /** Dot product of the L2-normalised vectors (exact float32 vectors from the store). */
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
   * belongs to whose threshold it reaches. Applied before the cut to `limit`, so a face failing its
   * groups' thresholds never takes a top slot from one that passes.
   */
  groupMinCosine?: ReadonlyMap<string, number>;
}

/** The exact stored vectors of some faces (unknown ones absent): the store's getEmbeddings. */
export type ExactVectors = (faceTokens: readonly string[]) => Promise<Map<string, Float32Array>>;

/** Exact vectors held in a map (an index over vectors that live in no store: benches, tests). */
export const exactFrom =
  (vectors: ReadonlyMap<string, Float32Array>): ExactVectors =>
  async (faceTokens) =>
    new Map(faceTokens.flatMap((faceToken) => {
      const vector = vectors.get(faceToken);
      return vector ? [[faceToken, vector] as const] : [];
    }));

export interface VectorIndexOptions {
  exact: ExactVectors;
  /** Faces re-scored in int8 after the binary pass (see the README for the recall it buys). */
  shortlist?: number;
  initialCapacity?: number;
  /** Worker threads sharing the first pass of a large index (default: 2, or 1 on a single core). */
  scanThreads?: number;
  /** Indexes with fewer faces are scanned on the calling thread (a thread round trip costs more). */
  parallelFrom?: number;
}

export const DEFAULT_SHORTLIST = 4096;
/** ~1 ms of scan on the main thread; above it the threads take the scan off the event loop. */
const DEFAULT_PARALLEL_FROM = 32_768;
/** Candidates beyond `limit` re-scored exactly, so int8 rounding cannot push a true top hit out. */
const EXACT_EXTRA = 16;
/** Bound on |int8 cosine − exact cosine| used for threshold tests before the exact pass (measured ≤ 0.003). */
const INT8_TOLERANCE = 0.02;
const BITS_PER_WORD = 32;
/** Set on every face, owned by no group: the mask of a search over every face. */
const EVERY_FACE_BIT = 0;
/** Room for the every-face bit and 64 groups (the default group limit) without a relayout. */
const INITIAL_WORDS = 3;
/** A scan overtaken this often by removals is done on the calling thread, where nothing can overtake it. */
const PARALLEL_ATTEMPTS = 2;

/** Byte offsets of the index's arrays in the kernels' memory. */
interface Layout {
  capacity: number;
  words: number;
  queryCode: number;
  queryVector: number;
  mask: number;
  /** One histogram per scanning thread, the calling thread's first. */
  histograms: number;
  slots: number;
  dots: number;
  distances: number;
  codes: number;
  membership: number;
  vectors: number;
  bytes: number;
}

function planLayout(capacity: number, words: number, paddedDimension: number, shortlistMax: number, histograms: number): Layout {
  let end = 0;
  const take = (bytes: number): number => {
    const at = end;
    end = align16(end + bytes);
    return at;
  };
  const layout = {
    capacity,
    words,
    queryCode: take(CODE_BYTES),
    queryVector: take(paddedDimension),
    mask: take(words * 4),
    histograms: take(histograms * HISTOGRAM_BYTES),
    slots: take(shortlistMax * 4),
    dots: take(shortlistMax * 4),
    distances: take(capacity * 2),
    codes: take(capacity * CODE_BYTES),
    membership: take(capacity * words * 4),
    vectors: take(capacity * paddedDimension),
  };
  return { ...layout, bytes: end };
}

export class VectorIndex {
  private count = 0;
  private readonly record: RecordLayout;
  private readonly paddedDimension: number;
  private readonly shortlist: number;
  private readonly exact: ExactVectors;
  private readonly threadCount: number;
  private readonly parallelFrom: number;
  private threads: ScanThreads | undefined;
  private layout: Layout;
  private memory: WebAssembly.Memory;
  private kernels: ScanKernels;
  /** Views of the kernels' memory (replaced with it on relayout). */
  private bytes: Uint8Array;
  private words32: Uint32Array;
  private scales: Float32Array;
  /** Bumped whenever slots move or the memory is replaced: a scan that spans a bump is redone. */
  private epoch = 0;
  /** Searches take turns over the scan scratch (query, mask, histograms, distances, shortlist). */
  private scanTurn: Promise<unknown> = Promise.resolve();
  /** The face token of each slot, off the JS heap (token-table.ts says why). */
  private readonly tokens: TokenTable;
  private readonly bitOf = new Map<string, number>();
  /** Group of each bit; bit 0 (EVERY_FACE_BIT) belongs to none. */
  private readonly groupOfBit: Array<string | undefined> = [undefined];
  private readonly freeBits: number[] = [];

  constructor(
    readonly dimension: number,
    options: VectorIndexOptions,
  ) {
    this.record = recordLayout(dimension);
    this.paddedDimension = this.record.paddedDimension;
    this.shortlist = Math.max(1, options.shortlist ?? DEFAULT_SHORTLIST);
    this.exact = options.exact;
    this.threadCount = Math.max(0, options.scanThreads ?? Math.min(2, availableParallelism()));
    this.parallelFrom = options.parallelFrom ?? DEFAULT_PARALLEL_FROM;
    this.layout = this.plan(Math.max(1, options.initialCapacity ?? 1024), INITIAL_WORDS);
    this.tokens = new TokenTable(this.layout.capacity);
    this.memory = sharedMemory(this.layout.bytes);
    this.kernels = instantiateKernels(this.memory);
    this.bytes = new Uint8Array(this.memory.buffer);
    this.words32 = new Uint32Array(this.memory.buffer);
    this.scales = new Float32Array(this.layout.capacity);
  }

  get size(): number {
    return this.count;
  }

  has(faceToken: string): boolean {
    return this.tokens.slotOf(faceToken) !== undefined;
  }

  /** Adds a face, or replaces its vector and groups when the token is already present. */
  add(faceToken: string, embedding: Float32Array, groupIds: Iterable<string>): void {
    if (embedding.length !== this.dimension) {
      throw new Error(`embedding has ${embedding.length} dimensions, the index ${this.dimension}`);
    }
    this.addRecord(faceToken, encodeCompact(embedding), groupIds);
  }

  /** As add, from the vector's compact record (compact-codec.ts), as the store keeps it. */
  addRecord(faceToken: string, record: Uint8Array, groupIds: Iterable<string>): void {
    if (record.length !== this.record.bytes) {
      throw new Error(`compact record of ${record.length} bytes, the index needs ${this.record.bytes}`);
    }
    let slot = this.tokens.slotOf(faceToken);
    if (slot === undefined) {
      // ×1.5, not ×2: at a million faces each step allocates (and copies) the whole index once more.
      if (this.count === this.layout.capacity) this.relayout(Math.ceil(this.layout.capacity * 1.5), this.layout.words);
      slot = this.tokens.append(faceToken);
      this.count++;
    }
    this.writeGroups(slot, groupIds); // first: it may relayout
    const { codes, vectors } = this.layout;
    this.bytes.set(record.subarray(0, CODE_BYTES), codes + slot * CODE_BYTES);
    this.bytes.set(record.subarray(this.record.int8, this.record.scale), vectors + slot * this.paddedDimension);
    this.scales[slot] = new DataView(record.buffer, record.byteOffset, record.byteLength).getFloat32(this.record.scale, true);
  }

  /** Removes a face; the last slot moves into the hole so the arrays stay contiguous. */
  remove(faceToken: string): boolean {
    const slot = this.tokens.slotOf(faceToken);
    if (slot === undefined) return false;
    this.epoch += 1;
    this.tokens.removeAt(slot); // moves the last slot's token into `slot`, as below for its vectors
    const last = --this.count;
    const { codes, vectors, membership, words } = this.layout;
    if (slot !== last) {
      const move = (base: number, width: number) =>
        this.bytes.copyWithin(base + slot * width, base + last * width, base + (last + 1) * width);
      move(codes, CODE_BYTES);
      move(vectors, this.paddedDimension);
      move(membership, words * 4);
      this.scales[slot] = this.scales[last]!;
    }
    // No stale copy of a deleted face's vector (nor its code) stays in memory.
    this.bytes.fill(0, codes + last * CODE_BYTES, codes + (last + 1) * CODE_BYTES);
    this.bytes.fill(0, vectors + last * this.paddedDimension, vectors + (last + 1) * this.paddedDimension);
    this.bytes.fill(0, membership + last * words * 4, membership + (last + 1) * words * 4);
    this.scales[last] = 0;
    return true;
  }

  /** Replaces the face's group membership. False when the token is not indexed. */
  updateGroups(faceToken: string, groupIds: Iterable<string>): boolean {
    const slot = this.tokens.slotOf(faceToken);
    if (slot === undefined) return false;
    this.writeGroups(slot, groupIds);
    return true;
  }

  /** Takes the group out of every face (group deleted, or emptied by deletion mode 3) and frees its bit. */
  dropGroup(groupId: string): void {
    const bit = this.bitOf.get(groupId);
    if (bit === undefined) return;
    this.epoch += 1; // the bit may soon name another group
    const membership = this.membershipWords();
    const word = bit >>> 5;
    const clear = ~(1 << (bit & 31));
    const words = this.layout.words;
    for (let slot = 0; slot < this.count; slot++) membership[slot * words + word]! &= clear;
    this.bitOf.delete(groupId);
    this.groupOfBit[bit] = undefined;
    this.freeBits.push(bit);
  }

  /** Forgets every face (library wipe); groups have no members left either. */
  clear(): void {
    this.epoch += 1;
    this.count = 0;
    this.bytes.fill(0);
    this.scales.fill(0);
    this.tokens.clear();
    this.bitOf.clear();
    this.groupOfBit.length = EVERY_FACE_BIT + 1;
    this.freeBits.length = 0;
  }

  groupsOf(faceToken: string): string[] | undefined {
    const slot = this.tokens.slotOf(faceToken);
    return slot === undefined ? undefined : this.groupIdsAt(slot);
  }

  /** Stops the scan threads (the index stays usable: later scans run on the calling thread or new threads). */
  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = undefined;
    await threads?.close();
  }

  async search(query: Float32Array, options: IndexSearch): Promise<IndexCandidate[]> {
    if (query.length !== this.dimension) {
      throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    }
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0 || this.count === 0) return [];
    const everyFace = options.groups === undefined;
    const searched = new Set(options.groups);
    const record = encodeCompact(query);
    const turn = this.scanTurn.then(() => this.shortlistFor(record, searched, everyFace, limit, options));
    this.scanTurn = turn.catch(() => undefined);
    const shortlist = await turn;
    if (shortlist.length === 0) return [];

    // Pass 3: exact cosines from the stored vectors (faces deleted meanwhile are gone from the answer).
    const minCosine = options.minCosine ?? -Infinity;
    const groupMinCosine = everyFace ? undefined : options.groupMinCosine;
    const vectors = await this.exact(shortlist.map((candidate) => candidate.faceToken));
    const candidates: IndexCandidate[] = [];
    for (const { faceToken, groupIds } of shortlist) {
      const vector = vectors.get(faceToken);
      if (!vector || vector.length !== this.dimension) continue;
      let cosine = 0;
      for (let i = 0; i < this.dimension; i++) cosine += vector[i]! * query[i]!;
      if (cosine < minCosine) continue;
      const qualifies = (groupId: string) => searched.has(groupId) && cosine >= (groupMinCosine?.get(groupId) ?? -Infinity);
      if (groupMinCosine && !groupIds.some(qualifies)) continue;
      candidates.push({ faceToken, cosine, groupIds });
    }
    return candidates.sort((a, b) => b.cosine - a.cosine).slice(0, limit);
  }

  /** Passes 1 and 2: the best `limit + EXACT_EXTRA` faces by int8 cosine, with their groups. */
  private async shortlistFor(
    record: Uint8Array,
    searched: ReadonlySet<string>,
    everyFace: boolean,
    limit: number,
    options: IndexSearch,
  ): Promise<Array<{ faceToken: string; groupIds: string[] }>> {
    for (let attempt = 0; ; attempt++) {
      const epoch = this.epoch;
      const layout = this.layout;
      const count = this.count;
      const mask = new Uint32Array(this.memory.buffer, layout.mask, layout.words).fill(0);
      const thresholdBits: number[] = [];
      const thresholds: number[] = [];
      if (everyFace) mask[0] = 1 << EVERY_FACE_BIT;
      for (const groupId of searched) {
        const bit = this.bitOf.get(groupId);
        if (bit === undefined) continue; // a group without members
        mask[bit >>> 5]! |= 1 << (bit & 31);
        if (options.groupMinCosine) {
          thresholdBits.push(bit);
          thresholds.push(options.groupMinCosine.get(groupId) ?? -Infinity);
        }
      }
      if (count === 0 || mask.every((word) => word === 0)) return [];
      this.bytes.set(record.subarray(0, CODE_BYTES), layout.queryCode);
      this.bytes.set(record.subarray(this.record.int8, this.record.scale), layout.queryVector);
      const queryScale = new DataView(record.buffer, record.byteOffset).getFloat32(this.record.scale, true);

      // Pass 1: Hamming distances of the sign codes, each thread over its share of the slots, with a
      // histogram per thread; their sum gives the distance that admits `shortlist`.
      const parallel = this.threadCount > 0 && count >= this.parallelFrom && attempt < PARALLEL_ATTEMPTS;
      let histogramCount = 1;
      if (parallel) {
        this.threads ??= new ScanThreads(this.threadCount, this.memory);
        histogramCount = this.threadCount;
        await this.threads.scan({ ...layout, count });
        if (this.epoch !== epoch) continue; // slots moved under the scan
      } else {
        this.kernels.hamming(layout.queryCode, layout.codes, layout.membership, layout.words, layout.mask, count, layout.distances, layout.histograms);
      }
      const histograms = new Uint32Array(this.memory.buffer, layout.histograms, (histogramCount * HISTOGRAM_BYTES) / 4);
      const bins = HISTOGRAM_BYTES / 4;
      let threshold = CODE_BITS;
      for (let distance = 0, admitted = 0; distance <= CODE_BITS; distance++) {
        for (let h = 0; h < histogramCount; h++) admitted += histograms[h * bins + distance]!;
        if (admitted >= this.shortlist) {
          threshold = distance;
          break;
        }
      }
      const shortlisted = this.kernels.collect(layout.distances, count, threshold, layout.slots, 2 * this.shortlist);

      // Pass 2: int8 cosines of the shortlist; keep the best `limit + EXACT_EXTRA` that can still qualify.
      this.kernels.dots(layout.queryVector, layout.vectors, this.paddedDimension, layout.slots, shortlisted, layout.dots);
      const slots = new Uint32Array(this.memory.buffer, layout.slots, shortlisted);
      const dots = new Int32Array(this.memory.buffer, layout.dots, shortlisted);
      const minCosine = options.minCosine ?? -Infinity;
      const best = new BestList(limit + EXACT_EXTRA);
      const membership = this.membershipWords();
      for (let k = 0; k < shortlisted; k++) {
        const slot = slots[k]!;
        const cosine = dots[k]! * queryScale * this.scales[slot]!;
        if (cosine + INT8_TOLERANCE < minCosine || !best.admits(cosine)) continue;
        if (thresholdBits.length > 0 && !passesAGroup(membership, slot * layout.words, cosine + INT8_TOLERANCE, thresholdBits, thresholds)) continue;
        best.insert(slot, cosine);
      }
      // The query's int8 copy is biometric data too: it does not outlive the search.
      this.bytes.fill(0, layout.queryCode, layout.queryVector + this.paddedDimension);
      return best.slots().map((slot) => ({ faceToken: this.tokens.tokenAt(slot), groupIds: this.groupIdsAt(slot) }));
    }
  }

  private plan(capacity: number, words: number): Layout {
    return planLayout(capacity, words, this.paddedDimension, 2 * this.shortlist, Math.max(1, this.threadCount));
  }

  private membershipWords(): Uint32Array {
    const { membership, capacity, words } = this.layout;
    return this.words32.subarray(membership / 4, membership / 4 + capacity * words);
  }

  private groupIdsAt(slot: number): string[] {
    const groupIds: string[] = [];
    const words = this.layout.words;
    const membership = this.membershipWords();
    for (let w = 0; w < words; w++) {
      let bits = membership[slot * words + w]!;
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
    const bits: number[] = [];
    for (const groupId of groupIds) bits.push(this.bitFor(groupId)); // may relayout: offsets read after
    const words = this.layout.words;
    const base = this.layout.membership / 4 + slot * words;
    this.words32.fill(0, base, base + words);
    this.words32[base]! |= 1 << EVERY_FACE_BIT;
    for (const bit of bits) this.words32[base + (bit >>> 5)]! |= 1 << (bit & 31);
  }

  private bitFor(groupId: string): number {
    const existing = this.bitOf.get(groupId);
    if (existing !== undefined) return existing;
    const bit = this.freeBits.pop() ?? this.groupOfBit.length;
    this.bitOf.set(groupId, bit);
    this.groupOfBit[bit] = groupId;
    if (bit >= this.layout.words * BITS_PER_WORD) this.relayout(this.layout.capacity, Math.floor(bit / BITS_PER_WORD) + 1);
    return bit;
  }

  /** Moves everything into a fresh memory laid out for more faces or more membership words. */
  private relayout(capacity: number, words: number): void {
    this.epoch += 1;
    const old = this.layout;
    const oldBytes = this.bytes;
    const layout = this.plan(capacity, words);
    const memory = sharedMemory(layout.bytes);
    const bytes = new Uint8Array(memory.buffer);
    const copy = (from: number, to: number, length: number) => bytes.set(oldBytes.subarray(from, from + length), to);
    copy(old.codes, layout.codes, this.count * CODE_BYTES);
    copy(old.vectors, layout.vectors, this.count * this.paddedDimension);
    if (words === old.words) copy(old.membership, layout.membership, this.count * words * 4);
    else {
      for (let slot = 0; slot < this.count; slot++) {
        copy(old.membership + slot * old.words * 4, layout.membership + slot * words * 4, old.words * 4);
      }
    }
    oldBytes.fill(0); // the old memory lives on until collected: no vector copies in it
    const scales = new Float32Array(capacity);
    scales.set(this.scales.subarray(0, this.count));
    this.layout = layout;
    this.memory = memory;
    this.kernels = instantiateKernels(memory);
    this.threads?.share(memory);
    this.bytes = bytes;
    this.words32 = new Uint32Array(memory.buffer);
    this.scales = scales;
  }
}

function passesAGroup(membership: Uint32Array, base: number, cosine: number, bits: number[], thresholds: number[]): boolean {
  for (let k = 0; k < bits.length; k++) {
    const bit = bits[k]!;
    if ((membership[base + (bit >>> 5)]! & (1 << (bit & 31))) !== 0 && cosine >= thresholds[k]!) return true;
  }
  return false;
}

/** The best few slots by descending score (insertion into a short sorted array). */
class BestList {
  private readonly slotList: Int32Array;
  private readonly scores: Float64Array;
  private found = 0;

  constructor(private readonly capacity: number) {
    this.slotList = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  admits(score: number): boolean {
    return this.found < this.capacity || score > this.scores[this.capacity - 1]!;
  }

  insert(slot: number, score: number): void {
    let at = this.found < this.capacity ? this.found++ : this.capacity - 1;
    while (at > 0 && this.scores[at - 1]! < score) {
      this.scores[at] = this.scores[at - 1]!;
      this.slotList[at] = this.slotList[at - 1]!;
      at--;
    }
    this.scores[at] = score;
    this.slotList[at] = slot;
  }

  slots(): number[] {
    return Array.from(this.slotList.subarray(0, this.found));
  }
}
