// Time for the health scheduler: a monotonic clock with one-shot timers, real (production) or virtual (tests).
import { performance } from 'node:perf_hooks'

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number
  /** Calls `fn` at time `at` (at once if that has passed); returns a cancel function. */
  at(at: number, fn: () => void): () => void
}

/** Node's timers over performance.now(); timers are unref'd so health checking never holds a process open. */
export const realClock: Clock = {
  now: () => performance.now(),
  at(at, fn) {
    const h = setTimeout(fn, Math.max(0, at - performance.now()))
    h.unref()
    return () => clearTimeout(h)
  },
}

interface VirtualTimer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * Time that moves only when told. advance() fires due timers in time order and lets promise
 * callbacks settle after each, so code awaiting a check result sees the time it completed at.
 */
export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private timers: VirtualTimer[] = []

  constructor(start = 0) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  at(at: number, fn: () => void): () => void {
    const timer: VirtualTimer = { at: Math.max(at, this.t), seq: this.seq++, fn, cancelled: false }
    this.timers.push(timer)
    return () => {
      timer.cancelled = true
    }
  }

  /** Timers still armed. */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      await settle()
      this.timers = this.timers.filter((x) => !x.cancelled)
      let next: VirtualTimer | undefined
      for (const x of this.timers)
        if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x
      if (!next) break
      this.timers.splice(this.timers.indexOf(next), 1)
      this.t = next.at
      next.fn()
    }
    this.t = end
    await settle()
  }
}

/** Lets already-resolved promise chains run (a macrotask turn), without letting any time pass. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r))
}
