/**
 * Group commit of registrations. The ones whose analysis finishes while the write queue is busy wait
 * together and reach the store in one registerFaces call in one turn of the queue: SQLite writes their
 * files at once and commits them in one transaction, one fsync for all instead of one each. Every caller
 * hears its own outcome, and only once its own entry is durable; an entry the store refuses fails alone.
 */
import { VisageError } from '../errors.js';
import { DEFAULT_GROUP_ID, type NewRegistration } from '../store/store.js';
import { cosine } from '../vision/embed.js';
import type { LibraryContext } from './context.js';

interface Waiting {
  registration: NewRegistration;
  resolve(id: number): void;
  reject(reason: unknown): void;
}

/** More would only lengthen the wait of the first entries for one commit. */
const MAX_BATCH = 32;

export class RegistrationCommits {
  private waiting: Waiting[] = [];
  private queued = false;

  constructor(
    private readonly context: LibraryContext,
    /** Optional biometric duplicate check: a face at least this similar to an enrolled one is refused. */
    private readonly duplicateMinCosine?: number,
  ) {}

  /** Commits the registration (with the next batch) and indexes it; resolves to the face's id once durable. */
  commit(registration: NewRegistration): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ registration, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queued || this.waiting.length === 0) return;
    this.queued = true;
    void this.context.writes.run(() => this.flush());
  }

  /** Never rejects: every failure goes to the callers of the batch. */
  private async flush(): Promise<void> {
    this.queued = false; // from here on, arrivals wait for the next turn
    const batch = this.take();
    try {
      await this.commitBatch(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error); // no-op for those already settled
    } finally {
      this.schedule();
    }
  }

  /**
   * The next batch, in arrival order. With the duplicate check on, an entry as similar to one taken before
   * it as the check refuses stays for the next batch, where the index holds that one if it was committed:
   * the same decision as one registration after the other.
   */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const deferred: Waiting[] = [];
    for (const entry of this.waiting) {
      if (batch.length === MAX_BATCH || (this.duplicateMinCosine !== undefined && batch.some((taken) => this.twins(taken, entry)))) {
        deferred.push(entry);
      } else {
        batch.push(entry);
      }
    }
    this.waiting = deferred;
    return batch;
  }

  private twins(a: Waiting, b: Waiting): boolean {
    return cosine(a.registration.face.embedding, b.registration.face.embedding) >= this.duplicateMinCosine!;
  }

  private async commitBatch(batch: readonly Waiting[]): Promise<void> {
    const { store, index } = this.context;
    const accepted: Waiting[] = [];
    for (const entry of batch) {
      // Inside the write queue, so two registrations of one face cannot both pass the check.
      if (this.duplicateMinCosine !== undefined) {
        const [twin] = await index.search(entry.registration.face.embedding, { limit: 1, minCosine: this.duplicateMinCosine });
        if (twin) {
          entry.reject(new VisageError('FACE_ALREADY_EXIST', undefined, { faceToken: twin.faceToken }));
          continue;
        }
      }
      accepted.push(entry);
    }
    if (accepted.length === 0) return;
    // The store refuses an existing imageId (FACE_ALREADY_EXIST) inside its transaction.
    const outcomes = await store.registerFaces(accepted.map((entry) => entry.registration));
    accepted.forEach((entry, k) => {
      const outcome = outcomes[k]!;
      if (outcome.status === 'rejected') return entry.reject(outcome.reason);
      const { face } = entry.registration;
      index.add(face.faceToken, face.embedding, [DEFAULT_GROUP_ID]);
      entry.resolve(outcome.value.id);
    });
  }
}
