// Turns of the event loop inside long work. A chain of netlink dumps runs as microtasks only (the
// kernel answers inside sendmsg and the client drains at once), and a scrape of 10,000 real servers
// is tens of ms of status and series: done in one piece, either held the event loop long enough for
// the health checks' slots to run dry (docs/benchmarks.md, "Per-check bookkeeping").
import { performance } from 'node:perf_hooks'

/** One turn of the event loop: timers and I/O due now run before it resolves. */
export function turn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * How long a piece of work may hold the event loop between two turns. The health scheduler's 256
 * slots of a lane are refilled once per turn, so at 10,000 checks a second a turn must come every
 * ~25 ms with the checks' own work in it.
 */
export const SLICE_MS = 4

/**
 * A stopwatch over a long piece of work: `due()` is true once `ms` have passed since it last said
 * so (or since it was made), and the caller then takes a turn. A short piece of work never sees
 * true, so a small table is read exactly as before.
 */
export function sliceTimer(ms = SLICE_MS, now: () => number = () => performance.now()): () => boolean {
  let from = now()
  return () => {
    const t = now()
    if (t - from < ms) return false
    from = t
    return true
  }
}
