import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorIndex, type IndexCandidate } from '../src/index/vector-index.js';
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

describe('VectorIndex', () => {
  it('matches brute force through adds, removals, regrouping and group drops', () => {
    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // 70 groups: membership needs three 32-bit words per face.
    const groupIds = Array.from({ length: 70 }, (_, i) => (i === 0 ? 'default' : `g${i}`));
    const randomGroups = (): Set<string> => {
      const groups = new Set<string>();
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) groups.add(pick(groupIds));
      return groups;
    };

    const index = new VectorIndex(DIMENSION, 4); // tiny capacity: exercises growth
    const entries = new Map<string, Entry>();
    let nextToken = 0;

    const check = () => {
      assert.equal(index.size, entries.size);
      for (let q = 0; q < 5; q++) {
        const query = randomUnitVector(random, DIMENSION);
        const searched = [...randomGroups()];
        const limit = 1 + Math.floor(random() * 5);
        const minCosine = random() < 0.5 ? -Infinity : random() * 0.3 - 0.15;
        const thresholds =
          random() < 0.5 ? new Map(searched.map((groupId) => [groupId, random() * 0.4 - 0.2])) : undefined;
        const actual = index.search(query, { groups: searched, limit, minCosine, groupMinCosine: thresholds });
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
      } else if (action < 0.8) {
        const faceToken = pick(tokens);
        assert.equal(index.remove(faceToken), true);
        entries.delete(faceToken);
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
      if (step % 50 === 0) check();
    }
    check();
  });

  it('finds an indexed vector as its own best match', () => {
    const random = seededRandom(11);
    const index = new VectorIndex(DIMENSION);
    const vectors = Array.from({ length: 200 }, () => randomUnitVector(random, DIMENSION));
    vectors.forEach((vector, i) => index.add(`f${i}`, vector, ['default']));
    const [best] = index.search(vectors[123]!, { groups: ['default'], limit: 1 });
    assert.equal(best?.faceToken, 'f123');
    assert.ok(Math.abs(best.cosine - 1) < 1e-6);
  });

  it('only returns faces of the searched groups, above the threshold', () => {
    const index = new VectorIndex(2);
    index.add('a', new Float32Array([1, 0]), ['default']);
    index.add('b', new Float32Array([0.8, 0.6]), ['g']);
    index.add('c', new Float32Array([0, 1]), ['default', 'g']);
    const query = new Float32Array([1, 0]);
    assert.deepEqual(
      index.search(query, { groups: ['g'], limit: 5 }).map((candidate) => candidate.faceToken),
      ['b', 'c'],
    );
    assert.deepEqual(
      index.search(query, { groups: ['g'], limit: 5, minCosine: 0.5 }).map((candidate) => candidate.faceToken),
      ['b'],
    );
    assert.deepEqual(index.search(query, { groups: ['unknown'], limit: 5 }), []);
    // Per-group thresholds: b passes only through g's (lower) threshold.
    const thresholds = new Map([
      ['default', 0.9],
      ['g', 0.7],
    ]);
    assert.deepEqual(
      index.search(query, { groups: ['default', 'g'], limit: 5, groupMinCosine: thresholds }).map((c) => c.faceToken),
      ['a', 'b'],
    );
    index.dropGroup('g');
    assert.deepEqual(index.groupsOf('c'), ['default']);
    assert.deepEqual(index.search(query, { groups: ['g'], limit: 5 }), []);
    index.clear();
    assert.equal(index.size, 0);
    assert.deepEqual(index.search(query, { groups: ['default'], limit: 5 }), []);
  });

  it('keeps no copy of a removed or cleared vector in its memory', () => {
    const random = seededRandom(11);
    const index = new VectorIndex(DIMENSION, 4);
    const vectors = ['a', 'b', 'c'].map((token) => [token, randomUnitVector(random, DIMENSION)] as const);
    for (const [token, embedding] of vectors) index.add(token, embedding, ['default']);
    // The index's own buffer (private): what a heap dump would show.
    const memory = () => Buffer.from((index as unknown as { vectors: Float32Array }).vectors.buffer);
    const holds = (embedding: Float32Array) => memory().includes(Buffer.from(embedding.buffer));
    index.remove('a'); // a hole the last vector moves into
    index.remove('b'); // the last slot
    assert.equal(holds(vectors[0]![1]), false);
    assert.equal(holds(vectors[1]![1]), false);
    assert.equal(holds(vectors[2]![1]), true);
    index.clear();
    assert.equal(holds(vectors[2]![1]), false);
  });

  it('without groups searches every face, those bound to no group included', () => {
    const index = new VectorIndex(2);
    index.add('grouped', Float32Array.from([1, 0]), ['g']);
    index.add('unbound', Float32Array.from([0.8, 0.6]), []);
    index.add('far', Float32Array.from([0, 1]), ['default']);
    const query = Float32Array.from([1, 0]);
    assert.deepEqual(index.search(query, { limit: 5, minCosine: 0.5 }).map((c) => c.faceToken), ['grouped', 'unbound']);
    assert.deepEqual(index.search(query, { groups: ['default'], limit: 5, minCosine: 0.5 }), []);
  });

  it('rejects vectors of the wrong size', () => {
    const index = new VectorIndex(3);
    assert.throws(() => index.add('x', new Float32Array(2), ['default']));
    assert.throws(() => index.search(new Float32Array(4), { groups: ['default'], limit: 1 }));
  });
});
