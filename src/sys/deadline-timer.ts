// DeadlineTimers: setTimeout/clearTimeout for one thread with sub-millisecond deadlines. Every
// timer of the queue shares one timerfd (native/timer.cc) armed at the earliest deadline, in ns of
// CLOCK_MONOTONIC, and watched by a Poller on the thread's own event loop. libuv's timers sleep in
// epoll_wait with a whole-millisecond timeout and woke the VRRP worker 0.1–0.9 ms after its
// deadlines (docs/benchmarks.md); the timerfd wakes the same epoll_wait at the deadline.
import type { Clock } from '../clock.js'
import { UV_READABLE } from './constants.js'
import { type DeadlineEntry, DeadlineHeap } from './deadline-heap.js'
import { sys, sysError } from './errno.js'
import { type NativeAddon, type NativePoller, native } from './native.js'

/** The addon calls this file uses (native/timer.cc). */
interface TimerAddon {
  /** CLOCK_MONOTONIC in ns (the clock of process.hrtime and performance.now). */
  monotonicNs(): number
  timerfdCreate(): number
  /** One-shot expiry at that CLOCK_MONOTONIC time in ns; 0 disarms. */
  timerfdSetAbs(fd: number, deadlineNs: number): void
  /** Expirations since the last read, 0 when none. */
  timerfdRead(fd: number): number
}

/** What set() returns, for clear(). */
export type DeadlineHandle = DeadlineEntry<() => void>

const NS_PER_MS = 1e6

/** CLOCK_MONOTONIC now, in ns: performance.now()'s clock, less a constant per thread. */
export function monotonicNs(addon: NativeAddon = native()): number {
  return (addon as NativeAddon & TimerAddon).monotonicNs()
}

/**
 * What to add to a performance.now() time (ms, × 1e6) to get its CLOCK_MONOTONIC ns. Each try reads
 * the monotonic clock between two performance.now()s; the narrowest pair wins, and its first read
 * is the one used, so the offset is never less than the true one: a deadline converted with it is
 * late by at most that pair's width (under a µs on a quiet thread), never early.
 */
export function performanceOffsetNs(
  now: () => number = () => performance.now(),
  mono: () => number = () => monotonicNs(),
  tries = 5,
): number {
  let width = Number.POSITIVE_INFINITY
  let offset = 0
  for (let i = 0; i < tries; i++) {
    const before = now()
    const m = mono()
    const after = now()
    if (after - before < width) {
      width = after - before
      offset = m - before * NS_PER_MS
    }
  }
  return offset
}

/** The tree's Clock (src/clock.ts) for one thread, on a timerfd. */
export class DeadlineTimers implements Clock {
  private readonly n: NativeAddon & TimerAddon
  private readonly heap = new DeadlineHeap<() => void>()
  private fd: number
  private poller: NativePoller | undefined
  /** The CLOCK_MONOTONIC ns the fd is armed for; Infinity when it is not armed. */
  private armedNs = Number.POSITIVE_INFINITY
  private referenced = false
  private syncQueued = false

  /**
   * `onError` gets an exception thrown by a timer's callback (the other due timers still run);
   * without it the first such exception is rethrown to the event loop once the due timers have
   * run, and reaches process 'uncaughtException' as one thrown by a setTimeout callback would.
   */
  constructor(
    private readonly onError?: (e: unknown) => void,
    addon: NativeAddon = native(),
  ) {
    this.n = addon as NativeAddon & TimerAddon
    const n = this.n
    const fd = sys(() => n.timerfdCreate())
    try {
      const poller = sys(() => new n.Poller(fd, (status) => this.expired(status)))
      sys(() => poller.start(UV_READABLE))
      // only pending timers keep the thread's loop alive, as with setTimeout
      poller.unref()
      this.poller = poller
    } catch (e) {
      sys(() => n.close(fd))
      throw e
    }
    this.fd = fd
  }

  /** Timers pending. */
  get size(): number {
    return this.heap.size
  }

  /** The queue's clock: CLOCK_MONOTONIC in ms (performance.now() plus a constant per thread). */
  now(): number {
    return this.n.monotonicNs() / NS_PER_MS
  }

  /**
   * Runs `fn` once, `ms` (fractional allowed; negative counts as 0) from now, never earlier.
   * Due timers run in deadline order, equal deadlines in the order they were set. After close()
   * a timer is accepted and never runs: the thread is ending.
   */
  set(fn: () => void, ms: number): DeadlineHandle {
    if (!Number.isFinite(ms)) throw new RangeError(`timer delay must be a finite number of ms, not ${ms}`)
    const e = this.heap.push(this.n.monotonicNs() + Math.max(0, ms) * NS_PER_MS, fn)
    if (this.fd < 0) this.heap.remove(e)
    else this.rearm()
    return e
  }

  /** Cancels a pending timer; a handle already run or cleared (or undefined) is ignored. */
  clear(h: DeadlineHandle | undefined): void {
    if (h && this.heap.remove(h)) this.rearm()
  }

  /** Drops every timer and closes the timerfd. Idempotent. */
  close(): void {
    while (this.heap.pop()) {}
    this.poller?.close()
    this.poller = undefined
    if (this.fd >= 0) {
      const fd = this.fd
      this.fd = -1
      sys(() => this.n.close(fd))
    }
  }

  /** After any change: the fd and the loop reference follow the heap at the end of this turn. */
  private rearm(): void {
    if (this.syncQueued) return
    this.syncQueued = true
    queueMicrotask(this.sync)
  }

  /**
   * The fd armed exactly at the earliest deadline (disarmed when there is none) and the loop kept
   * alive while a timer is pending. Run once per turn, so the clear-and-set of a VRRP backup that
   * hears an advert (Master_Down moves later) costs one timerfd_settime (3 µs here), and no timer
   * that was cleared wakes the thread (an empty wake-up cost ~90 µs of the thread's CPU). It runs
   * before the loop sleeps again: microtasks drain before control returns to libuv.
   */
  private readonly sync = (): void => {
    this.syncQueued = false
    if (this.fd < 0) return
    const top = this.heap.peek()
    const want = top ? top.at : Number.POSITIVE_INFINITY
    if (top && !this.referenced) this.poller?.ref()
    if (!top && this.referenced) this.poller?.unref()
    this.referenced = top !== undefined
    if (want === this.armedNs) return
    // rounded up: the fd must not expire before the deadline, or the wake-up finds nothing due
    const ns = top ? Math.max(1, Math.ceil(want)) : 0
    sys(() => this.n.timerfdSetAbs(this.fd, ns))
    this.armedNs = want
  }

  private expired(status: number): void {
    if (this.fd < 0) return
    if (status < 0) {
      // libuv keeps reporting a broken fd: stop rather than spin, and fail loudly, since no timer
      // of this queue can run any more
      this.poller?.stop()
      const err = sysError('poll', -status)
      if (this.onError) this.onError(err)
      else throw err
      return
    }
    // 0 when a re-arm already discarded the expiry behind this event: the fd is still armed then
    if (sys(() => this.n.timerfdRead(this.fd)) > 0) this.armedNs = Number.POSITIVE_INFINITY
    const now = this.n.monotonicNs()
    let failure: { e: unknown } | undefined
    // timers set by a callback for a time already past run on the next wake-up, not in this
    // pass: a callback that re-arms itself with 0 ms cannot starve the loop
    for (let e = this.heap.popDue(now); e; e = this.heap.popDue(now)) {
      try {
        e.value()
      } catch (err) {
        if (this.onError) this.onError(err)
        else failure ??= { e: err }
      }
    }
    this.rearm()
    if (failure) throw failure.e
  }
}
