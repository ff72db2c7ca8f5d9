/**
 * Work of one kind spread over event-loop turns: a budget a turn, and what comes over it waits for a later
 * turn, oldest first. One turn of Node's loop serves every socket that became readable, so a burst of
 * clients lands in one turn unless something defers part of it; what a turn holds the loop for is what
 * `bench:http` reports as a stall (body reads: read-pacing.ts; refusals: overload-guard.ts).
 */
export class TurnBudget {
  private spentThisTurn = 0;
  private turnScheduled = false;
  /** What waits for a later turn, oldest first. */
  private readonly waiting: Array<() => void> = [];

  constructor(
    /** What a turn may spend (bytes, requests: the caller's unit). */
    private readonly perTurn: number,
    /** How many of those waiting are resumed a turn. */
    private readonly resumesPerTurn: number,
  ) {}

  /** Whether this turn has budget left. */
  get hasRoom(): boolean {
    return this.spentThisTurn < this.perTurn;
  }

  /** Counts `amount` as spent in this turn. */
  spend(amount: number): void {
    this.spentThisTurn += amount;
    this.scheduleNextTurn();
  }

  /** Calls `resume` in a later turn. */
  later(resume: () => void): void {
    this.waiting.push(resume);
    this.scheduleNextTurn();
  }

  /** A later turn: setImmediate runs once the loop has been through its I/O (this turn's reads). */
  private scheduleNextTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    this.spentThisTurn = 0;
    for (let resumes = this.resumesPerTurn; resumes > 0 && this.waiting.length > 0; resumes--) this.waiting.shift()!();
    if (this.waiting.length > 0) this.scheduleNextTurn();
  };
}
