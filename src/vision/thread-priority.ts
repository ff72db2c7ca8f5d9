/**
 * Scheduling priority of the inference threads. On a machine with as many vision workers as cores, the
 * workers (and libvips' decoding threads) keep every core busy under load, and the event loop then waits
 * for a core before it can answer: wall-clock stalls the loop's own CPU time does not explain. On Linux,
 * nice is per thread, so a worker lowers its own priority and the loop (and the index's scan threads)
 * preempt it; threads a thread creates inherit its nice, and libvips' workers, which sharp starts from
 * libuv's shared pool (nice 0, also serving the loop's file reads), are lowered by name.
 * Lowering needs no privilege. Elsewhere (no /proc) these are no-ops.
 *
 * Off by default (VISAGE_VISION_NICE=0): under group scheduling (autogroups, containers' cgroups) lowered
 * threads also lower their group's weight on the cores they run on, so on a machine shared with other
 * groups the workers lose CPU to them, not only to the loop (README, Measured).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Thread name of a vision worker (/proc/<pid>/task/<tid>/comm; `top -H` shows it). */
export const VISION_THREAD_NAME = 'visage-vision';
/** The name libvips gives its worker threads. */
const LIBVIPS_THREAD_NAME = 'libvips worker';

/** This thread's id (TID), which setpriority takes on Linux to act on one thread. */
function threadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/** Names this thread and lowers its priority to `nice`; the threads it starts afterwards inherit both. */
export function lowerThisThread(name: string, nice: number): void {
  const tid = threadId();
  if (tid === undefined) return;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
    setPriority(tid, nice);
  } catch {
    // Not Linux-like enough: run at the default priority.
  }
}

/** libvips threads already lowered (libvips keeps its workers for later images). */
const lowered = new Set<number>();

/**
 * Lowers libvips' worker threads to `nice`. They appear during the first decodes (and libvips may add some
 * later), so workers call this after each image. Every other thread's name is read again each time (~25
 * small /proc reads, a fraction of a millisecond in the worker): a new thread carries its creator's name
 * until libvips renames it.
 */
export function lowerLibvipsThreads(nice: number): void {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const entry of tids) {
    const tid = Number(entry);
    if (lowered.has(tid)) continue;
    try {
      if (readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trimEnd() !== LIBVIPS_THREAD_NAME) continue;
      setPriority(tid, nice);
      lowered.add(tid);
    } catch {
      // The thread ended meanwhile.
    }
  }
}
