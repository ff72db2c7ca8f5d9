/**
 * With VISAGE_VISION_NICE set, the inference threads run below the event loop's priority (thread-priority.ts),
 * read back from /proc the way the scheduler sees it: on a machine with a vision worker per core, the loop
 * must not wait behind them for a core. Linux only (nice is per thread there).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createFaceAnalyzer, type PooledFaceAnalyzer } from '../src/vision/pool.js';
import { VISION_THREAD_NAME } from '../src/vision/thread-priority.js';
import { samplePhoto } from './helpers/images.js';

/** VISAGE_VISION_NICE as a deployment on a machine of its own would set it. */
const VISION_NICE = 10;

interface ThreadInfo {
  tid: number;
  name: string;
  nice: number;
}

function threads(): ThreadInfo[] {
  return readdirSync('/proc/self/task').map((entry) => {
    const name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trimEnd();
    // Fields after the parenthesised name: state is the 3rd field of stat, nice the 19th.
    const stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid: Number(entry), name, nice: Number(fields[16]) };
  });
}

describe('thread priority of the vision workers', { skip: !existsSync('/proc/thread-self') }, () => {
  let analyzer: PooledFaceAnalyzer;
  before(async () => {
    analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 2, nice: VISION_NICE });
  });
  after(() => analyzer.close());

  it('lowers the workers and the libvips threads decoding their photos, never the event loop', async () => {
    const result = await analyzer.analyze(samplePhoto(1));
    assert.ok(result.faces.length > 0);
    const all = threads();
    const workers = all.filter(({ name }) => name === VISION_THREAD_NAME);
    // The two workers, and any thread they started (which inherits name and nice).
    assert.ok(workers.length >= 2, `threads: ${all.map(({ name }) => name).join(', ')}`);
    for (const worker of workers) assert.equal(worker.nice, VISION_NICE);
    const libvips = all.filter(({ name }) => name === 'libvips worker');
    assert.ok(libvips.length > 0, 'the photo was decoded by libvips threads');
    for (const thread of libvips) assert.equal(thread.nice, VISION_NICE, `libvips thread ${thread.tid}`);
    const loop = all.find(({ tid }) => tid === process.pid);
    assert.equal(loop?.nice, 0);
    // Everything else (libuv's pool, which also reads files for the loop; V8's helpers) keeps its priority.
    for (const thread of all.filter(({ name }) => name !== VISION_THREAD_NAME && name !== 'libvips worker')) {
      assert.equal(thread.nice, 0, `${thread.name} ${thread.tid}`);
    }
  });
});
