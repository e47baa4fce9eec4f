// Tests of work that must let the event loop run: its turns counted, and work that holds it.

/** Counts turns of the event loop (a chain of setImmediate) until stop(). */
export function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0
  let ticking = true
  const tick = () => {
    turns++
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  return {
    get turns() {
      return turns
    },
    stop: () => {
      ticking = false
    },
  }
}

/** Holds the thread for `ms`, as a synchronous piece of work (a netlink dump answered in sendmsg) does. */
export function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}
