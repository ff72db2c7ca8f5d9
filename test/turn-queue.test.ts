import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnQueue } from '../src/http/turn-queue.js';

describe('TurnQueue', () => {
  it('runs queued jobs in order, one per event-loop turn (other callbacks run between them)', async () => {
    const queue = new TurnQueue();
    const seen: string[] = [];
    let turns = 0;
    // Re-armed from within each turn, so it fires once per turn: a marker between the turns' jobs.
    const probe = () => {
      seen.push('turn');
      if (++turns < 8) setImmediate(probe);
    };
    setImmediate(probe);
    const results = await Promise.all([1, 2, 3, 4].map((n) => queue.run(() => (seen.push(`job ${n}`), n * 10))));
    assert.deepEqual(results, [10, 20, 30, 40]);
    const jobs = seen.filter((entry) => entry.startsWith('job'));
    assert.deepEqual(jobs, ['job 1', 'job 2', 'job 3', 'job 4']);
    for (let k = 1; k < seen.length; k++) {
      assert.ok(!(seen[k]!.startsWith('job') && seen[k - 1]!.startsWith('job')), `two jobs in one turn: ${seen.join(', ')}`);
    }
  });

  it('passes a failing job on to its caller and goes on with the next', async () => {
    const queue = new TurnQueue();
    const failing = queue.run(() => {
      throw new Error('bad body');
    });
    const next = queue.run(() => 'parsed');
    await assert.rejects(failing, /bad body/);
    assert.equal(await next, 'parsed');
  });
});
