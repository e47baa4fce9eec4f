// The one clock of the tree: monotonic milliseconds and one-shot timers. Production code takes a Clock
// (or only its Timers) as an argument, so the unit tier drives every loop in virtual time
// (test/helpers/virtual-clock.ts) and never sleeps.
import { performance } from 'node:perf_hooks'

export interface Timers {
  /** Calls `fn` once, `ms` from now (0 or less: as soon as possible); the handle is for clear(). */
  set(fn: () => void, ms: number): unknown
  /** Cancels a timer that has not fired; a handle that fired or was cleared is ignored. */
  clear(handle: unknown): void
}

export interface Clock extends Timers {
  /** Monotonic milliseconds (performance.now() in production). */
  now(): number
}

/** Node's timers over performance.now(). */
export const realClock: Clock = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** realClock whose timers never hold the process open: for loops that run until stopped (health checks). */
export const backgroundClock: Clock = {
  ...realClock,
  set: (fn, ms) => setTimeout(fn, ms).unref(),
}

/** Calls `fn` at the clock's time `at` (at once if that has passed); returns the function that cancels it. */
export function callAt(clock: Clock, at: number, fn: () => void): () => void {
  const h = clock.set(fn, Math.max(0, at - clock.now()))
  return () => clock.clear(h)
}
