// Virtual time for loops that take injected Timers (the reconciler's drift loop): timers fire when
// advance() passes their deadline, and `t` can be moved by a test to make work take time.
import type { Timers } from '../../src/net/netlink-client.js'

/** Virtual time: timers fire when advance() passes their deadline. */
export class Clock {
  t = 0
  private q: { at: number; fn: () => void; id: number }[] = []
  private next = 1
  timers: Timers = {
    set: (fn, ms) => {
      const id = this.next++
      this.q.push({ at: this.t + ms, fn, id })
      return id
    },
    clear: (h) => {
      this.q = this.q.filter((x) => x.id !== h)
    },
  }
  now = () => this.t
  get armed() {
    return this.q.map((x) => x.at - this.t)
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number) {
    const end = this.t + ms
    for (;;) {
      this.q.sort((a, b) => a.at - b.at)
      const due = this.q[0]
      if (!due || due.at > end) break
      this.q.shift()
      this.t = due.at
      due.fn()
    }
    this.t = end
  }
}
