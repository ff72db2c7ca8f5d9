/**
 * The in-memory 1:N index, compact enough for a million faces on a small machine. Per face it keeps a
 * 512-bit sign code (64 bytes), an int8 copy of the vector with its scale (dimension + 4 bytes) and a
 * bitset of its groups, all in one shared WebAssembly memory scanned by SIMD kernels (scan-kernels.ts).
 *
 * A search runs in three passes, each over far fewer faces than the one before:
 *  1. Hamming distance of the query's sign code to every member of the searched groups (64 bytes a face) —
 *     on a large index in worker threads, each over its share of the faces, so the event loop stays free.
 *     A filtered search whose groups have at most `cosineScanUpTo` members (their member counts tell, or
 *     when faces in several of them make that unsure, the Hamming pass's histogram) is scanned by int8
 *     cosine instead, bucketed by 1/256 into the same distances (the int8 vector: dimension bytes a face,
 *     ~8× the code);
 *  2. int8 dot products for the `shortlist` closest;
 *  3. exact float32 cosines, read from the store (the truth), for the best `limit + EXACT_EXTRA` of those.
 * Returned cosines are therefore exact; only a true neighbour missing from the shortlist can be lost, which
 * `npm run bench:search` measures (recall@5 against exact search). By sign code a neighbour at noise level
 * (cosine ~0.17, all a query without a true match has) can rank well outside the shortlist among tens of
 * thousands of faces; by int8 cosine it cannot. Whole-library searches stay on Hamming: a query with no
 * true match there can still miss some of its noise-level neighbours.
 *
 * Group bit 0 is set on every face: a search without a group filter (every face, those bound to no group
 * included) is the same scan with only that bit in its mask.
 *
 * The memory is a heap of segments of consecutive slots (index-memory.ts): growing appends a segment, in
 * place, and more groups than the bitsets' width add a zeroed bitset plane to each segment, so a million
 * faces are never copied (and the event loop never stalls for it).
 *
 * Writes are synchronous on the main thread, into the shared memory, so a search started after a write
 * sees it. A removal moves another face into the freed slot: a scan that a removal (or a widening, or a
 * reload's swap) overtook is run again, so slot numbers are never read against the wrong faces.
 *
 * The index mirrors the store and is updated after each store commit; the store stays the truth.
 */
import { availableParallelism } from 'node:os';
import { CODE_BITS, CODE_BYTES, align16, encodeCompact, recordLayout, type RecordLayout } from './compact-codec.js';
import { IndexMemory } from './index-memory.js';
import { instantiateKernels, type ScanKernels } from './scan-kernels.js';
import { HISTOGRAM_BYTES, runScan, ScanThreads, type ScanJob } from './scan-threads.js';
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
  /**
   * A filtered search whose groups have at most this many members ranks them in pass 1 by int8 cosine
   * rather than by Hamming distance (0: never). Whole-library searches always use Hamming.
   */
  cosineScanUpTo?: number;
}

export const DEFAULT_SHORTLIST = 4096;
/**
 * See cosineScanUpTo. The cosine pass reads 8× the bytes of the Hamming pass a member: at 1 M faces a search
 * took ~9.4 ms at the median over 24 k members, 19.6 ms over 94 k, 24.1 ms over 139 k (Hamming: 8–13 ms),
 * so around this bound it reaches the 20 ms the index is held to (see the README).
 */
export const DEFAULT_COSINE_SCAN_UP_TO = 131_072;
/** ~1 ms of scan on the main thread; above it the threads take the scan off the event loop. */
const DEFAULT_PARALLEL_FROM = 32_768;
/** Candidates beyond `limit` re-scored exactly, so int8 rounding cannot push a true top hit out. */
const EXACT_EXTRA = 16;
/** Bound on |int8 cosine − exact cosine| used for threshold tests before the exact pass (measured ≤ 0.003). */
const INT8_TOLERANCE = 0.02;
const BITS_PER_WORD = 32;
/** Set on every face, owned by no group: the mask of a search over every face. */
const EVERY_FACE_BIT = 0;
/** Room for the every-face bit and 64 groups (the default group limit) without widening. */
const INITIAL_WORDS = 3;
/** A scan overtaken this often by removals is done on the calling thread, where nothing can overtake it. */
const PARALLEL_ATTEMPTS = 2;
/** Bounds on a growth segment's slots: half the capacity so far (×1.5 overall), at most ~40 MB of memory. */
const MIN_SEGMENT_SLOTS = 64;
const MAX_SEGMENT_SLOTS = 65_536;

/** The per-search scratch of the index, at fixed offsets in its memory. */
interface Scratch {
  queryCode: number;
  queryVector: number;
  /** One histogram per scanning thread, the calling thread's first. */
  histograms: number;
  slots: number;
  dots: number;
}

/**
 * A run of consecutive slots whose arrays lie together (byte offsets). Growing the index appends a
 * segment; existing ones never move. Group bitsets lie in planes, one per 32-bit word, so that more
 * groups add a plane to each segment instead of re-laying every bitset out.
 */
interface Segment {
  /** The first slot. */
  start: number;
  capacity: number;
  codes: number;
  vectors: number;
  scales: number;
  distances: number;
  /** Offset of each plane (`capacity` u32: word w of every slot's group bitset). */
  planes: number[];
  /** Where the offsets of the planes are listed in the memory (u32 each), for the scan kernel. */
  planeTable: number;
}

/** Everything the index holds: one object, so that a reload can swap a freshly built one in at once. */
interface Contents {
  heap: IndexMemory;
  kernels: ScanKernels;
  scratch: Scratch;
  segments: Segment[];
  /** 32-bit words of each face's group bitset; `mask` is the search's bitset. */
  words: number;
  mask: number;
  count: number;
  /** The face token of each slot, off the JS heap (token-table.ts says why). */
  tokens: TokenTable;
  bitOf: Map<string, number>;
  /** Group of each bit; bit 0 (EVERY_FACE_BIT) belongs to none. */
  groupOfBit: Array<string | undefined>;
  freeBits: number[];
  /** Faces holding each group bit (bit 0's unkept): their sum over a filter bounds its members. */
  members: number[];
}

export class VectorIndex {
  private readonly record: RecordLayout;
  private readonly paddedDimension: number;
  private readonly shortlist: number;
  private readonly exact: ExactVectors;
  private readonly threadCount: number;
  private readonly parallelFrom: number;
  private readonly cosineScanUpTo: number;
  private threads: ScanThreads | undefined;
  private contents: Contents;
  /** Bumped whenever slots move or the memory is replaced: a scan that spans a bump is redone. */
  private epoch = 0;
  /** Searches take turns over the scan scratch (query, mask, histograms, distances, shortlist). */
  private scanTurn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dimension: number,
    private readonly options: VectorIndexOptions,
  ) {
    this.record = recordLayout(dimension);
    this.paddedDimension = this.record.paddedDimension;
    this.shortlist = Math.max(1, options.shortlist ?? DEFAULT_SHORTLIST);
    this.exact = options.exact;
    this.threadCount = Math.max(0, options.scanThreads ?? Math.min(2, availableParallelism()));
    this.parallelFrom = options.parallelFrom ?? DEFAULT_PARALLEL_FROM;
    this.cosineScanUpTo = options.cosineScanUpTo ?? DEFAULT_COSINE_SCAN_UP_TO;
    this.contents = this.emptyContents(Math.max(1, options.initialCapacity ?? 1024));
  }

  /** An empty index like this one (same dimension and tuning), with room for `initialCapacity` faces. */
  emptyLike(initialCapacity?: number): VectorIndex {
    return new VectorIndex(this.dimension, { ...this.options, initialCapacity });
  }

  /**
   * Takes over everything `fresh` holds, at once (a reload builds the new index beside the old one, which
   * serves searches meanwhile); `fresh` is left empty. Resolves once the old contents' memory is zeroed, a
   * little per event-loop turn.
   */
  async replaceWith(fresh: VectorIndex): Promise<void> {
    if (fresh.dimension !== this.dimension) throw new Error(`cannot take over a ${fresh.dimension}-d index into a ${this.dimension}-d one`);
    const old = this.contents;
    this.contents = fresh.contents;
    fresh.contents = fresh.emptyContents(1);
    this.epoch += 1;
    fresh.epoch += 1;
    this.threads?.share(this.contents.heap.memory);
    await old.heap.scrub(); // no copy of the old vectors stays in memory
  }

  get size(): number {
    return this.contents.count;
  }

  /** Faces the index holds room for before it grows (by appending a segment: nothing is moved). */
  get capacity(): number {
    const last = this.contents.segments.at(-1)!;
    return last.start + last.capacity;
  }

  has(faceToken: string): boolean {
    return this.contents.tokens.slotOf(faceToken) !== undefined;
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
    const contents = this.contents;
    let slot = contents.tokens.slotOf(faceToken);
    if (slot === undefined) {
      if (contents.count === this.capacity) this.appendSegment();
      slot = contents.tokens.append(faceToken);
      contents.count++;
    }
    this.writeGroups(slot, groupIds);
    const segment = this.segmentOf(slot);
    const local = slot - segment.start;
    const { bytes, floats } = contents.heap;
    bytes.set(record.subarray(0, CODE_BYTES), segment.codes + local * CODE_BYTES);
    bytes.set(record.subarray(this.record.int8, this.record.scale), segment.vectors + local * this.paddedDimension);
    floats[segment.scales / 4 + local] = new DataView(record.buffer, record.byteOffset, record.byteLength).getFloat32(this.record.scale, true);
  }

  /** Removes a face; the last slot moves into the hole so the slots stay contiguous. */
  remove(faceToken: string): boolean {
    const contents = this.contents;
    const slot = contents.tokens.slotOf(faceToken);
    if (slot === undefined) return false;
    this.epoch += 1;
    const to = this.segmentOf(slot);
    this.countGroups(to.planes, slot - to.start, -1);
    contents.tokens.removeAt(slot); // moves the last slot's token into `slot`, as below for its vectors
    const last = --contents.count;
    const { bytes, floats } = contents.heap;
    const from = this.segmentOf(last);
    const at = slot - to.start;
    const lastAt = last - from.start;
    const arrays = [
      ['codes', CODE_BYTES],
      ['vectors', this.paddedDimension],
    ] as const;
    const words32 = contents.heap.words32;
    if (slot !== last) {
      for (const [array, width] of arrays) bytes.copyWithin(to[array] + at * width, from[array] + lastAt * width, from[array] + (lastAt + 1) * width);
      for (let w = 0; w < contents.words; w++) words32[to.planes[w]! / 4 + at] = words32[from.planes[w]! / 4 + lastAt]!;
      floats[to.scales / 4 + at] = floats[from.scales / 4 + lastAt]!;
    }
    // No stale copy of a deleted face's vector (nor its code) stays in memory.
    for (const [array, width] of arrays) bytes.fill(0, from[array] + lastAt * width, from[array] + (lastAt + 1) * width);
    for (let w = 0; w < contents.words; w++) words32[from.planes[w]! / 4 + lastAt] = 0;
    floats[from.scales / 4 + lastAt] = 0;
    return true;
  }

  /** Replaces the face's group membership. False when the token is not indexed. */
  updateGroups(faceToken: string, groupIds: Iterable<string>): boolean {
    const slot = this.contents.tokens.slotOf(faceToken);
    if (slot === undefined) return false;
    this.writeGroups(slot, groupIds);
    return true;
  }

  /** Takes the group out of every face (group deleted, or emptied by deletion mode 3) and frees its bit. */
  dropGroup(groupId: string): void {
    const contents = this.contents;
    const bit = contents.bitOf.get(groupId);
    if (bit === undefined) return;
    this.epoch += 1; // the bit may soon name another group
    const words32 = contents.heap.words32;
    const clear = ~(1 << (bit & 31));
    for (const segment of contents.segments) {
      const plane = segment.planes[bit >>> 5]! / 4;
      const end = Math.min(segment.capacity, contents.count - segment.start);
      for (let local = 0; local < end; local++) words32[plane + local]! &= clear;
    }
    contents.bitOf.delete(groupId);
    contents.groupOfBit[bit] = undefined;
    contents.members[bit] = 0;
    contents.freeBits.push(bit);
  }

  /** Forgets every face (library wipe); groups have no members left either. */
  clear(): void {
    this.epoch += 1;
    const contents = this.contents;
    const { bytes, words32, floats } = contents.heap;
    for (const segment of contents.segments) {
      const used = Math.max(0, Math.min(segment.capacity, contents.count - segment.start));
      bytes.fill(0, segment.codes, segment.codes + used * CODE_BYTES);
      bytes.fill(0, segment.vectors, segment.vectors + used * this.paddedDimension);
      for (const plane of segment.planes) words32.fill(0, plane / 4, plane / 4 + used);
      floats.fill(0, segment.scales / 4, segment.scales / 4 + used);
    }
    contents.count = 0;
    contents.tokens.clear();
    contents.bitOf.clear();
    contents.groupOfBit.length = EVERY_FACE_BIT + 1;
    contents.freeBits.length = 0;
    contents.members.length = 0;
  }

  groupsOf(faceToken: string): string[] | undefined {
    const slot = this.contents.tokens.slotOf(faceToken);
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
    if (limit === 0 || this.contents.count === 0) return [];
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
      const contents = this.contents;
      const { heap, scratch, kernels, words, count } = contents;
      // The segments holding slots [0, count) now; faces added during the scan are not searched by it.
      const ranges = contents.segments
        .map((segment) => ({ segment, count: Math.max(0, Math.min(segment.capacity, count - segment.start)) }))
        .filter((range) => range.count > 0);
      const mask = heap.words32.subarray(contents.mask / 4, contents.mask / 4 + words).fill(0);
      const thresholdBits: number[] = [];
      const thresholds: number[] = [];
      /** An upper bound on the filter's members (a face in two searched groups counts twice). */
      let membersAtMost = 0;
      if (everyFace) mask[0] = 1 << EVERY_FACE_BIT;
      for (const groupId of searched) {
        const bit = contents.bitOf.get(groupId);
        if (bit === undefined) continue; // a group without members
        mask[bit >>> 5]! |= 1 << (bit & 31);
        membersAtMost += contents.members[bit]!;
        if (options.groupMinCosine) {
          thresholdBits.push(bit);
          thresholds.push(options.groupMinCosine.get(groupId) ?? -Infinity);
        }
      }
      if (count === 0 || mask.every((word) => word === 0)) return [];
      heap.bytes.set(record.subarray(0, CODE_BYTES), scratch.queryCode);
      heap.bytes.set(record.subarray(this.record.int8, this.record.scale), scratch.queryVector);
      const queryScale = new DataView(record.buffer, record.byteOffset).getFloat32(this.record.scale, true);
      const forgetQuery = () => heap.bytes.fill(0, scratch.queryCode, scratch.queryVector + this.paddedDimension);

      // Pass 1: Hamming distances of the sign codes, each thread over its share of the slots, with a
      // histogram per thread; their sum gives the distance that admits `shortlist`. A filter with few enough
      // members is scanned by int8 cosine instead (bucketed by 1/256), whose ranking a shortlist can trust
      // further down: by sign codes, a noise-level neighbour (cosine ~0.17) of a query without a true match
      // lies ±11 bits around ~228 and falls out of a 4,096 shortlist of 70,000 members ~6 % of the time.
      const parallel = this.threadCount > 0 && count >= this.parallelFrom && attempt < PARALLEL_ATTEMPTS;
      const job: ScanJob = {
        kernel: 'hamming',
        queryCode: scratch.queryCode,
        queryVector: scratch.queryVector,
        queryScale,
        paddedDimension: this.paddedDimension,
        words,
        mask: contents.mask,
        ranges: ranges.map(({ segment, count }) => ({
          codes: segment.codes,
          vectors: segment.vectors,
          scales: segment.scales,
          planes: segment.planeTable,
          at: 0,
          distances: segment.distances,
          count,
        })),
        histograms: scratch.histograms,
      };
      // The groups' member counts bound the filter's members from above: at most the bound, the cosine
      // pass runs straight away; above it (faces in several searched groups), the Hamming pass's histogram
      // counts them, and the cosine pass follows if they are few enough.
      const byCosine = (members: number) => !everyFace && members > this.shortlist && members <= this.cosineScanUpTo;
      const countsMembers = (histogram: Uint32Array) => byCosine(histogram.reduce((sum, bin) => sum + bin, 0));
      if (byCosine(membersAtMost)) job.kernel = 'cosines';
      let histogram: Uint32Array | undefined;
      if (parallel) {
        histogram = await this.scanInThreads(contents, job);
        if (histogram && job.kernel === 'hamming' && countsMembers(histogram)) histogram = await this.scanInThreads(contents, { ...job, kernel: 'cosines' });
      } else {
        // Synchronous: nothing can move a slot meanwhile.
        histogram = this.scanHere(contents, job);
        if (job.kernel === 'hamming' && countsMembers(histogram)) histogram = this.scanHere(contents, { ...job, kernel: 'cosines' });
      }
      if (!histogram || this.epoch !== epoch) {
        // Slots moved under the scan (or the contents were swapped): again, leaving no query copy behind.
        forgetQuery();
        continue;
      }
      // The distance that admits `shortlist` faces, and how many it admits.
      let threshold = CODE_BITS;
      let admitted = 0;
      for (let distance = 0; distance <= CODE_BITS; distance++) {
        admitted += histogram[distance]!;
        if (admitted >= this.shortlist) {
          threshold = distance;
          break;
        }
      }

      // Pass 2, segment by segment: int8 cosines of the shortlisted slots; keep the best `limit + EXACT_EXTRA`
      // that can still qualify. At most `most` slots are scored, taken in slot order: when ties at the
      // threshold would overflow that, every slot below the threshold (fewer than `shortlist`) is taken
      // first, and only then the tied ones, so no slot closer than the threshold is ever cut off.
      const minCosine = options.minCosine ?? -Infinity;
      const best = new BestList(limit + EXACT_EXTRA);
      const most = 2 * this.shortlist;
      const rounds: Array<[number, number]> = admitted <= most || threshold === 0 ? [[0, threshold]] : [[0, threshold - 1], [threshold, threshold]];
      let shortlisted = 0;
      for (const [low, high] of rounds) {
        for (const { segment, count } of ranges) {
          if (shortlisted >= most) break;
          const slotsAt = scratch.slots + shortlisted * 4;
          const dotsAt = scratch.dots + shortlisted * 4;
          const found = kernels.collect(segment.distances, count, low, high, slotsAt, most - shortlisted);
          kernels.dots(scratch.queryVector, segment.vectors, this.paddedDimension, slotsAt, found, dotsAt);
          const slots = heap.words32.subarray(slotsAt / 4, slotsAt / 4 + found);
          const dots = new Int32Array(heap.memory.buffer, dotsAt, found);
          for (let k = 0; k < found; k++) {
            const local = slots[k]!;
            const cosine = dots[k]! * queryScale * heap.floats[segment.scales / 4 + local]!;
            if (cosine + INT8_TOLERANCE < minCosine || !best.admits(cosine)) continue;
            if (thresholdBits.length > 0 && !passesAGroup(heap.words32, segment.planes, local, cosine + INT8_TOLERANCE, thresholdBits, thresholds)) continue;
            best.insert(segment.start + local, cosine);
          }
          shortlisted += found;
        }
      }
      // The query's int8 copy is biometric data too: it does not outlive the search.
      forgetQuery();
      return best.slots().map((slot) => ({ faceToken: contents.tokens.tokenAt(slot), groupIds: this.groupIdsAt(slot) }));
    }
  }

  /**
   * Pass 1 with `job.kernel` over every slot of the job, shared by the scan threads: the summed histogram of
   * the members' distances (the distances per slot are in the segments' arrays), or undefined when a removal,
   * a widening or a swap overtook the scan (its slot numbers are then stale).
   */
  private async scanInThreads(contents: Contents, job: ScanJob): Promise<Uint32Array | undefined> {
    const epoch = this.epoch;
    const { heap } = contents;
    heap.bytes.fill(0, job.histograms, job.histograms + this.threadCount * HISTOGRAM_BYTES);
    this.threads ??= new ScanThreads(this.threadCount, heap.memory);
    await this.threads.scan(job);
    return this.epoch === epoch ? summedHistogram(heap, job.histograms, this.threadCount) : undefined;
  }

  /** The same on this thread. */
  private scanHere({ heap, kernels }: Contents, job: ScanJob): Uint32Array {
    heap.bytes.fill(0, job.histograms, job.histograms + HISTOGRAM_BYTES);
    const { ranges, histograms, ...query } = job;
    runScan(kernels, { ...query, ranges, histogram: histograms });
    return summedHistogram(heap, job.histograms, 1);
  }

  private emptyContents(capacity: number): Contents {
    const scratchBytes = (bytes: number) => align16(bytes);
    const histogramCount = Math.max(1, this.threadCount);
    const shortlistMax = 2 * this.shortlist;
    const firstSegment = capacity * (CODE_BYTES + this.paddedDimension + 4 + 2 + INITIAL_WORDS * 4) + 16 * (INITIAL_WORDS + 5);
    const heap = new IndexMemory(
      scratchBytes(CODE_BYTES) + scratchBytes(this.paddedDimension) + scratchBytes(histogramCount * HISTOGRAM_BYTES) +
        2 * scratchBytes(shortlistMax * 4) + firstSegment + 1024,
    );
    const scratch: Scratch = {
      queryCode: heap.allocate(CODE_BYTES),
      queryVector: heap.allocate(this.paddedDimension),
      histograms: heap.allocate(histogramCount * HISTOGRAM_BYTES),
      slots: heap.allocate(shortlistMax * 4),
      dots: heap.allocate(shortlistMax * 4),
    };
    const contents: Contents = {
      heap,
      kernels: instantiateKernels(heap.memory),
      scratch,
      segments: [],
      words: INITIAL_WORDS,
      mask: heap.allocate(INITIAL_WORDS * 4),
      count: 0,
      tokens: new TokenTable(capacity),
      bitOf: new Map(),
      groupOfBit: [undefined],
      freeBits: [],
      members: [],
    };
    contents.segments.push(this.newSegment(contents, 0, capacity));
    return contents;
  }

  private newSegment({ heap, words }: Contents, start: number, capacity: number): Segment {
    const segment = {
      start,
      capacity,
      codes: heap.allocate(capacity * CODE_BYTES),
      vectors: heap.allocate(capacity * this.paddedDimension),
      scales: heap.allocate(capacity * 4),
      distances: heap.allocate(capacity * 2),
      planes: Array.from({ length: words }, () => heap.allocate(capacity * 4)),
      planeTable: 0,
    };
    listPlanes(heap, segment);
    return segment;
  }

  /** Room for more faces: a new segment after the last (the memory grows in place; nothing moves). */
  private appendSegment(): void {
    const capacity = this.capacity;
    const slots = Math.min(MAX_SEGMENT_SLOTS, Math.max(MIN_SEGMENT_SLOTS, Math.ceil(capacity / 2)));
    this.contents.segments.push(this.newSegment(this.contents, capacity, slots));
  }

  /**
   * Room for more group bits: a plane more in each segment, zeroed (pages the system maps in as bits are
   * set), so nothing is copied however many faces there are.
   */
  private widen(words: number): void {
    this.epoch += 1; // the scan reads the plane lists, which move
    const contents = this.contents;
    const { heap } = contents;
    for (const segment of contents.segments) {
      heap.release(segment.planeTable, segment.planes.length * 4);
      while (segment.planes.length < words) segment.planes.push(heap.allocate(segment.capacity * 4));
      listPlanes(heap, segment);
    }
    heap.release(contents.mask, contents.words * 4);
    contents.mask = heap.allocate(words * 4);
    contents.words = words;
  }

  /** The segment holding `slot` (binary search: there are a few dozen at most). */
  private segmentOf(slot: number): Segment {
    const segments = this.contents.segments;
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (segments[middle]!.start <= slot) low = middle;
      else high = middle - 1;
    }
    return segments[low]!;
  }

  private groupIdsAt(slot: number): string[] {
    const { words, heap, groupOfBit } = this.contents;
    const groupIds: string[] = [];
    const segment = this.segmentOf(slot);
    for (let w = 0; w < words; w++) {
      let bits = heap.words32[segment.planes[w]! / 4 + slot - segment.start]!;
      while (bits !== 0) {
        const low = 31 - Math.clz32(bits & -bits);
        const groupId = groupOfBit[w * BITS_PER_WORD + low];
        if (groupId !== undefined) groupIds.push(groupId);
        bits &= bits - 1;
      }
    }
    return groupIds;
  }

  private writeGroups(slot: number, groupIds: Iterable<string>): void {
    const bits: number[] = [];
    for (const groupId of groupIds) bits.push(this.bitFor(groupId)); // may widen: offsets read after
    const { words32 } = this.contents.heap;
    const { planes, start } = this.segmentOf(slot);
    const local = slot - start;
    this.countGroups(planes, local, -1);
    for (let w = 0; w < this.contents.words; w++) words32[planes[w]! / 4 + local] = 0;
    words32[planes[0]! / 4 + local]! |= 1 << EVERY_FACE_BIT;
    for (const bit of bits) words32[planes[bit >>> 5]! / 4 + local]! |= 1 << (bit & 31);
    this.countGroups(planes, local, +1);
  }

  /** Adds `delta` to the member count of each group the face at `local` in a segment with these planes is in. */
  private countGroups(planes: readonly number[], local: number, delta: number): void {
    const { words, heap, members } = this.contents;
    for (let w = 0; w < words; w++) {
      let bits = heap.words32[planes[w]! / 4 + local]!;
      if (w === 0) bits &= ~(1 << EVERY_FACE_BIT);
      while (bits !== 0) {
        const low = 31 - Math.clz32(bits & -bits);
        members[w * BITS_PER_WORD + low]! += delta;
        bits &= bits - 1;
      }
    }
  }

  private bitFor(groupId: string): number {
    const contents = this.contents;
    const existing = contents.bitOf.get(groupId);
    if (existing !== undefined) return existing;
    const bit = contents.freeBits.pop() ?? contents.groupOfBit.length;
    contents.bitOf.set(groupId, bit);
    contents.groupOfBit[bit] = groupId;
    contents.members[bit] = 0;
    if (bit >= contents.words * BITS_PER_WORD) this.widen(Math.floor(bit / BITS_PER_WORD) + 1);
    return bit;
  }
}

/** The sum of `count` consecutive histograms (one per scan thread). */
function summedHistogram(heap: IndexMemory, at: number, count: number): Uint32Array {
  const bins = HISTOGRAM_BYTES / 4;
  const histograms = new Uint32Array(heap.memory.buffer, at, count * bins);
  const sum = histograms.slice(0, bins);
  for (let h = 1; h < count; h++) for (let d = 0; d < bins; d++) sum[d]! += histograms[h * bins + d]!;
  return sum;
}

/** Lists the segment's plane offsets in a fresh region of the memory, for the scan kernel. */
function listPlanes(heap: IndexMemory, segment: Segment): void {
  segment.planeTable = heap.allocate(segment.planes.length * 4);
  heap.words32.set(segment.planes, segment.planeTable / 4);
}

function passesAGroup(words32: Uint32Array, planes: readonly number[], local: number, cosine: number, bits: number[], thresholds: number[]): boolean {
  for (let k = 0; k < bits.length; k++) {
    const bit = bits[k]!;
    if ((words32[planes[bit >>> 5]! / 4 + local]! & (1 << (bit & 31))) !== 0 && cosine >= thresholds[k]!) return true;
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
