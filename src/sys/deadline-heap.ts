// A binary min-heap of deadlines (earliest first, equal deadlines in insertion order) from which
// any entry can be removed in O(log n): each entry keeps its own slot. Pure; the deadlines are
// numbers on whatever clock the owner uses. DeadlineTimers (deadline-timer.ts) arms one timerfd
// at its top. Removal is eager, unlike the health scheduler's lazy TimerQueue: a VRRP backup
// moves its Master_Down deadline on every advert, and the top must be the earliest live deadline
// so the fd is not woken for a timer that no longer exists.

export interface DeadlineEntry<T> {
  readonly at: number
  readonly value: T
  /** Insertion order, breaking ties between equal deadlines. */
  readonly seq: number
  /** Slot in the heap; -1 once popped or removed. */
  index: number
}

export class DeadlineHeap<T> {
  private readonly slots: DeadlineEntry<T>[] = []
  private nextSeq = 0

  get size(): number {
    return this.slots.length
  }

  /** The earliest entry, left in place. */
  peek(): DeadlineEntry<T> | undefined {
    return this.slots[0]
  }

  push(at: number, value: T): DeadlineEntry<T> {
    const e: DeadlineEntry<T> = { at, value, seq: this.nextSeq++, index: this.slots.length }
    this.slots.push(e)
    this.up(e.index)
    return e
  }

  /** Takes the earliest entry out. */
  pop(): DeadlineEntry<T> | undefined {
    const top = this.slots[0]
    if (top) this.removeAt(0)
    return top
  }

  /** Takes the earliest entry out if its deadline is at or before `now`. */
  popDue(now: number): DeadlineEntry<T> | undefined {
    const top = this.slots[0]
    return top && top.at <= now ? this.pop() : undefined
  }

  /** Removes `e`; false when it is not (or no longer) in this heap. */
  remove(e: DeadlineEntry<T>): boolean {
    if (e.index < 0 || this.slots[e.index] !== e) return false
    this.removeAt(e.index)
    return true
  }

  private removeAt(i: number): void {
    const gone = this.slots[i] as DeadlineEntry<T>
    const last = this.slots.pop() as DeadlineEntry<T>
    gone.index = -1
    if (last === gone) return
    // the last entry fills the hole, then moves whichever way restores the order
    this.slots[i] = last
    last.index = i
    if (i > 0 && before(last, this.slots[(i - 1) >> 1] as DeadlineEntry<T>)) this.up(i)
    else this.down(i)
  }

  private up(i: number): void {
    const e = this.slots[i] as DeadlineEntry<T>
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = this.slots[p] as DeadlineEntry<T>
      if (!before(e, parent)) break
      this.place(parent, i)
      i = p
    }
    this.place(e, i)
  }

  private down(i: number): void {
    const e = this.slots[i] as DeadlineEntry<T>
    const n = this.slots.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const left = this.slots[l] as DeadlineEntry<T>
      const c = r < n && before(this.slots[r] as DeadlineEntry<T>, left) ? r : l
      const child = this.slots[c] as DeadlineEntry<T>
      if (!before(child, e)) break
      this.place(child, i)
      i = c
    }
    this.place(e, i)
  }

  private place(e: DeadlineEntry<T>, i: number): void {
    this.slots[i] = e
    e.index = i
  }
}

function before<T>(a: DeadlineEntry<T>, b: DeadlineEntry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
