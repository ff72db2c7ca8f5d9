/**
 * Keeps a shared store's change log from growing without end: every replica tries to prune it on a timer;
 * the store lets one replica at a time do it (the others skip their turn). A replica that was away for
 * longer than the retention reloads its index when it comes back (follow-changes.ts), so the retention only
 * bounds how long a replica may fall behind and still catch up change by change.
 */
import type { ChangeFeed } from '../store/store.js';

export interface ChangePruningOptions {
  feed: ChangeFeed;
  /** Changes younger than this are kept. */
  retainMs: number;
  /** Default: a quarter of the retention, between 1 s and 10 min. */
  intervalMs?: number;
  /** Where a failed pruning is reported (it is tried again on the next tick). */
  warn?: (message: string) => void;
}

const MAX_INTERVAL_MS = 10 * 60_000;

export function startChangePruning(options: ChangePruningOptions): { close(): Promise<void> } {
  const intervalMs = options.intervalMs ?? Math.min(MAX_INTERVAL_MS, Math.max(1000, options.retainMs / 4));
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = options.feed
      .prune(options.retainMs)
      .catch((error: unknown) => (options.warn ?? console.warn)(`visage: could not prune the change log: ${String(error)}`))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
