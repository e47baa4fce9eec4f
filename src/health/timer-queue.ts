// The scheduler's timers: one binary min-heap of (time, item, tag) driven by a single Clock timer.
// 10,000 checks a second each wanted a due timer and a timeout timer: 20,000 Node timers, closures
// and cancel functions a second, most of them living a whole interval and so promoted to the old
// generation. Entries here are three slots of parallel arrays, and cancellation is lazy: the owner
// checks in `fire` whether the entry is still wanted.
import { type Clock, callAt } from '../clock.js'

export class TimerQueue<T> {
  private at: number[] = []
  private seq: number[] = []
  private items: (T | undefined)[] = []
  private tags: number[] = []
  private n = 0
  private nextSeq = 0
  private armedAt = Number.POSITIVE_INFINITY
  private disarm: (() => void) | undefined
  private readonly onTimer = () => this.run()

  /** `fire(item, tag, at)` gets each entry once its time has come, earliest first, ties in push order. */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (item: T, tag: number, at: number) => void,
  ) {}

  get size(): number {
    return this.n
  }

  push(at: number, item: T, tag: number): void {
    let i = this.n++
    const seq = this.nextSeq++
    // sift up
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(at, seq, parent)) break
      this.move(parent, i)
      i = parent
    }
    this.put(i, at, seq, item, tag)
    if (at < this.armedAt) this.arm(at)
  }

  /** Drops every entry and the clock timer. */
  clear(): void {
    this.n = 0
    this.at.length = 0
    this.seq.length = 0
    this.items.length = 0
    this.tags.length = 0
    this.disarm?.()
    this.disarm = undefined
    this.armedAt = Number.POSITIVE_INFINITY
  }

  private run(): void {
    this.disarm = undefined
    this.armedAt = Number.POSITIVE_INFINITY
    const now = this.clock.now()
    // entries pushed by `fire` for a time already past run in this same pass
    while (this.n > 0 && (this.at[0] as number) <= now) {
      const at = this.at[0] as number
      const item = this.items[0] as T
      const tag = this.tags[0] as number
      this.popTop()
      this.fire(item, tag, at)
    }
    // `fire` may have armed the clock for an entry already run: arm it for the earliest left
    if (this.n > 0) {
      if (this.armedAt !== this.at[0]) this.arm(this.at[0] as number)
    } else {
      // (fire may have armed it: TypeScript does not see that)
      ;(this.disarm as (() => void) | undefined)?.()
      this.disarm = undefined
      this.armedAt = Number.POSITIVE_INFINITY
    }
  }

  private arm(at: number): void {
    this.disarm?.()
    this.armedAt = at
    this.disarm = callAt(this.clock, at, this.onTimer)
  }

  private popTop(): void {
    const last = --this.n
    const at = this.at[last] as number
    const seq = this.seq[last] as number
    const item = this.items[last]
    const tag = this.tags[last] as number
    this.items[last] = undefined
    if (last === 0) return
    // sift down from the root
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= last) break
      const r = l + 1
      const c = r < last && this.lessAt(r, l) ? r : l
      if (!this.before(this.at[c] as number, this.seq[c] as number, i, at, seq)) break
      this.move(c, i)
      i = c
    }
    this.put(i, at, seq, item, tag)
  }

  /** Whether (at, seq) comes before slot j, or before (at2, seq2) when given. */
  private before(at: number, seq: number, j: number, at2?: number, seq2?: number): boolean {
    const a = at2 ?? (this.at[j] as number)
    const s = seq2 ?? (this.seq[j] as number)
    return at < a || (at === a && seq < s)
  }

  private lessAt(i: number, j: number): boolean {
    return this.before(this.at[i] as number, this.seq[i] as number, j)
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from] as number
    this.seq[to] = this.seq[from] as number
    this.items[to] = this.items[from]
    this.tags[to] = this.tags[from] as number
  }

  private put(i: number, at: number, seq: number, item: T | undefined, tag: number): void {
    this.at[i] = at
    this.seq[i] = seq
    this.items[i] = item
    this.tags[i] = tag
  }
}
