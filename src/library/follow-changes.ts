/**
 * Keeps this replica's search index in step with writes other replicas commit to a shared store.
 *
 * The follower remembers the last change sequence it applied. Whenever the store says changes may be
 * waiting (a commit notification, a reconnection) and on a slow safety poll, it reads the changes after
 * that sequence and applies them through the library's write queue, so they interleave with this
 * replica's own writes in commit order. A face change re-reads the face's current vector and groups,
 * so replaying a change (our own writes come back too) is harmless.
 *
 * The log is pruned (prune-changes.ts). A follower that fell behind past the pruned point (a replica paused
 * or cut off for longer than the retention) cannot replay what it missed: it reloads the whole index from
 * the store instead, as at start-up, beside the old one, swaps it in at once, and follows on from there.
 */
import { capacityFor, fillIndex, isSearchable, type IndexModel } from '../index/load-index.js';
import type { VectorIndex } from '../index/vector-index.js';
import type { ChangeFeed, SequencedChange } from '../store/store.js';
import type { LibraryContext } from './context.js';

export interface ChangeFollowerOptions {
  feed: ChangeFeed;
  context: LibraryContext;
  model: IndexModel;
  /** The feed's head read before the index was loaded: everything after it is applied. */
  after: number;
  /** Safety poll, for a listener connection that died without telling anyone. */
  pollIntervalMs: number;
  /** Changes read per query. */
  batchSize?: number;
  /** Where a failed catch-up is reported (it is retried on the next wake-up or poll). */
  warn?: (message: string) => void;
}

export class ChangeFollower {
  private applied: number;
  private running: Promise<void> | undefined;
  private again = false;
  private listener: { close(): Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: ChangeFollowerOptions) {
    this.applied = options.after;
  }

  /** Listens, catches up once, and keeps following until `close()`. */
  static async start(options: ChangeFollowerOptions): Promise<ChangeFollower> {
    const follower = new ChangeFollower(options);
    follower.listener = await options.feed.listen(() => void follower.catchUp());
    follower.timer = setInterval(() => void follower.catchUp(), options.pollIntervalMs);
    follower.timer.unref();
    await follower.catchUp();
    return follower;
  }

  /** Sequence of the last change applied to the index. */
  get appliedSequence(): number {
    return this.applied;
  }

  /** Applies everything committed so far. Calls while one runs make it run once more. */
  catchUp(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.drain();
        } catch (error) {
          (this.options.warn ?? console.warn)(`visage: could not apply other replicas' changes yet: ${String(error)}`);
          return;
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener?.close();
    await this.running;
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    for (;;) {
      const { changes, missed } = await this.options.feed.read(this.applied, batchSize);
      if (missed) {
        await this.reload();
        continue;
      }
      if (changes.length === 0) return;
      await this.options.context.writes.run(() => this.apply(this.options.context.index, changes));
      this.applied = changes.at(-1)!.sequence;
      if (changes.length < batchSize) return;
    }
  }

  /**
   * The index rebuilt from the store, as at start-up, beside the one serving searches (which stays whole
   * until the new one is swapped in; the two take twice the memory meanwhile). The feed's head is read
   * first; whatever commits after it — other replicas' writes, and this one's own, which meanwhile keep
   * updating the old index — is replayed onto the new index: most of it while searches go on, the rest
   * inside the write queue, where no write can commit between that last read and the swap.
   */
  private async reload(): Promise<void> {
    const { feed, model, context } = this.options;
    (this.options.warn ?? console.warn)(
      `visage: changes after sequence ${this.applied} were pruned before this replica applied them: reloading the search index`,
    );
    const head = await feed.head();
    const { faces } = await context.store.modelCoverage(model.modelId);
    const fresh = context.index.emptyLike(capacityFor(faces));
    try {
      await fillIndex(fresh, context.store, model);
      const replayed = await this.replay(fresh, head);
      let swapped: Promise<void> | undefined;
      await context.writes.run(async () => {
        this.applied = await this.replay(fresh, replayed);
        swapped = context.index.replaceWith(fresh);
      });
      await swapped; // the old contents' memory is zeroed a little per event-loop turn, outside the queue
    } finally {
      await fresh.close();
    }
  }

  /** Applies the changes after `after` to `index`; returns the last sequence applied. */
  private async replay(index: VectorIndex, after: number): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    for (let sequence = after; ; ) {
      const { changes, missed } = await this.options.feed.read(sequence, batchSize);
      if (missed) throw new Error(`changes after sequence ${sequence} were pruned while the index reloaded`);
      if (changes.length === 0) return sequence;
      await this.apply(index, changes);
      sequence = changes.at(-1)!.sequence;
    }
  }

  private async apply(index: VectorIndex, batch: readonly SequencedChange[]): Promise<void> {
    const { feed, model } = this.options;
    let faces = new Set<string>();
    // Consecutive face changes are read in one query; group and wipe changes keep their place.
    const flushFaces = async () => {
      if (faces.size === 0) return;
      const current = new Map((await feed.vectorsOf([...faces])).map((vector) => [vector.faceToken, vector]));
      for (const faceToken of faces) {
        const vector = current.get(faceToken);
        if (vector && isSearchable(vector, model)) index.add(faceToken, vector.embedding, vector.groupIds);
        else index.remove(faceToken);
      }
      faces = new Set();
    };
    for (const { change } of batch) {
      if (change.kind === 'face') {
        faces.add(change.faceToken);
        continue;
      }
      await flushFaces();
      if (change.kind === 'wipe') index.clear();
      else index.dropGroup(change.groupId);
    }
    await flushFaces();
  }
}
