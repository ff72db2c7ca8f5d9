import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenTable } from '../src/index/token-table.js';
import { seededRandom } from './helpers/random-vectors.js';

describe('TokenTable', () => {
  it('agrees with a Map and an array through appends, removals that move the last slot, growth and clears', () => {
    const random = seededRandom(11);
    // Tiny start: the records widen and the table grows many times; few buckets make probe chains collide.
    const table = new TokenTable(2, 2);
    let slots: string[] = [];
    const tokenAlphabet = ['a', 'b', 'Z', '9', '-', '_', 'é', '人', '😀'];
    const newToken = () => Array.from({ length: 1 + Math.floor(random() * 30) }, () => tokenAlphabet[Math.floor(random() * tokenAlphabet.length)]).join('');
    for (let step = 0; step < 20_000; step++) {
      const roll = random();
      if (roll < 0.55 || slots.length === 0) {
        const token = newToken();
        if (slots.includes(token)) continue;
        assert.equal(table.append(token), slots.length);
        slots.push(token);
      } else if (roll < 0.999) {
        const slot = Math.floor(random() * slots.length);
        table.removeAt(slot);
        const last = slots.pop()!;
        if (slot < slots.length) slots[slot] = last;
      } else {
        table.clear();
        slots = [];
      }
      if (step % 97 === 0) {
        assert.equal(table.size, slots.length);
        slots.forEach((token, slot) => {
          assert.equal(table.slotOf(token), slot);
          assert.equal(table.tokenAt(slot), token);
        });
        assert.equal(table.slotOf(newToken() + '#absent'), undefined);
      }
    }
  });

  it('grows past a chunk of records, and a removal moves a token from the second chunk into the first', () => {
    const table = new TokenTable(16);
    const count = 70_000; // beyond one chunk (65,536 slots)
    for (let i = 0; i < count; i++) assert.equal(table.append(`face-${i}`), i);
    table.removeAt(5); // the last token (in the second chunk) moves into slot 5
    assert.equal(table.tokenAt(5), `face-${count - 1}`);
    assert.equal(table.slotOf(`face-${count - 1}`), 5);
    assert.equal(table.slotOf('face-5'), undefined);
    for (const i of [0, 4, 6, 65_535, 65_536, count - 2]) assert.equal(table.slotOf(`face-${i}`), i);
    assert.equal(table.append('a-longer-token-than-any-before-it-widens-the-records'), count - 1);
    assert.equal(table.tokenAt(65_536), 'face-65536');
    assert.equal(table.slotOf('a-longer-token-than-any-before-it-widens-the-records'), count - 1);
  });

  it('refuses a token longer than 255 UTF-8 bytes instead of truncating it', () => {
    const table = new TokenTable();
    table.append('x'.repeat(255));
    assert.throws(() => table.append('x'.repeat(256)), /longer than 255/);
    assert.throws(() => table.append('人'.repeat(86)), /longer than 255/);
    assert.equal(table.slotOf('x'.repeat(255)), 0);
  });
});
