import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { instantiateKernels, sharedMemory } from '../src/index/scan-kernels.js';
import { exactFrom, VectorIndex, type IndexCandidate, type VectorIndexOptions } from '../src/index/vector-index.js';
import { randomUnitVector, seededRandom } from './helpers/random-vectors.js';

const DIMENSION = 64;

interface Entry {
  embedding: Float32Array;
  groups: Set<string>;
}

/** The reference: score every face, filter, sort, cut. */
function bruteForce(
  entries: Map<string, Entry>,
  query: Float32Array,
  groups: string[],
  limit: number,
  minCosine: number,
  groupMinCosine?: Map<string, number>,
): Array<{ faceToken: string; cosine: number }> {
  const results: Array<{ faceToken: string; cosine: number }> = [];
  for (const [faceToken, entry] of entries) {
    const searched = groups.filter((groupId) => entry.groups.has(groupId));
    if (searched.length === 0) continue;
    let cosine = 0;
    for (let i = 0; i < DIMENSION; i++) cosine += entry.embedding[i]! * query[i]!;
    if (cosine < minCosine) continue;
    if (groupMinCosine && !searched.some((groupId) => cosine >= (groupMinCosine.get(groupId) ?? -Infinity))) continue;
    results.push({ faceToken, cosine });
  }
  results.sort((a, b) => b.cosine - a.cosine);
  return results.slice(0, limit);
}

function assertSameResults(actual: IndexCandidate[], expected: Array<{ faceToken: string; cosine: number }>, entries: Map<string, Entry>) {
  assert.deepEqual(
    actual.map((candidate) => candidate.faceToken),
    expected.map((candidate) => candidate.faceToken),
  );
  for (const [k, candidate] of actual.entries()) {
    assert.ok(Math.abs(candidate.cosine - expected[k]!.cosine) < 1e-9);
    assert.deepEqual([...candidate.groupIds].sort(), [...entries.get(candidate.faceToken)!.groups].sort());
  }
}

/** An index whose exact pass reads the vectors from `vectors` (the test's stand-in for the store). */
function indexOver(dimension: number, vectors: Map<string, Float32Array>, options: Partial<VectorIndexOptions> = {}) {
  return new VectorIndex(dimension, { exact: exactFrom(vectors), ...options });
}

describe('VectorIndex', () => {
  const scanModes = [
    ['on the calling thread', {}],
    ['in two scan threads', { parallelFrom: 1, scanThreads: 2 }],
  ] as const;
  for (const [where, scanning] of scanModes) it(`matches brute force through adds, removals, regrouping and group drops, scanning ${where}`, async () => {
    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // 130 groups: the group bitsets widen from three 32-bit words a face to five as groups come into use.
    const groupIds = Array.from({ length: 130 }, (_, i) => (i === 0 ? 'default' : `g${i}`));
    const randomGroups = (): Set<string> => {
      const groups = new Set<string>();
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) groups.add(pick(groupIds));
      return groups;
    };

    const entries = new Map<string, Entry>();
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { initialCapacity: 4, ...scanning }); // tiny capacity: exercises growth
    let nextToken = 0;

    const check = async () => {
      assert.equal(index.size, entries.size);
      // The member count of each group (which picks pass 1's kernel) stays exact through every change.
      const { bitOf, members } = (index as unknown as { contents: { bitOf: Map<string, number>; members: number[] } }).contents;
      for (const [groupId, bit] of bitOf) {
        assert.equal(members[bit], [...entries.values()].filter((entry) => entry.groups.has(groupId)).length, groupId);
      }
      for (let q = 0; q < 5; q++) {
        const query = randomUnitVector(random, DIMENSION);
        const searched = [...randomGroups()];
        const limit = 1 + Math.floor(random() * 5);
        const minCosine = random() < 0.5 ? -Infinity : random() * 0.3 - 0.15;
        const thresholds =
          random() < 0.5 ? new Map(searched.map((groupId) => [groupId, random() * 0.4 - 0.2])) : undefined;
        const actual = await index.search(query, { groups: searched, limit, minCosine, groupMinCosine: thresholds });
        assertSameResults(actual, bruteForce(entries, query, searched, limit, minCosine, thresholds), entries);
      }
    };

    for (let step = 0; step < 1500; step++) {
      const action = random();
      const tokens = [...entries.keys()];
      if (action < 0.6 || tokens.length === 0) {
        const faceToken = `face-${nextToken++}`;
        const entry = { embedding: randomUnitVector(random, DIMENSION), groups: randomGroups() };
        index.add(faceToken, entry.embedding, entry.groups);
        entries.set(faceToken, entry);
        vectors.set(faceToken, entry.embedding);
      } else if (action < 0.8) {
        const faceToken = pick(tokens);
        assert.equal(index.remove(faceToken), true);
        entries.delete(faceToken);
        vectors.delete(faceToken);
      } else if (action < 0.97) {
        const faceToken = pick(tokens);
        const groups = randomGroups();
        assert.equal(index.updateGroups(faceToken, groups), true);
        entries.get(faceToken)!.groups = groups;
      } else {
        const groupId = pick(groupIds);
        index.dropGroup(groupId);
        for (const entry of entries.values()) entry.groups.delete(groupId);
      }
      if (step % 50 === 0) await check();
    }
    await check();
    await index.close();
  });

  it('answers for the faces left when removals overtake a scan in the threads', async () => {
    const random = seededRandom(3);
    const entries = new Map<string, Entry>();
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { parallelFrom: 1, scanThreads: 2, shortlist: 16 });
    const add = (faceToken: string, embedding: Float32Array) => {
      entries.set(faceToken, { embedding, groups: new Set(['default']) });
      vectors.set(faceToken, embedding);
      index.add(faceToken, embedding, ['default']);
    };
    for (let i = 0; i < 3000; i++) add(`r${i}`, randomUnitVector(random, DIMENSION));
    // Ten tight clusters in the last slots: every removal below moves one of them into the hole.
    const centres = Array.from({ length: 10 }, () => randomUnitVector(random, DIMENSION));
    centres.forEach((centre, c) => {
      for (let m = 0; m < 10; m++) {
        const member = centre.map((x) => x + (random() - 0.5) * 0.05);
        const norm = Math.hypot(...member);
        add(`c${c}-${m}`, member.map((x) => x / norm));
      }
    });
    await index.search(centres[0]!, { groups: ['default'], limit: 5 }); // the threads are up
    for (let round = 0; round < centres.length; round++) {
      const centre = centres[centres.length - 1 - round]!; // the cluster in the last slots, about to move
      const searching = index.search(centre, { groups: ['default'], limit: 5 });
      await Promise.resolve(); // the scan is now in the threads' hands:
      for (const started = Date.now(); Date.now() - started < 30; ); // they finish it while this thread is busy
      for (let i = round * 10; i < round * 10 + 10; i++) {
        index.remove(`r${i}`);
        entries.delete(`r${i}`);
        vectors.delete(`r${i}`);
      }
      assertSameResults(await searching, bruteForce(entries, centre, ['default'], 5, -Infinity), entries);
    }
    await index.close();
  });

  for (const [where, scanning] of scanModes) it(`finds a filter's noise-level neighbours through a small shortlist (int8 cosine scan), scanning ${where}`, async () => {
    // No query has a true match: its top 5 are random faces at cosine ~0.3 among 3,000, which a shortlist of
    // 32 ranked by 64-bit sign codes misses often (their Hamming distance is too coarse a proxy).
    const random = seededRandom(23);
    const entries = new Map<string, Entry>();
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { shortlist: 32, ...scanning });
    for (let i = 0; i < 3000; i++) {
      const embedding = randomUnitVector(random, DIMENSION);
      const groups = new Set(i % 3 === 0 ? ['default'] : ['default', 'g']);
      entries.set(`f${i}`, { embedding, groups });
      vectors.set(`f${i}`, embedding);
      index.add(`f${i}`, embedding, groups);
    }
    for (let q = 0; q < 20; q++) {
      const query = randomUnitVector(random, DIMENSION);
      const actual = await index.search(query, { groups: ['g'], limit: 5 });
      assertSameResults(actual, bruteForce(entries, query, ['g'], 5, -Infinity), entries);
    }
    await index.close();
  });

  it('never cuts off closer faces when ties at the shortlist threshold overflow what pass 2 scores', async () => {
    const random = seededRandom(29);
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { shortlist: 8 }); // pass 2 scores at most 16
    const near = (centre: Float32Array, noise: number) => {
      const offset = randomUnitVector(random, DIMENSION);
      const vector = centre.map((x, i) => x + noise * offset[i]!);
      const norm = Math.hypot(...vector);
      return vector.map((x) => x / norm);
    };
    const query = randomUnitVector(random, DIMENSION);
    // 100 copies of one face in the first slots: one distance, by code and by cosine, past the 8 closest…
    const copy = near(query, 1.5);
    for (let i = 0; i < 100; i++) {
      vectors.set(`copy${i}`, copy);
      index.add(`copy${i}`, copy, ['default']);
    }
    // …and the three closest faces after them.
    for (let i = 0; i < 3; i++) {
      vectors.set(`close${i}`, near(query, 0.2));
      index.add(`close${i}`, vectors.get(`close${i}`)!, ['default']);
    }
    for (const groups of [undefined, ['default']]) {
      const found = await index.search(query, { groups, limit: 5 });
      assert.deepEqual(found.slice(0, 3).map((candidate) => candidate.faceToken).sort(), ['close0', 'close1', 'close2']);
      assert.ok(found.slice(3).every((candidate) => candidate.faceToken.startsWith('copy')));
    }
  });

  it('runs the cosines kernel as a slow reference does: bucketed int8 cosines of members, 0xFFFF for the others, their histogram', () => {
    const random = seededRandom(31);
    const memory = sharedMemory(1 << 20);
    const kernels = instantiateKernels(memory);
    const bytes = new Uint8Array(memory.buffer);
    const view = new DataView(memory.buffer);
    const roundHalfEven = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
    const int8 = () => Math.floor(random() * 255) - 127;
    for (const [dim, count, words, first] of [[48, 37, 2, 3], [16, 1, 1, 0], [64, 0, 1, 0], [16, 129, 3, 5]] as const) {
      bytes.fill(0);
      const [query, vectors, scales, planeTable, mask, out, hist] = [0, 4096, 65536, 81920, 82944, 90112, 200000];
      const planes = Array.from({ length: words }, (_, w) => 100000 + w * 4096);
      const queryVector = Array.from({ length: dim }, int8);
      queryVector.forEach((value, i) => view.setInt8(query + i, value));
      const queryScale = Math.fround(1 / (127 * Math.sqrt(dim) * 0.55));
      const maskWords = Array.from({ length: words }, () => (random() * 2 ** 32) >>> 0);
      maskWords.forEach((word, w) => view.setUint32(mask + 4 * w, word, true));
      planes.forEach((plane, w) => view.setUint32(planeTable + 4 * w, plane, true));
      const expected: number[] = [];
      const histogram = Array.from({ length: 513 }, () => Math.floor(random() * 5)); // the kernel adds to it
      histogram.forEach((bin, d) => view.setUint32(hist + 4 * d, bin, true));
      for (let slot = 0; slot < count; slot++) {
        // some slots are ± the query itself: with scales up to 2×, their cosines pass ±1 and are clamped
        const kind = random();
        const vector = kind < 0.1 ? queryVector : kind < 0.2 ? queryVector.map((x) => -x) : Array.from({ length: dim }, int8);
        vector.forEach((value, i) => view.setInt8(vectors + slot * dim + i, value));
        const scale = Math.fround((random() * 2) / (127 * Math.sqrt(dim) * 0.55));
        view.setFloat32(scales + slot * 4, scale, true);
        let member = false;
        for (let w = 0; w < words; w++) {
          const word = random() < 0.3 ? (random() * 2 ** 32) >>> 0 : 0;
          view.setUint32(planes[w]! + 4 * (first + slot), word, true);
          member ||= (word & maskWords[w]!) !== 0;
        }
        if (!member) {
          expected.push(0xffff);
          continue;
        }
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += queryVector[i]! * vector[i]!;
        const cosine = Math.fround(Math.fround(Math.fround(dot) * queryScale) * scale);
        const distance = Math.min(512, Math.max(0, roundHalfEven(Math.fround(Math.fround(1 - cosine) * 256))));
        expected.push(distance);
        histogram[distance]! += 1;
      }
      kernels.cosines(query, vectors, dim, scales, queryScale, planeTable, first * 4, words, mask, count, out, hist);
      assert.deepEqual(Array.from({ length: count }, (_, slot) => view.getUint16(out + 2 * slot, true)), expected);
      assert.deepEqual(Array.from({ length: 513 }, (_, d) => view.getUint32(hist + 4 * d, true)), histogram);
      assert.equal(view.getUint16(out + 2 * count, true), 0, 'nothing written past the last slot');
      if (count > 30) assert.ok(expected.includes(0) && expected.includes(512), 'both clamps were exercised');
      // collect: the slots within [low, high], in slot order, at most `max`
      const within = expected.flatMap((d, slot) => (d >= 200 && d <= 300 ? [slot] : []));
      const found = kernels.collect(out, count, 200, 300, 300000, 1000);
      assert.deepEqual(Array.from({ length: found }, (_, k) => view.getUint32(300000 + 4 * k, true)), within);
      assert.equal(kernels.collect(out, count, 200, 300, 300000, 2), Math.min(2, within.length));
    }
  });

  it('collects the slots a slow reference collects: distances within [low, high], in slot order, at most max', () => {
    const random = seededRandom(41);
    const memory = sharedMemory(1 << 20);
    const kernels = instantiateKernels(memory);
    const view = new DataView(memory.buffer);
    const [out, result] = [1000, 400000]; // out not 16-byte aligned: the kernel reads blocks of 8 anywhere
    for (const count of [0, 1, 7, 8, 9, 15, 16, 17, 100, 1003]) {
      const distances = Array.from({ length: count }, () => (random() < 0.2 ? 0xffff : Math.floor(random() * 513)));
      distances.forEach((d, slot) => view.setUint16(out + 2 * slot, d, true));
      view.setUint16(out + 2 * count, 250, true); // in range, but past the last slot: never collected
      for (const [low, high] of [[0, 512], [200, 300], [250, 250], [0, 0], [0, 0xffff], [513, 0xfffe]] as const) {
        const within = distances.flatMap((d, slot) => (d >= low && d <= high ? [slot] : []));
        for (const max of [0, 1, 3, 8, 9, within.length, within.length + 5]) {
          const found = kernels.collect(out, count, low, high, result, max);
          const expected = within.slice(0, max);
          assert.equal(found, expected.length, `count ${count}, [${low}, ${high}], max ${max}`);
          assert.deepEqual(Array.from({ length: found }, (_, k) => view.getUint32(result + 4 * k, true)), expected);
        }
      }
    }
  });

  it('finds an indexed vector as its own best match, with the exact stored cosine', async () => {
    const random = seededRandom(11);
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors);
    for (let i = 0; i < 200; i++) {
      const vector = randomUnitVector(random, DIMENSION);
      vectors.set(`f${i}`, vector);
      index.add(`f${i}`, vector, ['default']);
    }
    const query = vectors.get('f123')!;
    const [best] = await index.search(query, { groups: ['default'], limit: 1 });
    assert.equal(best?.faceToken, 'f123');
    let exact = 0;
    for (let i = 0; i < DIMENSION; i++) exact += query[i]! * query[i]!;
    assert.equal(best.cosine, exact);
  });

  it('finds near neighbours through a shortlist far smaller than the gallery', async () => {
    const random = seededRandom(5);
    const dimension = 512;
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(dimension, vectors, { shortlist: 16 });
    for (let i = 0; i < 3000; i++) {
      const vector = randomUnitVector(random, dimension);
      vectors.set(`f${i}`, vector);
      index.add(`f${i}`, vector, i % 2 === 0 ? ['default', 'even'] : ['default']);
    }
    for (let probe = 0; probe < 20; probe++) {
      const target = 2 * Math.floor(random() * 1500);
      // A second sample of the same "identity": cosine ≈ 0.7 to the target, ≈ 0 to everyone else.
      const noise = randomUnitVector(random, dimension);
      const query = vectors.get(`f${target}`)!.map((value, i) => value + noise[i]!);
      const norm = Math.hypot(...query);
      for (let i = 0; i < dimension; i++) query[i]! /= norm;
      for (const groups of [['default'], ['even']]) {
        const found = await index.search(query, { groups, limit: 3 });
        assert.equal(found[0]?.faceToken, `f${target}`);
        assert.equal(found.length, 3);
        if (groups[0] === 'even') assert.ok(found.every((candidate) => candidate.groupIds.includes('even')));
      }
    }
  });

  it('leaves out faces the store no longer has (deleted between the scan and the exact pass)', async () => {
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(2, vectors);
    for (const [token, vector] of [['a', [1, 0]], ['b', [0.8, 0.6]]] as const) {
      vectors.set(token, new Float32Array(vector));
      index.add(token, new Float32Array(vector), ['default']);
    }
    vectors.delete('a');
    const found = await index.search(new Float32Array([1, 0]), { groups: ['default'], limit: 5 });
    assert.deepEqual(found.map((candidate) => candidate.faceToken), ['b']);
  });

  it('only returns faces of the searched groups, above the threshold', async () => {
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(2, vectors);
    const add = (token: string, vector: number[], groups: string[]) => {
      vectors.set(token, new Float32Array(vector));
      index.add(token, new Float32Array(vector), groups);
    };
    add('a', [1, 0], ['default']);
    add('b', [0.8, 0.6], ['g']);
    add('c', [0, 1], ['default', 'g']);
    const query = new Float32Array([1, 0]);
    const tokens = async (search: Parameters<VectorIndex['search']>[1]) =>
      (await index.search(query, search)).map((candidate) => candidate.faceToken);
    assert.deepEqual(await tokens({ groups: ['g'], limit: 5 }), ['b', 'c']);
    assert.deepEqual(await tokens({ groups: ['g'], limit: 5, minCosine: 0.5 }), ['b']);
    assert.deepEqual(await tokens({ groups: ['unknown'], limit: 5 }), []);
    // Per-group thresholds: b passes only through g's (lower) threshold.
    const thresholds = new Map([
      ['default', 0.9],
      ['g', 0.7],
    ]);
    assert.deepEqual(await tokens({ groups: ['default', 'g'], limit: 5, groupMinCosine: thresholds }), ['a', 'b']);
    index.dropGroup('g');
    assert.deepEqual(index.groupsOf('c'), ['default']);
    assert.deepEqual(await tokens({ groups: ['g'], limit: 5 }), []);
    index.clear();
    assert.equal(index.size, 0);
    assert.deepEqual(await tokens({ groups: ['default'], limit: 5 }), []);
  });

  it('grows in place: a full index appends room, and the faces it held stay where they were', async () => {
    const random = seededRandom(13);
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { initialCapacity: 4 });
    const internals = index as unknown as { contents: { heap: { memory: WebAssembly.Memory; bytes: Uint8Array }; segments: Array<{ vectors: number }> } };
    const add = (count: number) => {
      for (let i = vectors.size, end = vectors.size + count; i < end; i++) {
        const vector = randomUnitVector(random, DIMENSION);
        vectors.set(`f${i}`, vector);
        index.add(`f${i}`, vector, ['default']);
      }
    };
    add(4);
    const { memory } = internals.contents.heap;
    const firstVectors = internals.contents.segments[0]!.vectors;
    const held = internals.contents.heap.bytes.slice(firstVectors, firstVectors + 4 * DIMENSION);
    add(300); // several growth steps
    assert.ok(index.capacity >= 304);
    assert.equal(internals.contents.heap.memory, memory, 'the same memory, grown');
    assert.equal(internals.contents.segments[0]!.vectors, firstVectors);
    assert.deepEqual(internals.contents.heap.bytes.slice(firstVectors, firstVectors + 4 * DIMENSION), held);
    const [best] = await index.search(vectors.get('f2')!, { groups: ['default'], limit: 1 });
    assert.equal(best?.faceToken, 'f2');
  });

  it('takes over a freshly built index at once, and zeroes the memory of what it held', async () => {
    const random = seededRandom(17);
    const vectors = new Map<string, Float32Array>();
    const index = indexOver(DIMENSION, vectors, { parallelFrom: 1, scanThreads: 2 });
    const fill = (target: VectorIndex, prefix: string) => {
      for (let i = 0; i < 500; i++) {
        const vector = randomUnitVector(random, DIMENSION);
        vectors.set(`${prefix}${i}`, vector);
        target.add(`${prefix}${i}`, vector, ['default', prefix]);
      }
    };
    fill(index, 'old');
    const fresh = index.emptyLike();
    fill(fresh, 'new');
    const old = (index as unknown as { contents: { heap: { bytes: Uint8Array }; segments: Array<{ codes: number; vectors: number; capacity: number }> } }).contents;
    const oldCopies = () =>
      old.segments.some(({ codes, vectors, capacity }) =>
        [old.heap.bytes.subarray(codes, codes + capacity * 64), old.heap.bytes.subarray(vectors, vectors + capacity * DIMENSION)].some((region) => region.some((byte) => byte !== 0)));
    assert.equal(oldCopies(), true);
    await index.search(vectors.get('old1')!, { limit: 1 }); // the threads are up
    // A search whose scan is in the threads when the swap lands is redone on the new contents.
    const searching = index.search(vectors.get('new7')!, { limit: 1 });
    await Promise.resolve();
    const swapped = index.replaceWith(fresh);
    assert.equal(index.size, 500);
    assert.equal(index.has('new0') && !index.has('old0'), true);
    assert.deepEqual(index.groupsOf('new3'), ['default', 'new']);
    assert.equal(fresh.size, 0);
    assert.equal((await searching)[0]?.faceToken, 'new7');
    await swapped;
    assert.equal(oldCopies(), false, 'no sign code nor int8 copy of the old faces is left');
    assert.equal((await index.search(vectors.get('new9')!, { groups: ['new'], limit: 1 }))[0]?.faceToken, 'new9');
    await index.close();
  });

  it('keeps no copy of a removed or cleared vector in its memory', () => {
    const random = seededRandom(11);
    const index = indexOver(DIMENSION, new Map(), { initialCapacity: 4 });
    const vectors = ['a', 'b', 'c'].map((token) => [token, randomUnitVector(random, DIMENSION)] as const);
    for (const [token, embedding] of vectors) index.add(token, embedding, ['default']);
    // The index's own memory (private): what a heap dump would show. Only int8 copies live there.
    const internals = index as unknown as { contents: { heap: { bytes: Uint8Array }; segments: Array<{ vectors: number; capacity: number }> } };
    const bytes = () => internals.contents.heap.bytes;
    const floatCopy = (embedding: Float32Array) => Buffer.from(bytes().buffer).includes(Buffer.from(embedding.buffer));
    const int8Copies = () => {
      const { vectors: at, capacity } = internals.contents.segments[0]!;
      return Array.from({ length: capacity }, (_, slot) => bytes().subarray(at + slot * DIMENSION, at + (slot + 1) * DIMENSION).some((byte) => byte !== 0));
    };
    assert.deepEqual(int8Copies(), [true, true, true, false]);
    index.remove('a'); // a hole the last vector moves into
    index.remove('b'); // the last slot
    assert.deepEqual(int8Copies(), [true, false, false, false]);
    for (const [, embedding] of vectors) assert.equal(floatCopy(embedding), false);
    index.clear();
    assert.deepEqual(int8Copies(), [false, false, false, false]);
  });

  it('without groups searches every face, those bound to no group included', async () => {
    const vectors = new Map([
      ['grouped', Float32Array.from([1, 0])],
      ['unbound', Float32Array.from([0.8, 0.6])],
      ['far', Float32Array.from([0, 1])],
    ]);
    const index = indexOver(2, vectors);
    index.add('grouped', vectors.get('grouped')!, ['g']);
    index.add('unbound', vectors.get('unbound')!, []);
    index.add('far', vectors.get('far')!, ['default']);
    const query = Float32Array.from([1, 0]);
    assert.deepEqual((await index.search(query, { limit: 5, minCosine: 0.5 })).map((c) => c.faceToken), ['grouped', 'unbound']);
    assert.deepEqual(await index.search(query, { groups: ['default'], limit: 5, minCosine: 0.5 }), []);
    // Dropping every group leaves the faces searchable without a filter; a wipe empties the index.
    index.dropGroup('g');
    index.dropGroup('default');
    assert.deepEqual((await index.search(query, { limit: 5 })).map((c) => [c.faceToken, c.groupIds]), [['grouped', []], ['unbound', []], ['far', []]]);
    index.clear();
    index.add('far', vectors.get('far')!, ['h']);
    assert.deepEqual((await index.search(query, { limit: 5 })).map((c) => [c.faceToken, c.groupIds]), [['far', ['h']]]);
  });

  it('keeps its face tokens off the JavaScript heap (no per-face objects for the garbage collector to mark)', () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const faces = 200_000;
    const index = indexOver(16, new Map(), { initialCapacity: faces });
    const vector = randomUnitVector(seededRandom(5), 16);
    collect();
    const before = process.memoryUsage().heapUsed;
    // Tokens like the server's (24 characters), created here and dropped: only what the index keeps stays.
    for (let i = 0; i < faces; i++) index.add(`${i}`.padStart(24, 'f'), vector, ['default']);
    collect();
    const heldPerFace = (process.memoryUsage().heapUsed - before) / faces;
    // A Map and an array of 200,000 strings held ~80 bytes a face on the heap.
    assert.ok(heldPerFace < 8, `${heldPerFace.toFixed(1)} heap bytes held per face`);
    assert.equal(index.has('f'.repeat(18) + '123456'), true);
  });

  it('rejects vectors of the wrong size', async () => {
    const index = indexOver(3, new Map());
    assert.throws(() => index.add('x', new Float32Array(2), ['default']));
    await assert.rejects(index.search(new Float32Array(4), { groups: ['default'], limit: 1 }));
  });

  it('runs the kernels assembled from their .wat sources (the .wasm files built at install are not stale)', () => {
    execFileSync(process.execPath, [new URL('../scripts/build-kernels.mjs', import.meta.url).pathname, '--check'], { stdio: 'pipe' });
  });
});
