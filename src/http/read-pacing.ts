/**
 * Request bodies are read a bounded number of bytes per event-loop turn, so that many bodies arriving at once
 * are read over several turns instead of in one.
 *
 * Why: Node reads a readable socket until it has nothing more (up to 32 reads of 64 kB in a turn), and one
 * turn serves every socket that became readable. When 200 clients sent 1080p photos at once (`bench:http`'s
 * overload case), one turn read ~250 chunks of the ~50 bodies admitted to the queue and held the event loop
 * for 24–48 ms. Past `bytesPerTurn` in a turn, the body being read is paused and resumed in a later turn,
 * oldest first, a few bodies a turn; the socket keeps the rest meanwhile (TCP backpressure). Nothing is
 * dropped and nothing is reordered within a body.
 */
import type { Readable } from 'node:stream';

/** The body bytes read per event-loop turn before the reading of further bodies waits for the next turn. */
export const BODY_BYTES_PER_TURN = 256 * 1024;

/** What Node reads from a socket at a time: a resumed body reads at least this much before it pauses again. */
const SOCKET_READ_BYTES = 64 * 1024;

export class ReadPacer {
  private readThisTurn = 0;
  private turnScheduled = false;
  /** Bodies paused for the budget, oldest first. */
  private readonly paused: Readable[] = [];

  constructor(private readonly bytesPerTurn: number = BODY_BYTES_PER_TURN) {}

  /** Counts a chunk just read from `body`; once this turn's budget is spent, `body` waits for a later turn. */
  chunkRead(body: Readable, bytes: number): void {
    this.readThisTurn += bytes;
    this.scheduleNextTurn();
    if (this.readThisTurn >= this.bytesPerTurn && !body.isPaused()) {
      body.pause();
      this.paused.push(body);
    }
  }

  /** setImmediate: runs once the loop has gone through its I/O (the reads of this turn). */
  private scheduleNextTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    this.readThisTurn = 0;
    // As many bodies as the budget has chunks: each resumed one reads at least a chunk.
    for (let resumable = Math.max(1, Math.floor(this.bytesPerTurn / SOCKET_READ_BYTES)); resumable > 0 && this.paused.length > 0; resumable--) {
      this.paused.shift()!.resume();
    }
    if (this.paused.length > 0) this.scheduleNextTurn();
  };
}
