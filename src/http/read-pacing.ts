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
import { TurnBudget } from './turn-budget.js';

/** The body bytes read per event-loop turn before the reading of further bodies waits for the next turn. */
export const BODY_BYTES_PER_TURN = 256 * 1024;

/** What Node reads from a socket at a time: a resumed body reads at least this much before it pauses again. */
const SOCKET_READ_BYTES = 64 * 1024;

export class ReadPacer {
  private readonly budget: TurnBudget;

  constructor(bytesPerTurn: number = BODY_BYTES_PER_TURN) {
    // As many bodies resumed a turn as the budget has socket reads.
    this.budget = new TurnBudget(bytesPerTurn, Math.max(1, Math.floor(bytesPerTurn / SOCKET_READ_BYTES)));
  }

  /** Counts a chunk just read from `body`; once this turn's budget is spent, `body` waits for a later turn. */
  chunkRead(body: Readable, bytes: number): void {
    this.budget.spend(bytes);
    if (this.budget.hasRoom || body.isPaused()) return;
    body.pause();
    this.budget.later(() => body.resume());
  }
}
