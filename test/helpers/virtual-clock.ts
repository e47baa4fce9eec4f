// The unit tier's one clock: time moves only when a test says so, and timers fire in deadline order
// (equal deadlines in the order they were set), each at its own time, never before it.
import type { Clock } from '../../src/clock.js'

interface VirtualTimer {
  at: number
  seq: number
  fn: () => void
}

export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private readonly due = new Map<number, VirtualTimer>()

  constructor(start = 0) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  set(fn: () => void, ms: number): number {
    const seq = ++this.seq
    this.due.set(seq, { at: this.t + Math.max(0, ms), seq, fn })
    return seq
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number)
  }

  /** Milliseconds until each armed timer, soonest first. */
  get armed(): number[] {
    return [...this.due.values()].map((x) => x.at - this.t).sort((a, b) => a - b)
  }

  /**
   * Time passes with no timer running: work that takes time (a slow dump), or a stalled thread whose
   * overdue timers then fire late, at the time they are next let run.
   */
  spend(ms: number): void {
    this.t += ms
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.t + ms)
  }

  /** Moves time to `end` (absolute), firing every timer due by then. */
  advanceTo(end: number): void {
    for (let x = this.nextDue(end); x; x = this.nextDue(end)) this.fire(x)
    this.t = Math.max(this.t, end)
  }

  /**
   * advance() for code that awaits between timers (a check's result, a netlink reply): after each
   * timer, and before the first, already-resolved promise chains run, with no time passing.
   */
  async run(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      await settle()
      const x = this.nextDue(end)
      if (!x) break
      this.fire(x)
    }
    this.t = Math.max(this.t, end)
    await settle()
  }

  private nextDue(end: number): VirtualTimer | undefined {
    let next: VirtualTimer | undefined
    for (const x of this.due.values())
      if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x
    return next
  }

  private fire(x: VirtualTimer): void {
    this.due.delete(x.seq)
    this.t = Math.max(this.t, x.at)
    x.fn()
  }
}

/** Lets already-resolved promise chains run (a few macrotask turns), without letting any time pass. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r))
}
